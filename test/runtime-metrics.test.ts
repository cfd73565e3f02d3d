/**
 * The Node.js runtime series: semantic-convention instruments for OTLP, and on /metrics the
 * names stock Node.js dashboards query (unit suffixes added for the runtime scope only).
 */
import { readFileSync } from 'node:fs';
import type { Attributes } from '@opentelemetry/api';
import v8 from 'node:v8';
import { AggregationTemporality, DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSerializer } from '../src/metrics/exposition.js';
import { RUNTIME_SCOPE, RUNTIME_SERIES, createRuntimeProducer, startRuntimeMetrics, type RuntimeMetrics } from '../src/metrics/runtime.js';
import { TestReader } from './support/metrics.js';

let provider: MeterProvider | undefined;
let runtime: RuntimeMetrics | undefined;
afterEach(async () => {
  runtime?.stop();
  await provider?.shutdown();
});

async function collect() {
  const reader = new TestReader({ metricProducers: [createRuntimeProducer('1.0.0', () => ({ p50: 0.001, p99: 0.25, max: 1.5 }))] });
  provider = new MeterProvider({ readers: [reader] });
  const pending: [(v: number, a: Attributes) => void, number, Attributes][] = [];
  runtime = startRuntimeMetrics(provider.getMeter(RUNTIME_SCOPE), (h, v, a) => pending.push([h, v, a]));
  // Garbage until V8 has collected and reported at least one pause (the observer is called some
  // time after the pause: on a loaded machine one fixed wait was not always enough).
  const deadline = Date.now() + 10_000;
  while (pending.length === 0 && Date.now() < deadline) {
    const junk: unknown[] = [];
    for (let i = 0; i < 200_000; i++) junk.push({ i });
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const [sink, v, a] of pending) sink(v, a);
  await new Promise((r) => setTimeout(r, 1_050));
  return (await reader.collect()).resourceMetrics;
}

describe('runtime metrics', () => {
  it('are instruments with the semantic-convention names and units', async () => {
    const metrics = await collect();
    const byName = new Map(metrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    expect(byName.get('v8js.memory.heap.used')?.descriptor.unit).toBe('By');
    expect(byName.get('v8js.memory.heap.used')?.dataPoints.map((p) => p.attributes['v8js.heap.space.name'])).toContain('old_space');
    expect(byName.get('nodejs.eventloop.delay.p99')?.dataPoints[0]?.value).toBe(0.25);
    expect(byName.get('nodejs.eventloop.utilization')?.descriptor.unit).toBe('1');
    const utilisation = byName.get('nodejs.eventloop.utilization')?.dataPoints[0]?.value as number;
    expect(utilisation).toBeGreaterThan(0);
    expect(utilisation).toBeLessThanOrEqual(1);
    expect(byName.get('v8js.gc.duration')?.descriptor.unit).toBe('s');
    // Heap sizes are cumulative non-monotonic sums, as the SDK makes an observable up-down counter's.
    const used = byName.get('v8js.memory.heap.used');
    expect(used?.dataPointType).toBe(DataPointType.SUM);
    expect(used && 'isMonotonic' in used && used.isMonotonic).toBe(false);
    expect(used?.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    for (const scope of metrics.scopeMetrics.filter((s) => s.metrics.some((m) => m.descriptor.name.startsWith('v8js.memory')))) {
      expect(scope.scope).toEqual({ name: RUNTIME_SCOPE, version: '1.0.0' });
    }
  });

  it('leave out the heap spaces V8 has not used, and keep a space once it has been used', async () => {
    const spaces = new Map<string, { size: number; physical: number }>();
    const statistics = vi.spyOn(v8, 'getHeapSpaceStatistics').mockImplementation(() =>
      [...spaces].map(([space_name, { size, physical }]) => ({ space_name, space_size: size, space_used_size: size / 2, space_available_size: 0, physical_space_size: physical })),
    );
    try {
      const producer = createRuntimeProducer('1.0.0', () => undefined);
      const reported = async () => {
        const { resourceMetrics } = await producer.collect();
        const used = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'v8js.memory.heap.used')!;
        return used.dataPoints.map((p) => p.attributes['v8js.heap.space.name']);
      };
      spaces.set('old_space', { size: 4096, physical: 4096 }).set('shared_space', { size: 0, physical: 0 });
      expect(await reported()).toEqual(['old_space']);
      spaces.set('shared_space', { size: 256, physical: 0 });
      expect(await reported()).toEqual(['old_space', 'shared_space']);
      // Emptied again: still reported (a series that comes and goes breaks rate() and dashboards).
      spaces.set('shared_space', { size: 0, physical: 0 });
      expect(await reported()).toEqual(['old_space', 'shared_space']);
    } finally {
      statistics.mockRestore();
    }
  });

  it('report a failed heap reading as the collection\'s error, with the other readers unharmed', async () => {
    const statistics = vi.spyOn(v8, 'getHeapSpaceStatistics').mockImplementation(() => {
      throw new Error('no heap statistics');
    });
    try {
      const { resourceMetrics, errors } = await createRuntimeProducer('1.0.0', () => undefined).collect();
      expect(resourceMetrics.scopeMetrics).toEqual([]);
      expect(errors.map(String)).toEqual(['Error: no heap statistics']);
    } finally {
      statistics.mockRestore();
    }
  });

  it('show on /metrics under the listed names, suffixed with their units', async () => {
    const text = createSerializer({ unitSuffixScopes: [RUNTIME_SCOPE] }).serialize(await collect());
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(families.sort()).toEqual([...RUNTIME_SERIES, 'target_info'].sort());
    expect(text).toMatch(/^v8js_gc_duration_seconds_bucket\{v8js_gc_type="(major|minor|incremental|weakcb)",/m);
    // Without the scope listed, the exporter's names (no unit suffix).
    expect(createSerializer().serialize(await collect())).toMatch(/^# TYPE v8js_memory_heap_used gauge$/m);
  });

  it('are documented in docs/metrics.md', () => {
    const docs = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
    for (const name of RUNTIME_SERIES) expect(docs, name).toContain(`\`${name}\``);
  });
});
