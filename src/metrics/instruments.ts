/**
 * Turns the catalog into OTel instruments (counters, histograms) and the gauges into a
 * MetricProducer (./readings.ts: as observable gauges they had cost 28 % of a collection). Each
 * gauge reads state that the evaluation cycle or the subscribers keep; they run on every
 * collection (each Prometheus scrape included), so they must stay cheap and side-effect free.
 */
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { DataPoint, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { METRICS, type MetricDef, type MetricKey } from './catalog.js';
import { NO_ATTRIBUTES, readingData, readingDescriptor, readingTime, readingsProducer } from './readings.js';

type KeysOfType<T extends MetricDef['type']> = {
  [K in MetricKey]: (typeof METRICS)[K]['type'] extends T ? K : never;
}[MetricKey];

export type CounterKey = KeysOfType<'counter'>;
export type GaugeKey = KeysOfType<'gauge'>;
export type HistogramKey = KeysOfType<'histogram'>;

/** Reports the current value(s) of one gauge; `observe` may be called once per label set. */
export type GaugeReader = (observe: (value: number, attributes?: Attributes) => void) => void;

export interface Instruments {
  readonly counters: Readonly<Record<CounterKey, Counter>>;
  readonly histograms: Readonly<Record<HistogramKey, Histogram>>;
}

/**
 * The label sets a counter starts at 0 with: every combination of its initial label values, e.g.
 * {status: [a, b]} → [{status: a}, {status: b}]; [{}] for a counter without labels; none for a
 * counter whose label values are only known at run time (they are started when first seen).
 */
export function initialLabelSets(def: MetricDef): Attributes[] {
  if (def.labels.length > 0 && def.initial === undefined) return [];
  let sets: Attributes[] = [{}];
  for (const [label, values] of Object.entries(def.initial ?? {})) {
    sets = sets.flatMap((set) => values.map((value) => ({ ...set, [label]: value })));
  }
  return sets;
}

export function createInstruments(meter: Meter): Instruments {
  const counters = {} as Record<CounterKey, Counter>;
  const histograms = {} as Record<HistogramKey, Histogram>;
  for (const [key, def] of Object.entries(METRICS) as [MetricKey, MetricDef][]) {
    const options = { description: def.help, unit: def.unit };
    if (def.type === 'counter') {
      const counter = meter.createCounter(def.name, options);
      for (const labels of initialLabelSets(def)) counter.add(0, labels);
      counters[key as CounterKey] = counter;
    } else if (def.type === 'histogram') {
      histograms[key as HistogramKey] = meter.createHistogram(def.name, {
        ...options,
        advice: { explicitBucketBoundaries: [...(def.buckets ?? [])] },
      });
    }
  }
  return { counters, histograms };
}

/**
 * The most series one instrument or gauge of the plugin holds: a safety net under the bounded label
 * sets, whatever a bot publishes (an instrument's excess is folded into one overflow series, as the
 * SDK folds it: ./kept.ts; a gauge's excess readings are left out).
 */
export const MAX_SERIES_PER_INSTRUMENT = 200;

export interface GaugeProducerOptions {
  /** The plugin's instrumentation scope: the gauges are its series, beside its counters and histograms. */
  readonly scope: { readonly name: string; readonly version?: string };
  readonly gauges: Readonly<Record<GaugeKey, GaugeReader>>;
  readonly onGaugeError: (name: string, error: unknown) => void;
}

/** The catalog's gauges as a MetricProducer, given to every reader of the plugin. */
export function createGaugeProducer({ scope, gauges, onGaugeError }: GaugeProducerOptions): MetricProducer {
  const read = Object.entries(METRICS)
    .filter(([, def]) => def.type === 'gauge')
    .map(([key, def]) => {
      // One descriptor and one attributes object per series, the same at every collection, as the
      // SDK's are: the exposition keeps its text by them.
      const descriptor = readingDescriptor(def.name, def.unit, def.help);
      const series = new Map<string, Attributes>();
      const attributesOf = (attributes: Attributes | undefined): Attributes | undefined => {
        if (attributes === undefined) return NO_ATTRIBUTES;
        const key = def.labels.map((label) => String(attributes[label] ?? '')).join('\u0000');
        let kept = series.get(key);
        if (kept === undefined) {
          if (series.size >= MAX_SERIES_PER_INSTRUMENT) return undefined;
          series.set(key, (kept = attributes));
        }
        return kept;
      };
      const reader = gauges[key as GaugeKey];
      return (endTime: DataPoint<number>['endTime']): MetricData | undefined => {
        const dataPoints: DataPoint<number>[] = [];
        try {
          reader((value, attributes) => {
            // A NaN or infinite reading would poison every PromQL expression over the series.
            if (!Number.isFinite(value)) return;
            const kept = attributesOf(attributes);
            if (kept !== undefined) dataPoints.push({ startTime: endTime, endTime, attributes: kept, value });
          });
        } catch (error) {
          onGaugeError(def.name, error);
          return undefined;
        }
        return readingData(descriptor, 'gauge', dataPoints);
      };
    });
  return readingsProducer(scope, () => {
    const endTime = readingTime();
    const metrics: MetricData[] = [];
    for (const gauge of read) {
      const metric = gauge(endTime);
      if (metric !== undefined) metrics.push(metric);
    }
    return metrics;
  });
}

