/**
 * Host metrics read through the plugin's meter (src/metrics/host.ts) against host-metrics
 * through the SDK: a reader and a scrape must get the same series, described the same way.
 */
import { ValueType, createNoopMeter, type Attributes, type BatchObservableResult, type Observable } from '@opentelemetry/api';
import { HostMetrics } from '@opentelemetry/host-metrics';
import { AggregationTemporality, DataPointType, MeterProvider, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createSerializer } from '../src/metrics/exposition.js';
import { createHostReadings } from '../src/metrics/host.js';
import { TestReader } from './support/metrics.js';

const providers: MeterProvider[] = [];
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.shutdown();
});

const GROUPS = ['system.memory', 'process.cpu', 'process.memory'] as const;

/** The exposition's lines with each value cut off: what the scrape says, not what the host did. */
const shape = (metrics: ResourceMetrics): string[] =>
  createSerializer()
    .serialize(metrics)
    .split('\n')
    .filter((line) => line && !line.startsWith('target_info'))
    .map((line) => (line.startsWith('#') ? line : line.slice(0, line.lastIndexOf(' '))));

function metricsOf(resourceMetrics: ResourceMetrics): MetricData[] {
  return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
}

/**
 * host-metrics' CPU utilisation divides by the time since its last reading, which all its
 * instances share: two readings in the same millisecond give NaN, which the SDK exports and the
 * readings leave out. Each collection here comes a few milliseconds after the last.
 */
const settled = () => new Promise((resolve) => setTimeout(resolve, 5));

async function throughSdk(): Promise<ResourceMetrics> {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  new HostMetrics({ meterProvider: provider, name: 'bot-host', metricGroups: [...GROUPS] }).start();
  await settled();
  return (await reader.collect()).resourceMetrics;
}

async function throughReadings(errors: unknown[] = []): Promise<{ collect: () => Promise<ResourceMetrics>; readings: ReturnType<typeof createHostReadings> }> {
  const readings = createHostReadings((error) => errors.push(error));
  const reader = new TestReader({ metricProducers: [readings.producer()] });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  new HostMetrics({ meterProvider: readings.meterProvider, name: 'bot-host', metricGroups: [...GROUPS] }).start();
  return {
    collect: async () => {
      await settled();
      return (await reader.collect()).resourceMetrics;
    },
    readings,
  };
}

describe('host readings', () => {
  it("give a scrape host-metrics' series exactly as the SDK exposed them: names, HELP, TYPE, labels, scope", async () => {
    const sdk = await throughSdk();
    const { collect } = await throughReadings();
    const ours = await collect();
    expect(shape(ours)).toEqual(shape(sdk));
    // Nine series, every group the plugin turns on.
    expect(shape(ours).filter((line) => !line.startsWith('#'))).toHaveLength(9);
  });

  it('describe each instrument as the SDK did: counters as cumulative monotonic sums, gauges as gauges, same scope', async () => {
    const sdk = await throughSdk();
    const { collect } = await throughReadings();
    const ours = await collect();
    const describe = (metrics: ResourceMetrics) =>
      metricsOf(metrics)
        .map((metric) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          description: metric.descriptor.description,
          valueType: metric.descriptor.valueType,
          type: metric.dataPointType,
          temporality: metric.aggregationTemporality,
          monotonic: metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : undefined,
          attributes: metric.dataPoints.map((point) => point.attributes),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(describe(ours)).toEqual(describe(sdk));
    expect(ours.scopeMetrics.map((scope) => [scope.scope.name, scope.scope.version])).toEqual(sdk.scopeMetrics.map((scope) => [scope.scope.name, scope.scope.version]));
  });

  it('read the host afresh at each collection, with one attributes object per series and the start time kept', async () => {
    const { collect } = await throughReadings();
    const first = metricsOf(await collect());
    // Burn some CPU so process.cpu.time must move.
    const until = performance.now() + 30;
    while (performance.now() < until);
    const second = metricsOf(await collect());
    const cpu = (metrics: MetricData[]) => metrics.find((metric) => metric.descriptor.name === 'process.cpu.time')!;
    const user = (metric: MetricData) => metric.dataPoints.find((point) => point.attributes['process.cpu.state'] === 'user')!;
    expect(Number(user(cpu(second)).value)).toBeGreaterThan(Number(user(cpu(first)).value));
    expect(user(cpu(second)).attributes).toBe(user(cpu(first)).attributes);
    expect(user(cpu(second)).startTime).toEqual(user(cpu(first)).startTime);
    expect(cpu(second).aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
  });

  it("drop a throwing callback's points, keep the others', and report each failure", async () => {
    const errors: unknown[] = [];
    const readings = createHostReadings((error) => errors.push(error));
    const producer = readings.producer();
    const meter = readings.meterProvider.getMeter('m', '1');
    const gauge = meter.createObservableGauge('g', { unit: '1', valueType: ValueType.DOUBLE });
    const stray = meter.createObservableGauge('not.in.the.batch');
    const counter = meter.createObservableUpDownCounter('u');
    const failing = meter.createObservableGauge('f');
    let order: Attributes = { b: '2', a: '1' };
    meter.addBatchObservableCallback(
      (result: BatchObservableResult) => {
        result.observe(gauge, 0.25, order);
        // The same series again: its last value counts, as in the SDK.
        result.observe(gauge, 0.5, order);
        result.observe(gauge, Number.NaN, { a: 'x' });
        result.observe(stray as Observable, 1);
      },
      [gauge],
    );
    meter.addBatchObservableCallback(async () => {
      throw new Error('async read failed');
    }, [gauge]);
    meter.addBatchObservableCallback(
      (result: BatchObservableResult) => {
        result.observe(failing, 1);
        throw new Error('read failed');
      },
      [failing],
    );
    failing.addCallback((result) => {
      result.observe(2);
      throw new Error('single read failed');
    });
    counter.addCallback((result) => result.observe(-3));

    const { resourceMetrics, errors: collectionErrors } = await producer.collect();
    await new Promise((resolve) => setImmediate(resolve));
    expect(collectionErrors).toEqual([]);
    expect(errors.map(String).sort()).toEqual(['Error: async read failed', 'Error: read failed', 'Error: single read failed']);
    const metrics = metricsOf(resourceMetrics);
    expect(metrics.map((metric) => metric.descriptor.name)).toEqual(['g', 'u']);
    // NaN and the instrument the callback was not registered for are left out.
    expect(metrics[0]!.dataPoints.map((point) => [point.attributes, point.value])).toEqual([[{ b: '2', a: '1' }, 0.5]]);
    expect(metrics[1]).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: false });
    expect(metrics[1]!.dataPoints[0]!.value).toBe(-3);

    // The same attributes in another key order are the same series, with the same object.
    order = { a: '1', b: '2' };
    const again = metricsOf((await producer.collect()).resourceMetrics);
    expect(again[0]!.dataPoints).toHaveLength(1);
    expect(again[0]!.dataPoints[0]!.attributes).toBe(metrics[0]!.dataPoints[0]!.attributes);
  });

  it('leave out a negative utilisation (the clock went back between two of host-metrics\' readings)', async () => {
    const readings = createHostReadings(() => {});
    const meter = readings.meterProvider.getMeter('m');
    const utilization = meter.createObservableGauge('process.cpu.utilization');
    const usage = meter.createObservableUpDownCounter('some.usage');
    utilization.addCallback((result) => result.observe(-3e-7, { state: 'user' }));
    usage.addCallback((result) => result.observe(-2));
    const metrics = metricsOf((await readings.producer().collect()).resourceMetrics);
    expect(metrics.map((metric) => [metric.descriptor.name, metric.dataPoints.map((point) => point.value)])).toEqual([['some.usage', [-2]]]);
  });

  it('keep each meter to its own scope and leave the API\'s shared no-op meter alone', async () => {
    const readings = createHostReadings(() => {});
    const first = readings.meterProvider.getMeter('one', '1');
    const second = readings.meterProvider.getMeter('two', '2');
    first.createObservableGauge('a').addCallback((result) => result.observe(1));
    second.createObservableGauge('b').addCallback((result) => result.observe(2));
    // Synchronous instruments record nothing and throw nothing.
    first.createCounter('c').add(1);
    first.createHistogram('h').record(1);
    const noop = createNoopMeter().createObservableGauge('elsewhere');
    noop.addCallback((result) => result.observe(3));
    const scopes = (await readings.producer().collect()).resourceMetrics.scopeMetrics;
    expect(scopes.map((scope) => [scope.scope.name, scope.scope.version, scope.metrics.map((metric) => metric.descriptor.name)])).toEqual([
      ['one', '1', ['a']],
      ['two', '2', ['b']],
    ]);
  });

  it('run a callback registered twice once, and take no observation made after a callback returned', async () => {
    const readings = createHostReadings(() => {});
    const meter = readings.meterProvider.getMeter('m');
    const gauge = meter.createObservableGauge('g');
    let calls = 0;
    let late: BatchObservableResult | undefined;
    const callback = (result: BatchObservableResult) => {
      calls += 1;
      late = result;
      result.observe(gauge, 1);
    };
    meter.addBatchObservableCallback(callback, [gauge]);
    meter.addBatchObservableCallback(callback, [gauge]);
    const { resourceMetrics } = await readings.producer().collect();
    expect(calls).toBe(1);
    late!.observe(gauge, 99, { late: 'yes' });
    expect(metricsOf(resourceMetrics)[0]!.dataPoints.map((point) => point.value)).toEqual([1]);
  });

  it('produce nothing before host-metrics has started, and nothing for a removed callback', async () => {
    const readings = createHostReadings(() => {});
    const producer = readings.producer();
    expect((await producer.collect()).resourceMetrics.scopeMetrics).toEqual([]);
    const meter = readings.meterProvider.getMeter('m');
    const gauge = meter.createObservableGauge('g');
    const callback = (result: BatchObservableResult) => result.observe(gauge, 1);
    meter.addBatchObservableCallback(callback, [gauge]);
    expect(metricsOf((await producer.collect()).resourceMetrics)).toHaveLength(1);
    meter.removeBatchObservableCallback(callback, [gauge]);
    expect((await producer.collect()).resourceMetrics.scopeMetrics).toEqual([]);
  });
});
