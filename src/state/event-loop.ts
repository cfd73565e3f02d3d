/**
 * The bot's event-loop delay, in windows that close once per evaluation cycle. Gauges report
 * the last closed window, so a Prometheus scrape never shortens the evaluator's window (and the
 * evaluator never empties what a scrape was about to read).
 *
 * Sampled by Node's own timer (perf_hooks' monitorEventLoopDelay, once a second), not by a
 * JavaScript timer. Both wake an idle bot, but a wake-up that runs JavaScript costs the bot's loop
 * more: side by side with the same unmonitored demo bot, a 1 s JavaScript timer (even an empty
 * one) raised the p95 event-loop delay a 10 ms monitor of the bot's own reads by 2–3 of that
 * histogram's 8 µs steps, and Node's 1 s timer by 0–1. Node's wake-up costs about 60 µs of CPU,
 * one that runs JavaScript 110–170 µs (docs/benchmarks.md).
 *
 * Node's histogram counts the interval between two of its wake-ups, and reset() forgets when it
 * last woke: the interval in progress when a window closes would be recorded nowhere, and with
 * it a stall that ended just before the close (the cycle's timer ran before the monitor's). So
 * each window has a monitor of its own, started when the previous window closes, and the previous
 * one runs on for two periods and a half — past its own next wake-up and the new one's first,
 * which records nothing — then one JavaScript timer (once per window) retires it: what it recorded
 * after its window closed counts in the new window. A stall is counted once, in the window in
 * which its end is seen; a second JavaScript timer, once at start, covers the first period, which
 * has no monitor before it, and a monitor that has recorded nothing by its window's close (the
 * first two cycles, a second apart) stays the open window's.
 *
 * Readings are whole intervals less the period: they resolve what Node's histogram resolves at
 * one second, about half a millisecond, and a loop that is never late reads about 1 ms (libuv
 * counts its timers in whole milliseconds).
 */
import { monitorEventLoopDelay, performance, type ELDHistogram } from 'node:perf_hooks';

export interface LoopDelayWindow {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

interface Monitor {
  readonly histogram: ELDHistogram;
  /** When its window closed: how many intervals it had recorded, their sum, longest and median (ns). */
  countAtClose: number;
  sumAtClose: number;
  maxAtClose: number;
  p50AtClose: number;
}

/** A monitor is retired this many periods after its window closed. */
const OVERLAP_PERIODS = 2.5;
/** Up to this many readings, a window's p99 is its maximum (HdrHistogram's p99 is the reading at 0.99 n, rounded), so a carried reading counts in both. */
const P99_IS_MAX_UP_TO = 50;

export class EventLoopDelay {
  private readonly resolutionMs: number;
  private window: LoopDelayWindow | undefined;
  /** Samples the open window. */
  private current: Monitor | undefined;
  /** The closed window's monitor, until retired: it alone sees the interval that spanned the close. */
  private previous: Monitor | undefined;
  private retiring: NodeJS.Timeout | undefined;
  private retiringNow: NodeJS.Immediate | undefined;
  private firstPeriod: NodeJS.Timeout | undefined;
  /** Readings (s late) taken outside the open window's monitor, for the open window. */
  private carried: number | undefined;

  /**
   * 1 s: the delay is how late Node's timer wakes, so a stall shows whole when it is longer than
   * the period and in part (by chance, up to the period less) when shorter. A second is what the
   * evaluation needs — 30 readings per default cycle, and the lag alert (p99 over 100 ms for 5
   * minutes) is about a loop that stays slow, which every reading sees.
   */
  constructor(resolutionMs = 1_000) {
    this.resolutionMs = resolutionMs;
    this.current = this.start();
    // Node's first wake-up records nothing: a block in the bot's first period (its own start-up
    // work) would be seen by no monitor. This timer's lateness is that period's one reading.
    const due = performance.now() + resolutionMs;
    this.firstPeriod = setTimeout(() => {
      this.firstPeriod = undefined;
      this.carry(Math.max(0, performance.now() - due) / 1000);
    }, resolutionMs);
    this.firstPeriod.unref();
  }

  private start(): Monitor {
    // Node's timer is unref'd: it never keeps the bot alive.
    const histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    histogram.enable();
    return { histogram, countAtClose: 0, sumAtClose: 0, maxAtClose: 0, p50AtClose: 0 };
  }

  private late(intervalNs: number): number {
    return Math.max(0, intervalNs - this.resolutionMs * NS_PER_MS) / NS_PER_S;
  }

  private carry(seconds: number): void {
    this.carried = Math.max(this.carried ?? 0, seconds);
  }

  /**
   * Stops the closed window's monitor and carries what it recorded since the close: its longest
   * interval when that is longer than any before the close, else — a stall shorter than the
   * window's longest, its intervals all below that maximum — their total lateness, less a usual
   * interval's (the window's median) for each but one.
   */
  private readonly retire = (): void => {
    clearTimeout(this.retiring);
    clearImmediate(this.retiringNow);
    this.retiring = undefined;
    this.retiringNow = undefined;
    const m = this.previous;
    if (!m) return;
    this.previous = undefined;
    const h = m.histogram;
    h.disable();
    const n = h.count - m.countAtClose;
    if (n <= 0) return;
    if (h.max > m.maxAtClose) {
      this.carry(this.late(h.max));
      return;
    }
    const sumOfLate = h.mean * h.count - m.sumAtClose - n * this.resolutionMs * NS_PER_MS;
    // No longer than its longest before the close: none of these intervals was longer.
    this.carry(Math.min(Math.max(0, sumOfLate - (n - 1) * m.p50AtClose) / NS_PER_S, this.late(m.maxAtClose)));
  };

  /** Closes the current window and starts the next one. */
  roll(): LoopDelayWindow | undefined {
    const closing = this.current;
    if (!closing) return this.window;
    // Cycles closer together than the overlap (forced ones): the monitor before is retired now.
    this.retire();
    const h = closing.histogram;
    const n = h.count;
    const carried = this.carried;
    this.carried = undefined;
    if (n === 0) {
      // Its first wake-up is still to come (the first two cycles, a second apart): it stays the
      // open window's monitor, so no window's start falls in an interval no monitor records.
      if (carried !== undefined) this.window = { p50: carried, p99: carried, max: carried };
      return this.window;
    }
    const c = carried ?? 0;
    const p99 = this.late(h.percentile(99));
    this.window = {
      p50: this.late(h.percentile(50)),
      p99: n + 1 <= P99_IS_MAX_UP_TO ? Math.max(p99, c) : p99,
      max: Math.max(this.late(h.max), c),
    };
    closing.countAtClose = n;
    closing.sumAtClose = h.mean * n;
    closing.maxAtClose = h.max;
    closing.p50AtClose = Math.max(0, h.percentile(50) - this.resolutionMs * NS_PER_MS);
    this.previous = closing;
    // Retired after every timer that fell due with it has run (a stall delays Node's wake-up and
    // this timer alike, and the bot's timers can put this one first): in the check phase.
    this.retiring = setTimeout(() => {
      this.retiring = undefined;
      this.retiringNow = setImmediate(this.retire);
      this.retiringNow.unref();
    }, OVERLAP_PERIODS * this.resolutionMs);
    this.retiring.unref();
    this.current = this.start();
    return this.window;
  }

  get last(): LoopDelayWindow | undefined {
    return this.window;
  }

  stop(): void {
    clearTimeout(this.firstPeriod);
    clearTimeout(this.retiring);
    clearImmediate(this.retiringNow);
    this.current?.histogram.disable();
    this.previous?.histogram.disable();
    this.current = undefined;
    this.previous = undefined;
  }
}
