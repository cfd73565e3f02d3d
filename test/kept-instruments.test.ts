/**
 * The plugin's kept counters and histograms (src/metrics/kept.ts) against the SDK's own, fed the
 * same measurements in the same order: a reader, a scrape and an OTLP delta export must get the
 * same series with the same values.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricReaderOptions,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createSerializer } from '../src/metrics/exposition.js';
import { OVERFLOW_ATTRIBUTES, createKeptMeter } from '../src/metrics/kept.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.shutdown();
});

const SCOPE = { name: 'polymarket-bot-monitoring', version: '1.0.0' };
const BOUNDS = [0.005, 0.01, 0.1, 1, 10];

/** The SDK's meter and a reader of it; `limit` as the plugin's view sets it. */
function sdkSide(options: MetricReaderOptions = {}, limit = 200): { meter: Meter; collect: () => Promise<ResourceMetrics> } {
  const reader = new TestReader(options);
  const provider = new MeterProvider({ readers: [reader], views: [{ instrumentName: '*', aggregationCardinalityLimit: limit }] });
  providers.push(provider);
  return { meter: provider.getMeter(SCOPE.name, SCOPE.version), collect: async () => (await reader.collect()).resourceMetrics };
}

function keptSide(options: { delta?: boolean; limit?: number; beforeCollect?: () => void; onError?: (error: unknown) => void } = {}) {
  const kept = createKeptMeter({ scope: SCOPE, cardinalityLimit: options.limit ?? 200, ...(options.beforeCollect ? { beforeCollect: options.beforeCollect } : {}), ...(options.onError ? { onError: options.onError } : {}) });
  const reader = new TestReader({ metricProducers: [kept.producer(options.delta ? () => AggregationTemporality.DELTA : undefined)] });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  return { meter: kept.meter, collect: async () => (await reader.collect()).resourceMetrics };
}

/** A bot's worth of measurements: label sets in varying key order, values on, between and past the boundaries. */
function feed(meter: Meter, round: number): void {
  const trades = meter.createCounter('monitoring_trades', { description: 'Trades copied', unit: '1' });
  const scans = meter.createHistogram('monitoring_scan_duration_seconds', { description: 'Scan time', unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
  const plain = meter.createHistogram('plain_ms');
  trades.add(0, { side: 'sell', outcome: 'filled' });
  for (let i = 0; i < 40; i++) {
    const side = i % 3 === 0 ? 'sell' : 'buy';
    trades.add(i % 5 === 0 ? 2 : 1, i % 2 === 0 ? { side, outcome: 'filled' } : { outcome: 'filled', side });
    scans.record([0, 0.005, 0.007, 0.01, 0.5, 1, 9.99, 10, 11, 1e6][i % 10]! * (round + 1), { wallet_group: i % 4 === 0 ? 'a' : 'b' });
    plain.record(i * 37 * (round + 1));
  }
}

const metricsOf = (resourceMetrics: ResourceMetrics): MetricData[] =>
  resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === SCOPE.name).flatMap((scope) => scope.metrics);

/**
 * What a point says, order of series aside: attributes (key order aside) and value — a sum to 12
 * digits, since the SDK adds each collection's sum to the last where the plugin adds each value.
 */
function points(metric: MetricData): [string, unknown][] {
  const canonical = (attributes: Attributes) => JSON.stringify(Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b))));
  return (metric.dataPoints as DataPoint<unknown>[])
    .map((point): [string, unknown] => {
      const value = point.value as Histogram | number;
      return [canonical(point.attributes), typeof value === 'number' ? value : { counts: value.buckets.counts, boundaries: value.buckets.boundaries, sum: value.sum === undefined ? undefined : Number(value.sum.toPrecision(12)), count: value.count, min: value.min, max: value.max }];
    })
    .sort(([a], [b]) => a.localeCompare(b));
}

function summary(metrics: MetricData[]) {
  return metrics
    .map((metric) => ({
      name: metric.descriptor.name,
      unit: metric.descriptor.unit,
      description: metric.descriptor.description,
      type: metric.dataPointType,
      temporality: metric.aggregationTemporality,
      monotonic: metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : undefined,
      points: points(metric),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('kept instruments', () => {
  it("give a reader what the SDK gives for the same measurements, collection after collection", async () => {
    const sdk = sdkSide();
    const kept = keptSide();
    for (let round = 0; round < 3; round++) {
      feed(sdk.meter, round);
      feed(kept.meter, round);
      expect(summary(metricsOf(await kept.collect()))).toEqual(summary(metricsOf(await sdk.collect())));
    }
  });

  it('write the same exposition as the SDK, byte for byte', async () => {
    const sdk = sdkSide();
    const kept = keptSide();
    feed(sdk.meter, 0);
    feed(kept.meter, 0);
    // Series are written in the order the SDK and the plugin keep them; the lines of each are the same.
    const lines = async (collect: () => Promise<ResourceMetrics>) => createSerializer().serialize(await collect()).split('\n').sort();
    expect(await lines(kept.collect)).toEqual(await lines(sdk.collect));
  });

  it('give a delta reader what the SDK gives it: the change since its last collection, for the series that changed', async () => {
    const sdk = sdkSide({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
    const kept = keptSide({ delta: true });
    // min and max of an interval are not in a difference of two cumulative states: left out here.
    const withoutMinMax = (metrics: MetricData[]) =>
      summary(metrics).map((metric) => ({ ...metric, points: metric.points.map(([key, value]) => [key, typeof value === 'object' ? { ...(value as object), min: undefined, max: undefined } : value]) }));
    for (let round = 0; round < 3; round++) {
      feed(sdk.meter, round);
      feed(kept.meter, round);
      const ours = metricsOf(await kept.collect());
      expect(withoutMinMax(ours.filter((metric) => metric.dataPoints.length > 0))).toEqual(withoutMinMax(metricsOf(await sdk.collect())));
    }
    // Nothing measured since: nothing to report.
    expect(metricsOf(await kept.collect())).toEqual([]);
  });

  it('chain a delta reader\'s intervals: each starts where the last ended', async () => {
    const kept = keptSide({ delta: true });
    const counter = kept.meter.createCounter('c');
    counter.add(1);
    const [first] = metricsOf(await kept.collect());
    counter.add(2);
    const [second] = metricsOf(await kept.collect());
    expect(second!.dataPoints[0]!.value).toBe(2);
    expect(second!.dataPoints[0]!.startTime).toEqual(first!.dataPoints[0]!.endTime);
    expect(second!.aggregationTemporality).toBe(AggregationTemporality.DELTA);
  });

  it('hand a cumulative reader the same value object while a series is unchanged, and a copy later measurements cannot change', async () => {
    const kept = keptSide();
    const histogram = kept.meter.createHistogram('h', { advice: { explicitBucketBoundaries: BOUNDS } });
    histogram.record(0.5);
    const first = metricsOf(await kept.collect())[0]!.dataPoints[0]!.value as Histogram;
    const again = metricsOf(await kept.collect())[0]!.dataPoints[0]!.value as Histogram;
    expect(again).toBe(first);
    histogram.record(5);
    const third = metricsOf(await kept.collect())[0]!.dataPoints[0]!.value as Histogram;
    expect(third).not.toBe(first);
    expect(first).toMatchObject({ count: 1, sum: 0.5, buckets: { counts: [0, 0, 0, 1, 0, 0] } });
    expect(third).toMatchObject({ count: 2, sum: 5.5, min: 0.5, max: 5, buckets: { counts: [0, 0, 0, 1, 1, 0] } });
  });

  it('count label sets beyond the limit in one overflow series, as the SDK does', async () => {
    const sdk = sdkSide({}, 5);
    const kept = keptSide({ limit: 5 });
    for (const meter of [sdk.meter, kept.meter]) {
      const counter = meter.createCounter('capped_total');
      for (let i = 0; i < 12; i++) counter.add(i + 1, { wallet: `w${i}` });
    }
    const ours = metricsOf(await kept.collect());
    expect(summary(ours)).toEqual(summary(metricsOf(await sdk.collect())));
    expect(ours[0]!.dataPoints).toHaveLength(5);
    expect(ours[0]!.dataPoints.find((point) => point.attributes === OVERFLOW_ATTRIBUTES)?.value).toBe(8 + 9 + 10 + 11 + 12 + 5 + 6 + 7);
  });

  it("drop negative and non-finite values, and keep a copy of the caller's attributes", async () => {
    const kept = keptSide();
    const counter = kept.meter.createCounter('c');
    const histogram = kept.meter.createHistogram('h');
    const labels: Attributes = { side: 'buy' };
    counter.add(-1, labels);
    counter.add(Number.NaN, labels);
    counter.add(2, labels);
    histogram.record(-0.1);
    histogram.record(Number.POSITIVE_INFINITY);
    labels.side = 'sell';
    const metrics = metricsOf(await kept.collect());
    // A histogram with no measurement has no series, and no family (as the SDK's).
    expect(metrics.map((metric) => [metric.descriptor.name, metric.dataPoints.map((point) => [point.attributes, point.value])])).toEqual([['c', [[{ side: 'buy' }, 2]]]]);
  });

  it('run the hand-over before reading, and still read when it throws', async () => {
    const errors: unknown[] = [];
    let pending = 0;
    let counter: ReturnType<Meter['createCounter']> | undefined;
    let fail = false;
    const kept = keptSide({
      beforeCollect: () => {
        counter?.add(pending);
        pending = 0;
        if (fail) throw new Error('hand-over broke');
      },
      onError: (error) => errors.push(error),
    });
    counter = kept.meter.createCounter('c');
    pending = 3;
    expect(metricsOf(await kept.collect())[0]!.dataPoints[0]!.value).toBe(3);
    fail = true;
    pending = 4;
    expect(metricsOf(await kept.collect())[0]!.dataPoints[0]!.value).toBe(7);
    expect(errors.map(String)).toEqual(['Error: hand-over broke']);
  });
});
