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
 
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricReaderOptions,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createSerializer } from '../src/metrics/exposition.js';
import { OVERFLOW_ATTRIBUTES, createKeptMeter } from '../src/metrics/kept.js';
import { TestReader } from './support/metrics.js';

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

  it('give a delta reader what the SDK gives it: what was measured since its last collection, min and max included', async () => {
    const sdk = sdkSide({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
    const kept = keptSide({ delta: true });
    for (let round = 0; round < 3; round++) {
      feed(sdk.meter, round);
      feed(kept.meter, round);
      const ours = metricsOf(await kept.collect());
      expect(summary(ours.filter((metric) => metric.dataPoints.length > 0))).toEqual(summary(metricsOf(await sdk.collect())));
    }
    // Nothing measured since: nothing to report.
    expect(metricsOf(await kept.collect())).toEqual([]);
  });

  it('serve a cumulative and a delta reader in turn from one meter, each as the SDK serves it', async () => {
    const sdkCumulative = new TestReader();
    const sdkDelta = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
    const sdkProvider = new MeterProvider({ readers: [sdkCumulative, sdkDelta] });
    providers.push(sdkProvider);
    const kept = createKeptMeter({ scope: SCOPE, cardinalityLimit: 200 });
    const keptCumulative = new TestReader({ metricProducers: [kept.producer()] });
    const keptDelta = new TestReader({ metricProducers: [kept.producer(() => AggregationTemporality.DELTA)] });
    providers.push(new MeterProvider({ readers: [keptCumulative, keptDelta] }));
    const nonEmpty = (metrics: MetricData[]) => metrics.filter((metric) => metric.dataPoints.length > 0);
    const read = async (reader: TestReader) => summary(nonEmpty(metricsOf((await reader.collect()).resourceMetrics)));
    for (let round = 0; round < 4; round++) {
      feed(sdkProvider.getMeter(SCOPE.name, SCOPE.version), round);
      feed(kept.meter, round);
      // The delta reader skips a round: its next report covers both.
      if (round !== 1) expect(await read(keptDelta)).toEqual(await read(sdkDelta));
      expect(await read(keptCumulative)).toEqual(await read(sdkCumulative));
    }
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

  it('cap the series an instrument ever holds, across collections (the SDK caps those of one interval)', async () => {
    const kept = keptSide({ limit: 5 });
    const counter = kept.meter.createCounter('capped_total');
    for (let i = 0; i < 4; i++) counter.add(1, { wallet: `w${i}` });
    await kept.collect();
    for (let i = 4; i < 8; i++) counter.add(1, { wallet: `w${i}` });
    counter.add(1, { wallet: 'w0' });
    const points = metricsOf(await kept.collect())[0]!.dataPoints;
    expect(points).toHaveLength(5);
    expect(points.find((point) => point.attributes === OVERFLOW_ATTRIBUTES)?.value).toBe(4);
    expect(points.find((point) => point.attributes.wallet === 'w0')?.value).toBe(2);
  });

  it('keep a cumulative series\' start at its first measurement, and tell values of another type apart', async () => {
    const kept = keptSide();
    const counter = kept.meter.createCounter('c');
    counter.add(1, { a: 1 });
    counter.add(1, { a: '1' });
    counter.add(1, { 'otel.metric.overflow': 'true' });
    const first = metricsOf(await kept.collect())[0]!.dataPoints;
    await new Promise((resolve) => setTimeout(resolve, 5));
    counter.add(1, { a: 1 });
    const second = metricsOf(await kept.collect())[0]!.dataPoints;
    expect(second).toHaveLength(3);
    expect(second[0]!.startTime).toEqual(first[0]!.startTime);
    expect(second[0]!.endTime).not.toEqual(first[0]!.endTime);
    expect(second.map((point) => point.value)).toEqual([2, 1, 1]);
    // Asked for again, in another case: the same instrument, as in the SDK.
    expect(kept.meter.createCounter('C')).toBe(counter);
  });

  it('find the series of a frozen attributes object as of an equal unfrozen one, past the limit too', async () => {
    const kept = keptSide({ limit: 3 });
    const counter = kept.meter.createCounter('c');
    const buy = Object.freeze({ side: 'buy' });
    counter.add(1, buy);
    counter.add(1, { side: 'buy' });
    counter.add(1, buy);
    counter.add(1, { side: 'sell' });
    const late = Object.freeze({ side: 'late' });
    counter.add(1, late);
    counter.add(1, late);
    const points = metricsOf(await kept.collect())[0]!.dataPoints;
    expect(points.map((point) => [point.attributes, point.value])).toEqual([
      [{ side: 'buy' }, 3],
      [{ side: 'sell' }, 1],
      [OVERFLOW_ATTRIBUTES, 2],
    ]);
  });

  it("place values in buckets as the SDK does, whatever the order of the advice's boundaries and with ±Infinity in it", async () => {
    const sdk = sdkSide();
    const kept = keptSide();
    for (const meter of [sdk.meter, kept.meter]) {
      const histogram = meter.createHistogram('h', { advice: { explicitBucketBoundaries: [10, -Infinity, 1, Infinity, 0.1] } });
      for (const value of [0, 0.1, 0.5, 1, 5, 10, 50]) histogram.record(value);
    }
    expect(summary(metricsOf(await kept.collect()))).toEqual(summary(metricsOf(await sdk.collect())));
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
