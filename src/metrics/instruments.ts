/**
 * Turns the catalog into OTel instruments. Gauges are observable and only read state that the
 * evaluation cycle or the subscribers keep: observable callbacks run on every collection of
 * every reader (each Prometheus scrape included), so they must stay cheap and side-effect free.
 */
import type { Attributes, Counter, Histogram, Meter, Observable, ObservableResult } from '@opentelemetry/api';
import { METRICS, type MetricDef, type MetricKey } from './catalog.js';

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

export function createInstruments(
  meter: Meter,
  gauges: Readonly<Record<GaugeKey, GaugeReader>>,
  onGaugeError: (name: string, error: unknown) => void,
  /** Runs as each collection starts, before the instruments are read (measurements still pending). */
  beforeCollect?: () => void,
): Instruments {
  const counters = {} as Record<CounterKey, Counter>;
  const histograms = {} as Record<HistogramKey, Histogram>;
  const observables: Observable[] = [];

  for (const [key, def] of Object.entries(METRICS) as [MetricKey, MetricDef][]) {
    const options = { description: def.help, unit: def.unit };
    switch (def.type) {
      case 'counter': {
        const counter = meter.createCounter(def.name, options);
        for (const labels of initialLabelSets(def)) counter.add(0, labels);
        counters[key as CounterKey] = counter;
        break;
      }
      case 'histogram': {
        histograms[key as HistogramKey] = meter.createHistogram(def.name, {
          ...options,
          advice: { explicitBucketBoundaries: [...(def.buckets ?? [])] },
        });
        break;
      }
      case 'gauge': {
        const read = gauges[key as GaugeKey];
        const gauge = meter.createObservableGauge(def.name, options);
        observables.push(gauge);
        gauge.addCallback((result: ObservableResult) => {
          try {
            read((value, attributes) => {
              // A NaN or infinite reading would poison every PromQL expression over the series.
              if (Number.isFinite(value)) result.observe(value, attributes);
            });
          } catch (error) {
            onGaugeError(def.name, error);
          }
        });
        break;
      }
    }
  }
  // The SDK runs every observable callback before it reads any instrument of the meter.
  if (beforeCollect) meter.addBatchObservableCallback(() => beforeCollect(), observables);
  return { counters, histograms };
}
