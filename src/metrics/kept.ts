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
 * value again (whose text the exposition keeps while its count and sum stay).
 *
 * What a reader gets is what the SDK made of the same measurements: a counter is a monotonic sum,
 * a histogram explicit buckets (boundaries sorted, ±Infinity left out; a value equal to a boundary
 * counts in that boundary's bucket) with sum, count, min and max. A cumulative reader gets every
 * series, counted from its first measurement. A reader whose exporter asks for delta
 * (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta) gets the series measured since its last
 * collection, each with what was measured since then (its own sum, count, min and max), starting
 * where that series' last report ended, or at its first measurement.
 *
 * Where it differs from the SDK, on purpose: negative values are dropped with a warning as the SDK
 * drops them, and so are NaN and ±Infinity (one would make a sum NaN or infinite for good). The
 * cardinality limit caps the series an instrument ever holds: past it, a new label set is counted
 * in the one overflow series `otel.metric.overflow="true"`. (The SDK caps the label sets measured
 * within one collection interval, so its cumulative state can grow by the limit at every interval.)
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
import { NO_ATTRIBUTES, readingTime, scopesProducer, seriesKey } from './readings.js';

type Time = DataPoint<number>['endTime'];

/** The SDK's default buckets, for a histogram created without advice. */
const DEFAULT_BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/** The attributes of the series that counts every label set beyond the cardinality limit. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
const OVERFLOW_KEY = seriesKey(OVERFLOW_ATTRIBUTES);

/** What was measured on a series: since its start, or since a delta reader's last collection. */
interface Tally {
  /** A counter's total; a histogram's sum. */
  sum: number;
  count: number;
  /** A histogram's buckets (not cumulative: each boundary's own). */
  readonly counts: number[] | undefined;
  min: number;
  max: number;
  /** Where a delta reader's next report of it starts. */
  startTime: Time;
}

interface Series {
  readonly attributes: Attributes;
  readonly total: Tally;
  /** Per delta reader (by its slot), what it has not been given yet. */
  readonly pending: Tally[];
  /** Bumped at each measurement: a cumulative reader whose last look saw this version has nothing new. */
  version: number;
}

const tally = (buckets: number, startTime: Time): Tally => ({ sum: 0, count: 0, counts: buckets > 0 ? new Array<number>(buckets).fill(0) : undefined, min: Infinity, max: -Infinity, startTime });

function add(into: Tally, value: number, bucket: number): void {
  into.sum += value;
  into.count += 1;
  if (into.counts !== undefined) into.counts[bucket]! += 1;
  if (value < into.min) into.min = value;
  if (value > into.max) into.max = value;
}

/** The boundaries the SDK would use for the advice given: sorted, without ±Infinity. */
function boundariesOf(advice: readonly number[] | undefined): number[] {
  const sorted = [...(advice ?? DEFAULT_BOUNDARIES)].sort((a, b) => a - b);
  const infinity = sorted.indexOf(Infinity);
  return sorted.slice(sorted.lastIndexOf(-Infinity) + 1, infinity === -1 ? undefined : infinity);
}

/** The delta readers of one kept meter: each has a slot in every series' `pending`. */
interface Slots {
  count: number;
}

class KeptInstrument implements Counter, Histogram {
  readonly series = new Map<string, Series>();
  /**
   * The series of a frozen attributes object (the plugin's own label sets are frozen constants):
   * found without sorting and serialising its keys at every measurement. An object that can still
   * change is keyed afresh each time.
   */
  private readonly byObject = new WeakMap<Attributes, Series>();

  constructor(
    readonly descriptor: MetricDescriptor,
    readonly instrumentType: InstrumentType.COUNTER | InstrumentType.HISTOGRAM,
    /** A histogram's boundaries; none for a counter. */
    readonly boundaries: number[] | undefined,
    private readonly cardinalityLimit: number,
    private readonly slots: Slots,
  ) {}

  add(value: number, attributes?: Attributes): void {
    this.measure(value, attributes, 'counter');
  }

  record(value: number, attributes?: Attributes): void {
    this.measure(value, attributes, 'histogram');
  }

  private measure(value: number, attributes: Attributes | undefined, kind: string): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    if (value < 0) {
      diag.warn(`negative value provided to ${kind} ${this.descriptor.name}: ${value}`);
      return;
    }
    const series = this.seriesOf(attributes);
    let bucket = 0;
    const { boundaries } = this;
    if (boundaries !== undefined) while (bucket < boundaries.length && boundaries[bucket]! < value) bucket += 1;
    // The delta readers' tallies first: one made now starts from the total before this value.
    for (let slot = 0; slot < this.slots.count; slot++) add(this.pendingOf(series, slot), value, bucket);
    add(series.total, value, bucket);
    series.version += 1;
  }

  /** A delta reader's pending tally of a series; a reader added later starts from everything so far. */
  pendingOf(series: Series, slot: number): Tally {
    let pending = series.pending[slot];
    if (pending === undefined) {
      const { total } = series;
      pending = { ...total, counts: total.counts === undefined ? undefined : [...total.counts] };
      series.pending[slot] = pending;
    }
    return pending;
  }

  /** The series of these attributes, made at its first measurement; the overflow series past the limit. */
  private seriesOf(attributes: Attributes | undefined): Series {
    const frozen = attributes !== undefined && Object.isFrozen(attributes);
    if (frozen) {
      const known = this.byObject.get(attributes);
      if (known !== undefined) return known;
    }
    const series = this.seriesByKey(attributes);
    if (frozen) this.byObject.set(attributes, series);
    return series;
  }

  private seriesByKey(attributes: Attributes | undefined): Series {
    const key = attributes === undefined ? '' : seriesKey(attributes);
    let series = this.series.get(key);
    if (series === undefined) {
      // As the SDK counts its limit: one place of it is the overflow series'.
      const overflow = this.series.size >= this.cardinalityLimit - 1;
      series = overflow ? this.series.get(OVERFLOW_KEY) : undefined;
      if (series === undefined) {
        // A copy: the caller may reuse or change its object after the measurement.
        const kept = overflow ? OVERFLOW_ATTRIBUTES : key === '' ? NO_ATTRIBUTES : Object.freeze({ ...attributes });
        const buckets = this.boundaries === undefined ? 0 : this.boundaries.length + 1;
        series = { attributes: kept, total: tally(buckets, readingTime()), pending: [], version: 0 };
        this.series.set(overflow ? OVERFLOW_KEY : key, series);
      }
    }
    return series;
  }
}

/** A tally as a point value: a counter's total, or a histogram (its buckets copied). */
function valueOf(instrument: KeptInstrument, from: Tally): number | HistogramValue {
  if (instrument.boundaries === undefined) return from.sum;
  return {
    buckets: { boundaries: instrument.boundaries, counts: [...from.counts!] },
    sum: from.sum,
    count: from.count,
    ...(from.count > 0 ? { min: from.min, max: from.max } : {}),
  };
}

export interface KeptMeter {
  /** An API Meter: counters and histograms are kept here; any other instrument records nothing. */
  readonly meter: Meter;
  /** A producer for one reader (each delta reader needs its own: it keeps what that reader has not been given). */
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
  const instruments: KeptInstrument[] = [];
  const slots: Slots = { count: 0 };
  const noop = createNoopMeter();
  const descriptorOf = (name: string, options: MetricOptions = {}): MetricDescriptor => ({
    name,
    description: options.description ?? '',
    unit: options.unit ?? '',
    valueType: options.valueType ?? ValueType.DOUBLE,
  });
  // As the SDK does, an instrument asked for again by name (any case) is the one already made.
  const instrument = (type: KeptInstrument['instrumentType'], name: string, options: MetricOptions | undefined): KeptInstrument => {
    let found = instruments.find((kept) => kept.instrumentType === type && kept.descriptor.name.toLowerCase() === name.toLowerCase());
    if (found === undefined) {
      const boundaries = type === InstrumentType.HISTOGRAM ? boundariesOf(options?.advice?.explicitBucketBoundaries) : undefined;
      instruments.push((found = new KeptInstrument(descriptorOf(name, options), type, boundaries, cardinalityLimit, slots)));
    }
    return found;
  };
  const meter: Meter = {
    createCounter: (name, options) => instrument(InstrumentType.COUNTER, name, options),
    createHistogram: (name, options) => instrument(InstrumentType.HISTOGRAM, name, options) as never,
    createGauge: (name, options) => noop.createGauge(name, options),
    createUpDownCounter: (name, options) => noop.createUpDownCounter(name, options),
    createObservableGauge: (name, options) => noop.createObservableGauge(name, options),
    createObservableCounter: (name, options) => noop.createObservableCounter(name, options),
    createObservableUpDownCounter: (name, options) => noop.createObservableUpDownCounter(name, options),
    addBatchObservableCallback: () => {},
    removeBatchObservableCallback: () => {},
  };

  const producer = (temporality: (type: InstrumentType) => AggregationTemporality = () => AggregationTemporality.CUMULATIVE): MetricProducer => {
    // A cumulative reader's last value of each series, handed over again while it has not changed.
    const given = new WeakMap<Series, { version: number; value: number | HistogramValue }>();
    // A delta reader's slot, taken at its first delta collection.
    let slot: number | undefined;

    const cumulativePoints = (kept: KeptInstrument, endTime: Time): DataPoint<number | HistogramValue>[] => {
      const points: DataPoint<number | HistogramValue>[] = [];
      for (const series of kept.series.values()) {
        let last = given.get(series);
        if (last === undefined || last.version !== series.version) given.set(series, (last = { version: series.version, value: valueOf(kept, series.total) }));
        points.push({ startTime: series.total.startTime, endTime, attributes: series.attributes, value: last.value });
      }
      return points;
    };

    const deltaPoints = (kept: KeptInstrument, endTime: Time): DataPoint<number | HistogramValue>[] => {
      slot ??= slots.count++;
      const points: DataPoint<number | HistogramValue>[] = [];
      for (const series of kept.series.values()) {
        const pending = kept.pendingOf(series, slot);
        if (pending.count === 0) continue;
        points.push({ startTime: pending.startTime, endTime, attributes: series.attributes, value: valueOf(kept, pending) });
        pending.sum = 0;
        pending.count = 0;
        pending.counts?.fill(0);
        pending.min = Infinity;
        pending.max = -Infinity;
        pending.startTime = endTime;
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
      for (const kept of instruments) {
        const delta = temporality(kept.instrumentType) === AggregationTemporality.DELTA;
        const dataPoints = delta ? deltaPoints(kept, endTime) : cumulativePoints(kept, endTime);
        const aggregationTemporality = delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
        const { descriptor } = kept;
        metrics.push(
          kept.boundaries !== undefined
            ? { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: dataPoints as DataPoint<HistogramValue>[] }
            : { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: dataPoints as DataPoint<number>[] },
        );
      }
      return metrics;
    };
    return scopesProducer(() => [{ scope, metrics: read() }]);
  };

  return { meter, producer };
}
