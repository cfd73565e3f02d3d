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
 * one runs on through the next window: whatever it records after its own window closed, above
 * what it had recorded by then (the interval that spanned the close), counts in the next window.
 * A stall is counted once, in the window in which its end is seen. So two of Node's timers run
 * at a time, each waking the bot once a second.
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
  /** The longest interval it had recorded when its window closed (ns). */
  maxAtClose: number;
}

export class EventLoopDelay {
  private readonly resolutionMs: number;
  private window: LoopDelayWindow | undefined;
  /** Samples the open window. */
  private current: Monitor | undefined;
  /** The closed window's monitor, still running: it alone sees the interval that spanned the close. */
  private previous: Monitor | undefined;
  /** How late (s) the one check of the first period ran, until a window takes it. */
  private firstPeriodLate = 0;
  private firstPeriod: NodeJS.Timeout | undefined;

  /**
   * 1 s: the delay is how late Node's timer wakes, so a stall shows whole when it is longer than
   * the period and in part (by chance, up to the period less) when shorter. A second is what the
   * evaluation needs — 30 readings per default cycle, and the lag alert (p99 over 100 ms for 5
   * minutes) is about a loop that stays slow, which every reading sees.
   */
  constructor(resolutionMs = 1_000) {
    this.resolutionMs = resolutionMs;
    this.current = this.start();
    // The first monitor's first interval has no monitor before it, and Node's records nothing
    // until its second wake-up: a block in the bot's first second (its own start-up work) would
    // be seen by none. One JavaScript timer, once, covers that period.
    const due = performance.now() + resolutionMs;
    this.firstPeriod = setTimeout(() => {
      this.firstPeriod = undefined;
      this.firstPeriodLate = Math.max(0, performance.now() - due) / 1000;
    }, resolutionMs);
    this.firstPeriod.unref();
  }

  private start(): Monitor {
    // Node's timer is unref'd: it never keeps the bot alive.
    const histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    histogram.enable();
    return { histogram, maxAtClose: 0 };
  }

  /** Closes the current window and starts the next one. */
  roll(): LoopDelayWindow | undefined {
    const closing = this.current;
    if (!closing) return this.window;
    const period = this.resolutionMs * NS_PER_MS;
    const late = (intervalNs: number): number => Math.max(0, intervalNs - period) / NS_PER_S;
    const h = closing.histogram;
    const prev = this.previous?.histogram;
    // What the monitor before recorded since its window closed, if it went beyond what it had then.
    const carried = Math.max(prev && prev.max > this.previous!.maxAtClose ? late(prev.max) : 0, this.firstPeriodLate);
    this.firstPeriodLate = 0;
    // An empty window (the first cycle right after start) keeps the previous reading.
    if (h.count > 0 || carried > 0) {
      const p50 = h.count > 0 ? late(h.percentile(50)) : carried;
      const p99 = Math.max(h.count > 0 ? late(h.percentile(99)) : 0, carried);
      const max = Math.max(h.count > 0 ? late(h.max) : 0, carried);
      this.window = { p50, p99, max };
    }
    prev?.disable();
    closing.maxAtClose = h.count > 0 ? h.max : 0;
    this.previous = closing;
    this.current = this.start();
    return this.window;
  }

  get last(): LoopDelayWindow | undefined {
    return this.window;
  }

  stop(): void {
    clearTimeout(this.firstPeriod);
    this.current?.histogram.disable();
    this.previous?.histogram.disable();
    this.current = undefined;
    this.previous = undefined;
  }
}
