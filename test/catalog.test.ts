import { MeterProvider, InMemoryMetricExporter, AggregationTemporality, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { describe, expect, it } from 'vitest';
import { METRICS, METRIC_LIST } from '../src/metrics/catalog.js';
import { MAX_SERIES_PER_INSTRUMENT, createGaugeProducer, createInstruments, initialLabelSets, type GaugeKey, type GaugeReader } from '../src/metrics/instruments.js';
import { parseExposition } from './e2e/harness.js';

/** The eight series the predecessor published, by the exact names dashboards already use. */
const SEED_SERIES = [
  'monitoring_health_checks_total',
  'monitoring_alerts_sent_total',
  'monitoring_alerts_suppressed_total',
  'monitoring_cpu_usage_percent',
  'monitoring_memory_usage_mb',
  'monitoring_component_status',
  'monitoring_circuit_breaker',
  'monitoring_health_check_duration_seconds',
];

function gaugeStubs(value = 1): Record<GaugeKey, GaugeReader> {
  const stubs = {} as Record<GaugeKey, GaugeReader>;
  for (const [key, def] of Object.entries(METRICS)) {
    if (def.type === 'gauge') stubs[key as GaugeKey] = (observe) => observe(value, def.labels.length ? { [def.labels[0]!]: 'x' } : {});
  }
  return stubs;
}

const gauges = (readers: Record<GaugeKey, GaugeReader>, onGaugeError: (name: string) => void = () => {}) =>
  createGaugeProducer({ scope: { name: 'test' }, gauges: readers, onGaugeError });

async function exposition(reader: PrometheusExporter): Promise<string> {
  const { resourceMetrics } = await reader.collect();
  const { PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
  return new PrometheusSerializer().serialize(resourceMetrics);
}

describe('instrument catalog', () => {
  it('holds the eight seed series under their exact names', () => {
    const seed = METRIC_LIST.filter((m) => m.seed).map((m) => m.name);
    expect(seed.sort()).toEqual([...SEED_SERIES].sort());
  });

  it.each(METRIC_LIST.map((m) => [m.name, m] as const))('%s follows Prometheus naming', (name, def) => {
    expect(name).toMatch(/^monitoring_[a-z0-9_]+$/);
    if (def.type === 'counter') expect(name).toMatch(/_total$/);
    else expect(name).not.toMatch(/_total$/);
    if (def.type === 'histogram') {
      expect(name).toMatch(/_seconds$/);
      expect(def.unit).toBe('s');
      // Seconds-scaled: the SDK's default buckets go up to 10 000 (milliseconds).
      expect(Math.max(...(def.buckets ?? [10_000]))).toBeLessThanOrEqual(60);
      expect(Math.min(...(def.buckets ?? [0]))).toBeGreaterThan(0);
    }
    expect(def.help.length).toBeGreaterThan(10);
  });

  it('has no duplicate names', () => {
    const names = METRIC_LIST.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('expands initial label values into every combination', () => {
    expect(initialLabelSets({ name: 'x', type: 'counter', unit: '', help: '', labels: ['a', 'b'], initial: { a: ['1', '2'], b: ['x', 'y'] } })).toEqual([
      { a: '1', b: 'x' },
      { a: '1', b: 'y' },
      { a: '2', b: 'x' },
      { a: '2', b: 'y' },
    ]);
    expect(initialLabelSets(METRICS.alertsSuppressed)).toEqual([{}]);
  });

  it('exposes every catalog series through the Prometheus exporter under its exact name', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true, metricProducers: [gauges(gaugeStubs())] });
    const provider = new MeterProvider({ readers: [reader] });
    const { histograms, counters } = createInstruments(provider.getMeter('test'));
    for (const histogram of Object.values(histograms)) histogram.record(0.003);
    // Counters whose label values are only known at run time appear with their first value.
    counters.apiRequests.add(1, { api: 'clob', outcome: 'success' });
    const names = new Set(parseExposition(await exposition(reader)).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    for (const def of METRIC_LIST) expect(names, def.name).toContain(def.name);
    await provider.shutdown();
  });

  it('starts counters at 0 for each known label value, so rate() works from the first scrape', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true, metricProducers: [gauges(gaugeStubs())] });
    const provider = new MeterProvider({ readers: [reader] });
    createInstruments(provider.getMeter('test'));
    const samples = parseExposition(await exposition(reader));
    const statuses = samples.filter((s) => s.name === 'monitoring_health_checks_total').map((s) => [s.labels.status, s.value]);
    expect(statuses.sort()).toEqual([['critical', 0], ['degraded', 0], ['healthy', 0]]);
    const severities = samples.filter((s) => s.name === 'monitoring_alerts_sent_total').map((s) => s.labels.severity);
    expect(severities.sort()).toEqual(['critical', 'info', 'warning']);
    expect(samples.find((s) => s.name === 'monitoring_alerts_suppressed_total')?.value).toBe(0);
    await provider.shutdown();
  });

  it('starts no counter series with labels missing', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true, metricProducers: [gauges(gaugeStubs())] });
    const provider = new MeterProvider({ readers: [reader] });
    createInstruments(provider.getMeter('test'));
    const samples = parseExposition(await exposition(reader));
    for (const def of METRIC_LIST.filter((m) => m.type === 'counter')) {
      for (const sample of samples.filter((s) => s.name === def.name)) {
        for (const label of def.labels) expect(sample.labels, `${def.name} without ${label}`).toHaveProperty(label);
      }
    }
    await provider.shutdown();
  });

  it('drops non-finite gauge readings and survives a throwing gauge', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const errors: string[] = [];
    const producer = gauges(
      {
        ...gaugeStubs(),
        cpuUsage: (observe) => observe(Number.NaN),
        memoryUsage: () => {
          throw new Error('boom');
        },
      },
      (name) => errors.push(name),
    );
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000, metricProducers: [producer] });
    const provider = new MeterProvider({ readers: [reader] });
    const { resourceMetrics } = await reader.collect();
    const byName = new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m.dataPoints.length]));
    expect(byName.get('monitoring_cpu_usage_percent') ?? 0).toBe(0);
    expect(byName.get('monitoring_memory_usage_mb') ?? 0).toBe(0);
    expect(byName.get('monitoring_circuit_breaker')).toBe(1);
    expect(errors).toEqual(['monitoring_memory_usage_mb']);
    await provider.shutdown();
  });

  it('keeps a gauge to its series limit and its series to one attributes object each', async () => {
    let apis = 0;
    const producer = gauges({ ...gaugeStubs(), apiSuccessRatio: (observe) => { for (let i = 0; i < apis; i++) observe(1, { api: `api-${i}` }); } });
    const points = async () =>
      (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'monitoring_api_success_ratio')!.dataPoints;
    apis = 3;
    const first = await points();
    const second = await points();
    expect(second.map((p) => p.attributes)).toEqual([{ api: 'api-0' }, { api: 'api-1' }, { api: 'api-2' }]);
    // The same object for a series at every collection (the exposition keeps its text by it).
    expect(second[1]!.attributes).toBe(first[1]!.attributes);
    apis = MAX_SERIES_PER_INSTRUMENT + 50;
    expect(await points()).toHaveLength(MAX_SERIES_PER_INSTRUMENT);
  });

});
