/**
 * The bot's event-loop delay, in windows that close once per evaluation cycle. Gauges report
 * the last closed window, so a Prometheus scrape never shortens the evaluator's window (and the
 * evaluator never empties what a scrape was about to read).
 *
 * Measured with an unref'd timer that notes how late it fires, not with perf_hooks'
 * monitorEventLoopDelay: that histogram forgets, on reset(), when it last woke, so a block that
 * ended just before a window closed (the cycle's timer ran before the monitor's) was dropped
 * from both windows. Here the window that closes takes whatever lateness is pending at that
 * moment, and the next tick only counts what comes after.
 */
import { createHistogram, performance } from 'node:perf_hooks';

export interface LoopDelayWindow {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

export class EventLoopDelay {
  private readonly histogram = createHistogram();
  private window: LoopDelayWindow | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the pending tick should run (performance.now(), ms). */
  private due = 0;

  /**
   * 1 s: the delay is how late this tick runs, so a stall shows whole when it is longer than the
   * period and in part (by chance, up to the period less) when shorter. Each wake-up of an
   * otherwise idle process costs CPU of its own (measured on a 2-core VM: 0.2–0.45 ms, so a 100 ms
   * tick alone took 0.2 % of a core and perf_hooks' usual 10–20 ms would take 1 %), and the tick
   * was the plugin's one timer that woke the bot on its own: at 500 ms it cost about 0.09 % of a
   * core. A second is what the evaluation needs — 30 readings per default cycle, and the lag alert
   * (p99 over 100 ms for 5 minutes) is about a loop that stays slow, which every tick sees.
   */
  constructor(private readonly resolutionMs = 1_000) {
    this.schedule(performance.now());
  }

  private schedule(from: number): void {
    this.due = from + this.resolutionMs;
    this.timer = setTimeout(this.tick, this.resolutionMs);
    this.timer.unref(); // never what keeps the bot alive
  }

  private readonly tick = (): void => {
    const now = performance.now();
    this.record(now - this.due);
    this.schedule(now);
  };

  private record(lateMs: number): void {
    // A histogram takes integers ≥ 1: an on-time tick counts as 1 ns late.
    this.histogram.record(Math.max(1, Math.round(lateMs * NS_PER_MS)));
  }

  /** Closes the current window and starts the next one. */
  roll(): LoopDelayWindow | undefined {
    const now = performance.now();
    // A tick overdue right now (the loop was blocked and this cycle ran first) belongs to the
    // window that is closing; the tick itself, when it runs, counts only from here.
    if (now > this.due) {
      this.record(now - this.due);
      this.due = now;
    }
    const h = this.histogram;
    // An empty window (the first cycle right after start) keeps the previous reading.
    if (h.count > 0) {
      const seconds = (ns: number): number => (ns <= 1 ? 0 : ns / NS_PER_S);
      this.window = { p50: seconds(h.percentile(50)), p99: seconds(h.percentile(99)), max: seconds(h.max) };
    }
    h.reset();
    return this.window;
  }

  get last(): LoopDelayWindow | undefined {
    return this.window;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
