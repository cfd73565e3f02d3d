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
 * cumulative monotonic sum (counted from when the producer was made), an observable up-down
 * counter a cumulative non-monotonic sum, an observable gauge a gauge; the scope is host-metrics'
 * meter's; values that are not finite numbers are left out (the SDK drops non-numbers; a NaN would
 * poison every PromQL expression over the series). The callback runs at each collection, as the
 * SDK ran it; observations made after it has returned (after an await: host-metrics' network
 * group, which the plugin leaves off) are not waited for.
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
  type DataPoint,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { NO_ATTRIBUTES, readingTime, scopesProducer } from './readings.js';

type Kind = 'counter' | 'updown' | 'gauge';
type Time = DataPoint<number>['endTime'];

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

/** The most series one host instrument keeps (host-metrics' groups here make at most two). */
const MAX_SERIES = 64;

/** A key for an attributes object that does not depend on the order of its keys. */
function seriesKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length > 1) keys.sort();
  let key = '';
  for (const name of keys) key += `${name}\u0000${String(attributes[name])}\u0001`;
  return key;
}

export interface HostReadings {
  /** Given to HostMetrics as its `meterProvider`. */
  readonly meterProvider: MeterProvider;
  /** Its readings, for the readers that expose host metrics. */
  readonly producer: MetricProducer;
}

/** @param onError a callback that threw or rejected: the collection goes on without its points. */
export function createHostReadings(onError: (error: unknown) => void): HostReadings {
  const startTime = readingTime();
  const meters = new Map<string, HostMeter>();
  const instrumentOf = new WeakMap<Observable, Instrument>();

  const meterProvider: MeterProvider = {
    getMeter(name: string, version?: string, options?: MeterOptions): Meter {
      const id = `${name}\u0000${version ?? ''}\u0000${options?.schemaUrl ?? ''}`;
      let meter = meters.get(id);
      if (meter === undefined) {
        const scope = { name, ...(version ? { version } : {}), ...(options?.schemaUrl ? { schemaUrl: options.schemaUrl } : {}) };
        meters.set(id, (meter = { scope, instruments: [], batches: [] }));
      }
      const state = meter;
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
            addCallback: (callback) => void instrument.callbacks.push(callback),
            removeCallback: (callback) => {
              const at = instrument.callbacks.indexOf(callback);
              if (at >= 0) instrument.callbacks.splice(at, 1);
            },
          };
          instrumentOf.set(handle, instrument);
          return handle as never;
        };
      // Synchronous instruments are not what host-metrics makes: here they record nothing.
      return Object.assign(createNoopMeter(), {
        createObservableCounter: observable('counter'),
        createObservableUpDownCounter: observable('updown'),
        createObservableGauge: observable('gauge'),
        addBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]): void => {
          state.batches.push({ callback, instruments: new Set(observables.map((handle) => instrumentOf.get(handle))) });
        },
        removeBatchObservableCallback: (callback: BatchObservableCallback): void => {
          state.batches = state.batches.filter((batch) => batch.callback !== callback);
        },
      });
    },
  };

  const settle = (result: unknown): void => {
    if (result instanceof Promise) result.catch(onError);
  };

  const read = (meter: HostMeter): MetricData[] => {
    const endTime: Time = readingTime();
    const points = new Map<Instrument, DataPoint<number>[]>();
    const observe = (instrument: Instrument, value: number, attributes: Attributes | undefined): void => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      const key = attributes === undefined ? '' : seriesKey(attributes);
      let kept = instrument.series.get(key);
      if (kept === undefined) {
        if (instrument.series.size >= MAX_SERIES) return;
        instrument.series.set(key, (kept = key === '' ? NO_ATTRIBUTES : { ...attributes }));
      }
      let list = points.get(instrument);
      if (list === undefined) points.set(instrument, (list = []));
      list.push({ startTime: instrument.kind === 'gauge' ? endTime : startTime, endTime, attributes: kept, value });
    };
    for (const { callback, instruments } of meter.batches) {
      try {
        settle(
          callback({
            observe: (handle: Observable, value: number, attributes?: Attributes) => {
              const instrument = instrumentOf.get(handle);
              if (instrument !== undefined && instruments.has(instrument)) observe(instrument, value, attributes);
            },
          }),
        );
      } catch (error) {
        onError(error);
      }
    }
    for (const instrument of meter.instruments) {
      for (const callback of instrument.callbacks) {
        try {
          settle(callback({ observe: (value, attributes) => observe(instrument, value, attributes) }));
        } catch (error) {
          onError(error);
        }
      }
    }
    const metrics: MetricData[] = [];
    for (const instrument of meter.instruments) {
      const { descriptor, kind } = instrument;
      const dataPoints = points.get(instrument) ?? [];
      metrics.push(
        kind === 'gauge'
          ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints }
          : { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: kind === 'counter', dataPoints },
      );
    }
    return metrics;
  };

  return { meterProvider, producer: scopesProducer(() => [...meters.values()].map((meter) => ({ scope: meter.scope, metrics: read(meter) }))) };
}
