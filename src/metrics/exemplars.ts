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
import { seriesKey } from './readings.js';

export interface Exemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  /** When it was measured, ms since the epoch. */
  readonly timeMs: number;
}

/** A series' key (./readings.ts), kept per attributes object: the subscribers hand over one frozen object per series. */
const seriesKeys = new WeakMap<Attributes, string>();
function keyOf(attributes: Attributes): string {
  let key = seriesKeys.get(attributes);
  if (key === undefined) seriesKeys.set(attributes, (key = seriesKey(attributes)));
  return key;
}

/** The span context when it is sampled (its trace is exported, so a link to it leads somewhere), else undefined. */
export function sampledSpan(span: SpanContext | undefined): SpanContext | undefined {
  return span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0 ? span : undefined;
}

/** One series' slots (one per bucket, +Inf last), and what was last handed out of them. */
interface SeriesSlots {
  readonly slots: (Exemplar | undefined)[];
  /** A copy made at the first read after an offer: the same array until the next offer. */
  view: readonly (Exemplar | undefined)[] | undefined;
}

export class Exemplars {
  /** Per instrument name: its bucket boundaries, and its series' slots. */
  private readonly histograms = new Map<string, { boundaries: readonly number[]; series: Map<string, SeriesSlots> }>();

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
    const key = keyOf(attributes);
    let series = histogram.series.get(key);
    if (series === undefined) histogram.series.set(key, (series = { slots: new Array<Exemplar | undefined>(boundaries.length + 1), view: undefined }));
    series.slots[bucket] = { traceId: span.traceId, spanId: span.spanId, value, timeMs };
    series.view = undefined;
  }

  /**
   * The exemplars of one series, by bucket index (the last is +Inf), or undefined: the same array
   * until an offer changes them (the exposition keeps a series' lines while it is), copied here, at
   * a collection, rather than at each offer on the bot's call.
   */
  of(instrument: string, attributes: Attributes): readonly (Exemplar | undefined)[] | undefined {
    const series = this.histograms.get(instrument)?.series.get(keyOf(attributes));
    if (series === undefined) return undefined;
    return (series.view ??= [...series.slots]);
  }
}
