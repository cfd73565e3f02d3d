/**
 * Exemplars for the scan and trade latency histograms: per series and bucket, the last
 * measurement taken inside a sampled span, with its trace and span ids, so a slow bucket on a
 * dashboard leads to the trace of one operation that landed in it. The OpenTelemetry JS SDK
 * keeps no exemplars, so the plugin keeps them beside it and the OpenMetrics exposition
 * (./exposition.ts) writes them on the bucket lines.
 *
 * Bounded by construction: one slot per bucket of each series, and the series are the
 * histogram's own (bounded label sets). Offering costs a bucket search and one small object,
 * only for a measurement with a sampled span — none at all while no trace is exported.
 */
import { TraceFlags, type Attributes, type SpanContext } from '@opentelemetry/api';

export interface Exemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  /** When it was measured, ms since the epoch. */
  readonly timeMs: number;
}

/** A series' identity whatever attributes object carries it: names and values, sorted. */
const seriesKeys = new WeakMap<Attributes, string>();
export function seriesKey(attributes: Attributes): string {
  let key = seriesKeys.get(attributes);
  if (key === undefined) {
    key = Object.keys(attributes)
      .sort()
      .map((name) => `${name}\u0000${String(attributes[name])}`)
      .join('\u0001');
    seriesKeys.set(attributes, key);
  }
  return key;
}

/** The span context when it is sampled (its trace is exported, so a link to it leads somewhere), else undefined. */
export function sampledSpan(span: SpanContext | undefined): SpanContext | undefined {
  return span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0 ? span : undefined;
}

export class Exemplars {
  /** Per instrument name: its bucket boundaries, and per series the slots (one per bucket, +Inf last). */
  private readonly histograms = new Map<string, { boundaries: readonly number[]; series: Map<string, (Exemplar | undefined)[]> }>();

  constructor(histograms: Readonly<Record<string, readonly number[]>>) {
    for (const [name, boundaries] of Object.entries(histograms)) this.histograms.set(name, { boundaries, series: new Map() });
  }

  /** Keeps the measurement as its bucket's exemplar (the caller passes only sampled spans: sampledSpan). */
  offer(instrument: string, attributes: Attributes, value: number, span: SpanContext, timeMs: number): void {
    const histogram = this.histograms.get(instrument);
    if (histogram === undefined || !Number.isFinite(value)) return;
    const { boundaries } = histogram;
    // The SDK's bucketing: a value equal to a boundary belongs to that boundary's bucket.
    let bucket = 0;
    while (bucket < boundaries.length && value > boundaries[bucket]!) bucket++;
    const key = seriesKey(attributes);
    // A new array at each offer, never one changed in place: the exposition keeps a series' lines
    // while the array it was written from is the same one (one array of a few slots per measurement
    // in a sampled span; none while no trace is exported).
    const before = histogram.series.get(key);
    const slots = before === undefined ? new Array<Exemplar | undefined>(boundaries.length + 1) : [...before];
    slots[bucket] = { traceId: span.traceId, spanId: span.spanId, value, timeMs };
    histogram.series.set(key, slots);
  }

  /** The exemplars of one series, by bucket index (the last is +Inf), or undefined; the same array until the next offer. */
  of(instrument: string, attributes: Attributes): readonly (Exemplar | undefined)[] | undefined {
    return this.histograms.get(instrument)?.series.get(seriesKey(attributes));
  }
}
