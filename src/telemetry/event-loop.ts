/**
 * The bot's event-loop delay, in windows that close once per evaluation cycle. Gauges report
 * the last closed window, so a Prometheus scrape never shortens the evaluator's window (and the
 * evaluator never empties what a scrape was about to read).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

export interface LoopDelayWindow {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const NS_PER_S = 1e9;

export class EventLoopDelay {
  private readonly histogram: IntervalHistogram;
  private window: LoopDelayWindow | undefined;
  private readonly resolutionNs: number;

  /** 20 ms: 50 timer wake-ups a second, cheap enough to leave on in production. */
  constructor(resolutionMs = 20) {
    this.resolutionNs = resolutionMs * 1e6;
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /** Closes the current window and starts the next one. */
  roll(): LoopDelayWindow | undefined {
    const h = this.histogram;
    // An empty window (the first cycle right after start) keeps the previous reading.
    if (h.count > 0) {
      // The histogram records the whole interval between wake-ups; the delay is what exceeds the
      // timer's own period.
      const delay = (ns: number): number => Math.max(0, ns - this.resolutionNs) / NS_PER_S;
      this.window = { p50: delay(h.percentile(50)), p99: delay(h.percentile(99)), max: delay(h.max) };
    }
    h.reset();
    return this.window;
  }

  get last(): LoopDelayWindow | undefined {
    return this.window;
  }

  stop(): void {
    this.histogram.disable();
  }
}
