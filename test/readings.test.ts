/**
 * The readings producers (gauges, runtime) against the SDK's own behaviour in the same collection:
 * what a reader gets from them must look as it did when they were observable instruments.
 */
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSerializer } from '../src/metrics/exposition.js';
import { createGaugeProducer } from '../src/metrics/instruments.js';
import { createRuntimeProducer } from '../src/metrics/runtime.js';
import { noGauges } from './support/metrics.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const provider of providers.splice(0)) await provider.shutdown();
});

function endMs(metrics: ResourceMetrics, name: string): number {
  const metric = metrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name);
  if (!metric) throw new Error(`${name} not collected`);
  return hrTimeToMilliseconds(metric.dataPoints[0]!.endTime);
}

describe('readings', () => {
  it("carry the SDK's clock, not a monotonic one that drifted from it (a suspend, a VM migration, a clock step)", async () => {
    const gauges = createGaugeProducer({ scope: { name: 'p', version: '1' }, gauges: { ...noGauges(), walletsWatched: (observe) => observe(25) }, onGaugeError: () => {} });
    const runtime = createRuntimeProducer('1', () => ({ p50: 0.001, p99: 0.002, max: 0.003 }));
    const reader = new TestReader({ metricProducers: [gauges, runtime] });
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    const meter = provider.getMeter('p', '1');
    meter.createCounter('c').add(1);
    // The wall clock an hour ahead of performance.now(): what a host looks like after it slept.
    const wallClock = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => wallClock() + 3_600_000);

    const { resourceMetrics } = await reader.collect();
    const counterEnd = endMs(resourceMetrics, 'c');
    expect(Math.abs(endMs(resourceMetrics, 'monitoring_wallets_watched') - counterEnd)).toBeLessThan(1_000);
    expect(Math.abs(endMs(resourceMetrics, 'v8js.memory.heap.used') - counterEnd)).toBeLessThan(1_000);
    expect(Math.abs(endMs(resourceMetrics, 'nodejs.eventloop.delay.p99') - counterEnd)).toBeLessThan(1_000);
  });

  it('leave out a gauge that read nothing, as the SDK leaves out an observable gauge that observed nothing', async () => {
    let watched: number | undefined;
    const gauges = createGaugeProducer({
      scope: { name: 'p' },
      gauges: { ...noGauges(), walletsWatched: (observe) => void (watched !== undefined && observe(watched)) },
      onGaugeError: () => {},
    });
    const reader = new TestReader({ metricProducers: [gauges] });
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    // The control: the SDK's own gauge whose callback observes nothing.
    provider.getMeter('bot').createObservableGauge('bot_quiet').addCallback(() => {});
    const serializer = createSerializer();

    const empty = await reader.collect();
    expect(empty.resourceMetrics.scopeMetrics).toEqual([]);
    expect(serializer.serialize(empty.resourceMetrics, 'prometheus')).not.toMatch(/monitoring_|bot_quiet/);

    watched = 25;
    const read = await reader.collect();
    expect(read.resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => [m.descriptor.name, m.dataPoints.length]))).toEqual([
      ['monitoring_wallets_watched', 1],
    ]);
    const body = serializer.serialize(read.resourceMetrics, 'prometheus');
    expect(body).toContain('monitoring_wallets_watched{otel_scope_name="p"} 25');
    expect(body.match(/^# HELP monitoring_/gm)).toHaveLength(1);
  });
});
