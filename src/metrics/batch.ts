/**
 * Measurements taken on the bot's call, handed to the instruments together when a collection starts
 * (instruments are only ever read by a collection, so no reader can tell). A record (attribute
 * hashing, series lookup) costs microseconds when it runs cold, and once per scan
 * inside the bot's burst of scans it lengthened every burst; in a batch it runs hot, at a scrape.
 * Each pending measurement is three array slots, no object, and the batch needs no timer of its
 * own: a collection comes at least once per evaluation cycle (30 s by default).
 *
 * Should that be late (a long cycle, a busy bot), the batch is handed over on the next turn of the
 * loop once `limit` wait — not inside the call that reached it: a flush of thousands of records
 * is a stall of a millisecond or more, which the bot's own call must never carry. Only a bot that
 * never yields, and so never lets that turn come, has its batch handed over on its call, at
 * `hardLimit`, which bounds the memory.
 *
 * A counter's measurements (`add`) are summed per attributes object while they wait: the counter
 * would only add them up itself, one attribute hash per call, inside the collection's stall.
 * 25 API calls a second make 125 records per 5 s scrape; summed, they are one call per series.
 */
import type { Attributes } from '@opentelemetry/api';

export type Sink = (value: number, attributes: Attributes) => void;

/** At 50 measurements a second (20 scans, 5 trades, 25 API calls) a 30 s cycle leaves 1 500. */
const DEFAULT_LIMIT = 5_000;

export class MeasurementBatch {
  private readonly sinks: Sink[] = [];
  private readonly values: number[] = [];
  private readonly attributes: Attributes[] = [];
  /** Per counter sink, per attributes object (the callers reuse one per series): the sum waiting. */
  private readonly sums = new Map<Sink, Map<Attributes, number>>();
  private scheduled = false;

  constructor(
    private readonly onError: (error: unknown) => void,
    /** This many pending: handed over on the next turn of the loop. */
    private readonly limit = DEFAULT_LIMIT,
    /** This many pending (the loop has not turned since `limit`): handed over at once. */
    private readonly hardLimit = 4 * limit,
  ) {}

  get pending(): number {
    return this.values.length;
  }

  push(sink: Sink, value: number, attributes: Attributes): void {
    this.sinks.push(sink);
    this.values.push(value);
    this.attributes.push(attributes);
    const n = this.values.length;
    if (n < this.limit) return;
    if (n >= this.hardLimit) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      // Unref'd: a pending hand-over never keeps the bot alive (shutdown flushes what is left).
      setImmediate(this.flush).unref();
    }
  }

  /**
   * A counter's measurement: summed with the others of the same sink and attributes object until
   * the hand-over. Holds no more entries than there are series, so it never reaches the limit.
   */
  add(sink: Sink, value: number, attributes: Attributes): void {
    let bySeries = this.sums.get(sink);
    if (!bySeries) this.sums.set(sink, (bySeries = new Map()));
    bySeries.set(attributes, (bySeries.get(attributes) ?? 0) + value);
  }

  /** Hands every pending measurement to its sink now. */
  readonly flush = (): void => {
    this.scheduled = false;
    const { sinks, values, attributes } = this;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      try {
        sinks[i]!(values[i]!, attributes[i]!);
      } catch (error) {
        this.onError(error);
      }
    }
    sinks.length = 0;
    values.length = 0;
    attributes.length = 0;
    for (const [sink, bySeries] of this.sums) {
      for (const [series, sum] of bySeries) {
        try {
          sink(sum, series);
        } catch (error) {
          this.onError(error);
        }
      }
      // Kept, emptied: the same few series come back every cycle.
      bySeries.clear();
    }
  };
}
