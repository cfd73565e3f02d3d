/**
 * Measurements taken on the bot's call, handed to the SDK together when a collection starts
 * (instruments are only ever read by a collection, so no reader can tell), or at once when many
 * are waiting. The SDK's record path (attribute hashing, storage lookup) costs microseconds when
 * it runs cold, and once per scan inside the bot's burst of scans it lengthened every burst; in a
 * batch it runs hot, at a scrape. Each pending measurement is three array slots, no object, and
 * the batch needs no timer of its own.
 */
import type { Attributes } from '@opentelemetry/api';

export type Sink = (value: number, attributes: Attributes) => void;

export class MeasurementBatch {
  private readonly sinks: Sink[] = [];
  private readonly values: number[] = [];
  private readonly attributes: Attributes[] = [];

  constructor(
    private readonly onError: (error: unknown) => void,
    /** Beyond this many pending, the batch is handed over at once (a bot in a tight loop). */
    private readonly limit = 1_000,
  ) {}

  get pending(): number {
    return this.values.length;
  }

  push(sink: Sink, value: number, attributes: Attributes): void {
    this.sinks.push(sink);
    this.values.push(value);
    this.attributes.push(attributes);
    if (this.values.length >= this.limit) this.flush();
  }

  /** Hands every pending measurement to its sink now. */
  readonly flush = (): void => {
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
  };
}
