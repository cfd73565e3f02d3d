/**
 * The Node.js runtime series: semantic-convention instruments for OTLP, and on /metrics the
 * names stock Node.js dashboards query (unit suffixes added for the runtime scope only).
 */
import { readFileSync } from 'node:fs';
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createSerializer } from '../src/metrics/exposition.js';
import { RUNTIME_SCOPE, RUNTIME_SERIES, startRuntimeMetrics, type RuntimeMetrics } from '../src/metrics/runtime.js';
import { TestReader } from './support/metrics.js';

let provider: MeterProvider | undefined;
let runtime: RuntimeMetrics | undefined;
afterEach(async () => {
  runtime?.stop();
  await provider?.shutdown();
});

async function collect() {
  const reader = new TestReader();
  provider = new MeterProvider({ readers: [reader] });
  const pending: [(v: number, a: Attributes) => void, number, Attributes][] = [];
  runtime = startRuntimeMetrics(provider.getMeter(RUNTIME_SCOPE), () => ({ p50: 0.001, p99: 0.25, max: 1.5 }), (h, v, a) => pending.push([h, v, a]));
  // A major collection now, so a GC pause is observed.
  (globalThis as { gc?: () => void }).gc?.();
  const junk: unknown[] = [];
  for (let i = 0; i < 200_000; i++) junk.push({ i });
  await new Promise((r) => setTimeout(r, 100));
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
