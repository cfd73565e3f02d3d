/**
 * Host metrics (process CPU and memory, system memory) as readings: @opentelemetry/host-metrics
 * still reads and names every value, but through a meter of the plugin's own, which keeps its
 * observable instruments and batch callback and reads them as a MetricProducer (./readings.ts)
 * instead of through the SDK's observable pipeline.
 *
 * Through the SDK, each collection had wrapped the batch callback in a promise race with a 30 s
 * timer, hashed and stored each of its nine points, diffed them with the last collection and
 * merged them into each reader's cumulative state, for values host-metrics had just computed:
 * measured on the demo bot, 0.3–0.7 ms of CPU per scrape, about a fifth of one (docs/benchmarks.md).
 *
 * What the readers get is what the SDK made of the same observations: an observable counter is a
 * monotonic sum, cumulative from when the readings were made or, for a reader whose exporter asks
 * for delta (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta), the change since that
 * reader's last collection; an observable up-down counter a cumulative non-monotonic sum; an
 * observable gauge a gauge; the scope is host-metrics' meter's; a series observed twice keeps its
 * last value, and a callback that throws gives none of its points. Deliberate differences:
 * values that are not finite numbers are left out (the SDK exports NaN, which poisons every PromQL
 * expression over the series), and so is a negative utilisation (the clock stepped back between
 * two readings); and the callbacks are not waited for — observations a callback makes after an
 * await (host-metrics' network group, which the plugin leaves off) are dropped,
 * and a promise that rejects is reported when it does, so no collection waits on one that never
 * settles (the SDK would wait up to 30 s on a timer).
 */
import {
  ValueType,
  createNoopMeter,
  type Attributes,
  type BatchObservableCallback,
  type Meter,
  type MeterOptions,
  type MeterProvider,
  type MetricOptions,
  type Observable,
  type ObservableCallback,
} from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type DataPoint,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { NO_ATTRIBUTES, readingTime, scopesProducer, seriesKey } from './readings.js';

type Kind = 'counter' | 'updown' | 'gauge';
type Time = DataPoint<number>['endTime'];

const INSTRUMENT_TYPES: Readonly<Record<Kind, InstrumentType>> = {
  counter: InstrumentType.OBSERVABLE_COUNTER,
  updown: InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
  gauge: InstrumentType.OBSERVABLE_GAUGE,
};

interface Instrument {
  readonly kind: Kind;
  readonly descriptor: MetricDescriptor;
  /** One attributes object per series, the same at every collection: the exposition keeps a series' text by it. */
  readonly series: Map<string, Attributes>;
  readonly callbacks: ObservableCallback[];
}

interface Batch {
  readonly callback: BatchObservableCallback;
  /** The instruments the callback was registered for: it may observe only these (as the SDK allows). */
  readonly instruments: ReadonlySet<Instrument | undefined>;
}

interface HostMeter {
  readonly scope: ScopeMetrics['scope'];
  readonly instruments: Instrument[];
  batches: Batch[];
}

/** One collection's observations: per instrument, the last value of each series. */
type Observed = Map<Instrument, Map<Attributes, number>>;

/** The most series one host instrument keeps (host-metrics' groups here make at most two). */
const MAX_SERIES = 64;

/** The SDK's synchronous instruments that do nothing, for what host-metrics does not make. */
const NOOP = createNoopMeter();

const sameSet = <T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean => a.size === b.size && [...a].every((item) => b.has(item));

export interface HostReadings {
  /** Given to HostMetrics as its `meterProvider`. */
  readonly meterProvider: MeterProvider;
  /**
   * A producer for one reader. Readers whose temporality for observable counters is delta each
   * need their own (it keeps what that reader was last given); the default is cumulative.
   */
  producer(temporality?: (type: InstrumentType) => AggregationTemporality): MetricProducer;
}

/** @param onError a callback that threw or rejected: the collection goes on without its points. */
export function createHostReadings(onError: (error: unknown) => void): HostReadings {
  const startTime = readingTime();
  const meters = new Map<string, HostMeter>();
  const instrumentOf = new WeakMap<Observable, Instrument>();
  const report = (error: unknown): void => {
    try {
      onError(error);
    } catch {
      // A report that fails must not become an unhandled rejection in the bot.
    }
  };

  const meterOf = (state: HostMeter): Meter => {
    const observable =
      (kind: Kind) =>
      (instrumentName: string, metricOptions: MetricOptions = {}): never => {
        const instrument: Instrument = {
          kind,
          descriptor: { name: instrumentName, description: metricOptions.description ?? '', unit: metricOptions.unit ?? '', valueType: metricOptions.valueType ?? ValueType.DOUBLE },
          series: new Map(),
          callbacks: [],
        };
        state.instruments.push(instrument);
        const handle: Observable = {
          addCallback: (callback) => {
            if (!instrument.callbacks.includes(callback)) instrument.callbacks.push(callback);
          },
          removeCallback: (callback) => {
            const at = instrument.callbacks.indexOf(callback);
            if (at >= 0) instrument.callbacks.splice(at, 1);
          },
        };
        instrumentOf.set(handle, instrument);
        return handle as never;
      };
    const instrumentsOf = (observables: Observable[]): Set<Instrument | undefined> => new Set(observables.map((handle) => instrumentOf.get(handle)));
    // A meter of its own (the API's no-op meter is one shared object): synchronous instruments,
    // which host-metrics does not make, record nothing.
    return {
      createGauge: (name, options) => NOOP.createGauge(name, options),
      createHistogram: (name, options) => NOOP.createHistogram(name, options),
      createCounter: (name, options) => NOOP.createCounter(name, options),
      createUpDownCounter: (name, options) => NOOP.createUpDownCounter(name, options),
      createObservableGauge: observable('gauge'),
      createObservableCounter: observable('counter'),
      createObservableUpDownCounter: observable('updown'),
      addBatchObservableCallback: (callback, observables) => {
        const instruments = instrumentsOf(observables);
        if (state.batches.some((batch) => batch.callback === callback && sameSet(batch.instruments, instruments))) return;
        state.batches.push({ callback, instruments });
      },
      removeBatchObservableCallback: (callback, observables) => {
        const instruments = instrumentsOf(observables);
        state.batches = state.batches.filter((batch) => batch.callback !== callback || !sameSet(batch.instruments, instruments));
      },
    };
  };

  const meterProvider: MeterProvider = {
    getMeter(name: string, version?: string, options?: MeterOptions): Meter {
      const id = `${name}\u0000${version ?? ''}\u0000${options?.schemaUrl ?? ''}`;
      let meter = meters.get(id);
      if (meter === undefined) {
        const scope = { name, ...(version ? { version } : {}), ...(options?.schemaUrl ? { schemaUrl: options.schemaUrl } : {}) };
        meters.set(id, (meter = { scope, instruments: [], batches: [] }));
      }
      return meterOf(meter);
    },
  };

  /** Runs a meter's callbacks; what each observes counts only if it returns without throwing. */
  const observe = (meter: HostMeter): Observed => {
    const observed: Observed = new Map();
    let open = true;
    const record = (into: Observed, instrument: Instrument, value: number, attributes: Attributes | undefined): void => {
      if (!open || typeof value !== 'number' || !Number.isFinite(value)) return;
      // host-metrics divides a utilisation by Date.now()'s difference since its last reading: after
      // the clock went back, one reading is negative. It is left out (the next one is sound).
      if (value < 0 && instrument.descriptor.name.endsWith('.utilization')) return;
      const key = attributes === undefined ? '' : seriesKey(attributes);
      let kept = instrument.series.get(key);
      if (kept === undefined) {
        if (instrument.series.size >= MAX_SERIES) return;
        instrument.series.set(key, (kept = key === '' ? NO_ATTRIBUTES : { ...attributes }));
      }
      let values = into.get(instrument);
      if (values === undefined) into.set(instrument, (values = new Map()));
      values.set(kept, value);
    };
    const run = (call: (into: Observed) => unknown): void => {
      const own: Observed = new Map();
      try {
        const result = call(own);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
        return;
      }
      for (const [instrument, values] of own) {
        let into = observed.get(instrument);
        if (into === undefined) observed.set(instrument, (into = new Map()));
        for (const [attributes, value] of values) into.set(attributes, value);
      }
    };
    for (const { callback, instruments } of meter.batches) {
      run((into) =>
        callback({
          observe: (handle: Observable, value: number, attributes?: Attributes) => {
            const instrument = instrumentOf.get(handle);
            if (instrument !== undefined && instruments.has(instrument)) record(into, instrument, value, attributes);
          },
        }),
      );
    }
    for (const instrument of meter.instruments) {
      for (const callback of instrument.callbacks) run((into) => callback({ observe: (value, attributes) => record(into, instrument, value, attributes) }));
    }
    open = false;
    return observed;
  };

  const producer = (temporality: (type: InstrumentType) => AggregationTemporality = () => AggregationTemporality.CUMULATIVE): MetricProducer => {
    // For a delta reader: what it was last given of each counter series, and when.
    const last = new WeakMap<Instrument, Map<Attributes, number>>();
    let lastTime: Time = startTime;
    const metricsOf = (meter: HostMeter, endTime: Time): MetricData[] => {
      const observed = observe(meter);
      const metrics: MetricData[] = [];
      for (const instrument of meter.instruments) {
        const values = observed.get(instrument);
        if (values === undefined) continue;
        const { descriptor, kind } = instrument;
        const delta = kind === 'counter' && temporality(INSTRUMENT_TYPES[kind]) === AggregationTemporality.DELTA;
        let before = last.get(instrument);
        if (delta && before === undefined) last.set(instrument, (before = new Map()));
        const dataPoints: DataPoint<number>[] = [];
        for (const [attributes, value] of values) {
          if (kind === 'gauge') dataPoints.push({ startTime: endTime, endTime, attributes, value });
          else if (!delta) dataPoints.push({ startTime, endTime, attributes, value });
          else {
            const previous = before!.get(attributes);
            before!.set(attributes, value);
            // A counter that went back (a reset) starts counting again from its new value.
            dataPoints.push({ startTime: previous === undefined ? startTime : lastTime, endTime, attributes, value: previous === undefined || value < previous ? value : value - previous });
          }
        }
        metrics.push(
          kind === 'gauge'
            ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints }
            : {
                descriptor,
                aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
                dataPointType: DataPointType.SUM,
                isMonotonic: kind === 'counter',
                dataPoints,
              },
        );
      }
      return metrics;
    };
    return scopesProducer(() => {
      const endTime = readingTime();
      const scopes = [...meters.values()].map((meter) => ({ scope: meter.scope, metrics: metricsOf(meter, endTime) }));
      lastTime = endTime;
      return scopes;
    });
  };

  return { meterProvider, producer };
}
