/**
 * The plugin's counters and histograms, kept by the plugin and handed to each reader as a
 * MetricProducer (./readings.ts), as its gauges are, instead of through the SDK's aggregation.
 *
 * Through the SDK, every collection of every reader went through each series of each instrument:
 * the delta swapped out, merged into the cumulative state (a fresh accumulation per series, the
 * bucket arrays copied), stashed for the other readers, then turned into points — about 100 KB of
 * garbage per scrape, in code that runs once a scrape and so stays in V8's unoptimised tiers for
 * minutes to hours (docs/benchmarks.md, "Where the rest of a scrape goes"). Here a series is a few
 * numbers updated in place as measurements arrive; a collection copies a histogram's buckets only
 * when the series changed since that reader's last collection, and otherwise hands over the same
 * value object again (which the exposition recognises and does not write again).
 *
 * What a reader gets is what the SDK made of the same measurements: a counter is a monotonic sum,
 * a histogram explicit buckets (a value equal to a boundary counts in that boundary's bucket) with
 * sum, count, min and max, cumulative from the series' first measurement — or, for a reader whose
 * exporter asks for delta (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta), the change
 * since that reader's last collection, for the series that changed (without min and max, which a
 * difference of two cumulative states cannot give). Negative and non-finite values are dropped (the
 * SDK drops negatives with a warning; a NaN would poison the sum). Beyond the cardinality limit, a
 * new label set is counted in the one overflow series `otel.metric.overflow="true"`, as the SDK does.
 */
import { ValueType, createNoopMeter, diag, type Attributes, type Counter, type Histogram, type Meter, type MetricOptions } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type DataPoint,
  type Histogram as HistogramValue,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { NO_ATTRIBUTES, readingTime, scopesProducer } from './readings.js';

type Time = DataPoint<number>['endTime'];

/** The SDK's default buckets, for a histogram created without advice. */
const DEFAULT_BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/** The attributes of the series that counts every label set beyond the cardinality limit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

interface Series {
  readonly attributes: Attributes;
  readonly startTime: Time;
  /** Bumped at each measurement: a reader whose last look saw this version has nothing new. */
  version: number;
}
interface CounterSeries extends Series {
  value: number;
}
interface HistogramSeries extends Series {
  readonly counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

/** A key for an attributes object that does not depend on the order of its keys. */
function seriesKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length > 1) keys.sort();
  let key = '';
  for (const name of keys) key += `${name}\u0000${String(attributes[name])}\u0001`;
  return key;
}

abstract class KeptInstrument<S extends Series> {
  readonly series = new Map<string, S>();

  constructor(
    readonly descriptor: MetricDescriptor,
    readonly instrumentType: InstrumentType,
    private readonly cardinalityLimit: number,
  ) {}

  protected abstract create(attributes: Attributes, startTime: Time): S;

  /** The series of these attributes, made at its first measurement; the overflow series beyond the limit. */
  protected seriesOf(attributes: Attributes | undefined): S {
    const key = attributes === undefined ? '' : seriesKey(attributes);
    let series = this.series.get(key);
    if (series === undefined) {
      // As the SDK's limit: one place of the limit is the overflow series'.
      if (this.series.size >= this.cardinalityLimit - 1) {
        const overflowKey = seriesKey(OVERFLOW_ATTRIBUTES);
        series = this.series.get(overflowKey);
        if (series === undefined) this.series.set(overflowKey, (series = this.create(OVERFLOW_ATTRIBUTES, readingTime())));
        return series;
      }
      // A copy: the caller may reuse or change its object after the measurement.
      this.series.set(key, (series = this.create(key === '' ? NO_ATTRIBUTES : Object.freeze({ ...attributes }), readingTime())));
    }
    return series;
  }

  protected accepts(value: number, kind: string): boolean {
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
    if (value < 0) {
      diag.warn(`negative value provided to ${kind} ${this.descriptor.name}: ${value}`);
      return false;
    }
    return true;
  }
}

class KeptCounter extends KeptInstrument<CounterSeries> implements Counter {
  protected create(attributes: Attributes, startTime: Time): CounterSeries {
    return { attributes, startTime, version: 0, value: 0 };
  }

  add(value: number, attributes?: Attributes): void {
    if (!this.accepts(value, 'counter')) return;
    const series = this.seriesOf(attributes);
    series.value += value;
    series.version += 1;
  }
}

class KeptHistogram extends KeptInstrument<HistogramSeries> implements Histogram {
  constructor(
    descriptor: MetricDescriptor,
    cardinalityLimit: number,
    readonly boundaries: readonly number[],
  ) {
    super(descriptor, InstrumentType.HISTOGRAM, cardinalityLimit);
  }

  protected create(attributes: Attributes, startTime: Time): HistogramSeries {
    return { attributes, startTime, version: 0, counts: new Array<number>(this.boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity };
  }

  record(value: number, attributes?: Attributes): void {
    if (!this.accepts(value, 'histogram')) return;
    const series = this.seriesOf(attributes);
    const { boundaries } = this;
    let bucket = 0;
    while (bucket < boundaries.length && boundaries[bucket]! < value) bucket += 1;
    series.counts[bucket]! += 1;
    series.sum += value;
    series.count += 1;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
    series.version += 1;
  }
}

/** What one reader was last given of a series. */
interface Given {
  version: number;
  /** A cumulative reader's last point value, handed over again while the series has not changed. */
  value: number | HistogramValue;
  /**
   * A delta reader's: the cumulative state it last reported a difference from — a histogram's
   * buckets, sum and count; a counter's total as `sum`.
   */
  counts?: readonly number[];
  sum: number;
  count: number;
}

export interface KeptMeter {
  /** An API Meter: counters and histograms are kept here; any other instrument records nothing. */
  readonly meter: Meter;
  /** A producer for one reader (see HostReadings.producer: a delta reader needs its own). */
  producer(temporality?: (type: InstrumentType) => AggregationTemporality): MetricProducer;
}

export interface KeptMeterOptions {
  readonly scope: ScopeMetrics['scope'];
  /** The most series per instrument, the overflow series included. */
  readonly cardinalityLimit: number;
  /** Run before each collection reads the series (the measurement batch's hand-over). */
  readonly beforeCollect?: () => void;
  readonly onError?: (error: unknown) => void;
}

export function createKeptMeter({ scope, cardinalityLimit, beforeCollect, onError = () => {} }: KeptMeterOptions): KeptMeter {
  const instruments: (KeptCounter | KeptHistogram)[] = [];
  const noop = createNoopMeter();
  const descriptorOf = (name: string, options: MetricOptions = {}): MetricDescriptor => ({
    name,
    description: options.description ?? '',
    unit: options.unit ?? '',
    valueType: options.valueType ?? ValueType.DOUBLE,
  });
  // As the SDK does, an instrument asked for again by name (any case) is the one already made.
  const existing = <T extends KeptCounter | KeptHistogram>(name: string, kind: new (...args: never[]) => T): T | undefined =>
    instruments.find((instrument): instrument is T => instrument instanceof kind && instrument.descriptor.name.toLowerCase() === name.toLowerCase());
  const meter: Meter = {
    createCounter: (name, options) => {
      let counter = existing(name, KeptCounter);
      if (counter === undefined) instruments.push((counter = new KeptCounter(descriptorOf(name, options), InstrumentType.COUNTER, cardinalityLimit)));
      return counter;
    },
    createHistogram: (name, options) => {
      let histogram = existing(name, KeptHistogram);
      if (histogram === undefined) {
        const boundaries = options?.advice?.explicitBucketBoundaries ?? DEFAULT_BOUNDARIES;
        instruments.push((histogram = new KeptHistogram(descriptorOf(name, options), cardinalityLimit, [...boundaries])));
      }
      return histogram as never;
    },
    createGauge: (name, options) => noop.createGauge(name, options),
    createUpDownCounter: (name, options) => noop.createUpDownCounter(name, options),
    createObservableGauge: (name, options) => noop.createObservableGauge(name, options),
    createObservableCounter: (name, options) => noop.createObservableCounter(name, options),
    createObservableUpDownCounter: (name, options) => noop.createObservableUpDownCounter(name, options),
    addBatchObservableCallback: () => {},
    removeBatchObservableCallback: () => {},
  };

  const producer = (temporality: (type: InstrumentType) => AggregationTemporality = () => AggregationTemporality.CUMULATIVE): MetricProducer => {
    const given = new WeakMap<Series, Given>();
    let lastTime: Time | undefined;

    const cumulativePoints = (instrument: KeptCounter | KeptHistogram, endTime: Time): DataPoint<number | HistogramValue>[] => {
      const points: DataPoint<number | HistogramValue>[] = [];
      for (const series of instrument.series.values()) {
        let last = given.get(series);
        if (last === undefined || last.version !== series.version) {
          const value = 'counts' in series ? { buckets: { boundaries: (instrument as KeptHistogram).boundaries as number[], counts: [...series.counts] }, sum: series.sum, count: series.count, ...minMax(series) } : (series as CounterSeries).value;
          if (last === undefined) given.set(series, (last = { version: series.version, value, sum: 0, count: 0 }));
          else {
            last.version = series.version;
            last.value = value;
          }
        }
        points.push({ startTime: series.startTime, endTime, attributes: series.attributes, value: last.value });
      }
      return points;
    };

    const deltaPoints = (instrument: KeptCounter | KeptHistogram, endTime: Time): DataPoint<number | HistogramValue>[] => {
      const points: DataPoint<number | HistogramValue>[] = [];
      for (const series of instrument.series.values()) {
        const last = given.get(series);
        if (last !== undefined && last.version === series.version) continue;
        const startTime = last === undefined || lastTime === undefined ? series.startTime : lastTime;
        if ('counts' in series) {
          const counts = last?.counts === undefined ? [...series.counts] : series.counts.map((count, at) => count - last.counts![at]!);
          const value: HistogramValue = { buckets: { boundaries: (instrument as KeptHistogram).boundaries as number[], counts }, sum: series.sum - (last?.sum ?? 0), count: series.count - (last?.count ?? 0) };
          points.push({ startTime, endTime, attributes: series.attributes, value });
          given.set(series, { version: series.version, value, counts: [...series.counts], sum: series.sum, count: series.count });
        } else {
          const total = (series as CounterSeries).value;
          points.push({ startTime, endTime, attributes: series.attributes, value: total - (last?.sum ?? 0) });
          given.set(series, { version: series.version, value: total, sum: total, count: 0 });
        }
      }
      return points;
    };

    const read = (): MetricData[] => {
      try {
        beforeCollect?.();
      } catch (error) {
        onError(error);
      }
      const endTime = readingTime();
      const metrics: MetricData[] = [];
      for (const instrument of instruments) {
        const delta = temporality(instrument.instrumentType) === AggregationTemporality.DELTA;
        const dataPoints = delta ? deltaPoints(instrument, endTime) : cumulativePoints(instrument, endTime);
        const aggregationTemporality = delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
        const { descriptor } = instrument;
        metrics.push(
          instrument instanceof KeptHistogram
            ? { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: dataPoints as DataPoint<HistogramValue>[] }
            : { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: dataPoints as DataPoint<number>[] },
        );
      }
      lastTime = endTime;
      return metrics;
    };
    return scopesProducer(() => [{ scope, metrics: read() }]);
  };

  return { meter, producer };
}

function minMax(series: HistogramSeries): { min?: number; max?: number } {
  return series.count > 0 ? { min: series.min, max: series.max } : {};
}
