/**
 * The /metrics serializer writes byte for byte what the exporter's own PrometheusSerializer
 * writes, for every kind of point and label, scrape after scrape while its caches fill and the
 * values move; and it really is the cached one (the exporter still has the two steps it replaces).
 */
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, MeterProvider, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { Exemplars } from '../src/metrics/exemplars.js';
import { createSerializer } from '../src/metrics/exposition.js';
import { TestReader } from './support/metrics.js';

let provider: MeterProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

function setUp() {
  const reader = new TestReader();
  provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'bot "one"', 'host.name': 'a\\b\nc', 'process.pid': 42 }),
    readers: [reader],
  });
  const meter = provider.getMeter('polymarket-bot-monitoring', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  const other = provider.getMeter('other-scope');
  return { reader, meter, other };
}

describe('the /metrics serializer', () => {
  it('writes what the stock serializer writes, for counters, gauges, histograms and awkward labels, scrape after scrape', async () => {
    const { reader, meter, other } = setUp();
    const trades = meter.createCounter('monitoring_trades', { description: 'Trades "copied"\nby the bot', unit: '1' });
    const ok = { side: 'BUY', outcome: 'success' };
    const odd = { 'http.route': '/a"b\\c\nd', 'weird-key.name': 7, flag: true, list: ['x', 'y'] };
    const scans = meter.createHistogram('monitoring_scan_duration', { unit: 's', advice: { explicitBucketBoundaries: [0.005, 0.1, 1, 2.5] } });
    const balance = meter.createUpDownCounter('monitoring_balance');
    const pnl = meter.createObservableGauge('monitoring_daily_pnl_usd');
    let pnlValue = -12.5;
    // A gauge's series added later (the SDK keeps it, last in its order, at its last value).
    let extraWallet = false;
    pnl.addCallback((result) => {
      result.observe(pnlValue, { wallet: '…abc123' });
      if (extraWallet) result.observe(1, { wallet: 'extra' });
      result.observe(Number.POSITIVE_INFINITY, { wallet: 'inf' });
      result.observe(0); // no labels at all
    });
    const same = other.createCounter('monitoring_trades', { description: 'Trades "copied"\nby the bot', unit: '1' });
    // Metadata conflicts between scopes: a TYPE conflict drops the family, a HELP or UNIT conflict keeps the first.
    meter.createCounter('conflicting_type').add(1);
    other.createHistogram('conflicting_type').record(1);
    meter.createCounter('conflicting_help', { description: 'first', unit: 's' }).add(1);
    other.createCounter('conflicting_help', { description: 'second', unit: 'ms' }).add(2);
    meter.createCounter('9lives').add(1);
    const plain = other.createHistogram('no_bounds_seconds');

    const stock = new PrometheusSerializer();
    const ours = createSerializer();
    const compare = async (round: number) => {
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      expect(ours.serialize(resourceMetrics), `scrape ${round}`).toBe(stock.serialize(resourceMetrics));
    };

    trades.add(1, ok);
    trades.add(2, odd);
    scans.record(0.003, { outcome: 'success' });
    scans.record(0.7, { outcome: 'success' });
    scans.record(30, { outcome: 'error' });
    balance.add(-3.25, { asset: 'USDC' });
    same.add(5, ok);
    plain.record(0.25);
    await compare(1);

    // The caches are warm now; values move, series come and go.
    trades.add(4, ok);
    trades.add(1, { side: 'SELL', outcome: 'failure' });
    scans.record(1.5, { outcome: 'success' });
    scans.record(0.1, {});
    balance.add(0.1, { asset: 'USDC' });
    pnlValue = 3.75;
    plain.record(1e-9);
    await compare(2);
    await compare(3);
    extraWallet = true;
    await compare(4);
    extraWallet = false;
    pnlValue = 4;
    await compare(5);
    await compare(6);
  });

  it("is the plugin's own: the exporter's serializer is only the reference it is compared with", () => {
    expect(createSerializer()).not.toBeInstanceOf(PrometheusSerializer);
  });

  it('writes, after a series leaves the middle of a metric and comes back, what a serializer with nothing kept writes', () => {
    const scope = { name: 'polymarket-bot-monitoring', version: '1.0.0' };
    const gauge = { name: 'monitoring_component_status', description: 'Status', unit: '', valueType: 1 };
    const scans = { name: 'monitoring_wallet_scan_duration_seconds', description: 'Scans', unit: 's', valueType: 1 };
    const series = ['a', 'b', 'c'].map((component) => ({ component }));
    const time: [number, number] = [1, 0];
    const exemplars = new Exemplars({ [scans.name]: [0.1, 1] });
    exemplars.offer(scans.name, series[1]!, 0.5, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }, 1_700_000_000_000);
    const collection = (present: number[], value: number): ResourceMetrics => {
      const points = present.map((i) => ({ startTime: time, endTime: time, attributes: series[i]!, value: value + i }));
      const histogramPoints = present.map((i) => ({
        startTime: time,
        endTime: time,
        attributes: series[i]!,
        value: { buckets: { boundaries: [0.1, 1], counts: [i, 1, 0] }, sum: 0.5 + i, count: i + 1 },
      }));
      const metrics: MetricData[] = [
        { descriptor: gauge, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints: points },
        { descriptor: scans, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints },
      ];
      return { resource: resourceFromAttributes({ 'service.name': 'bot' }), scopeMetrics: [{ scope, metrics }] };
    };
    const warm = createSerializer({ exemplars });
    const steps: [string, number[], number][] = [
      ['all three', [0, 1, 2], 1],
      ['the same again', [0, 1, 2], 1],
      ['the middle one gone', [0, 2], 1],
      ['back', [0, 1, 2], 1],
      ['the first gone, values moved', [1, 2], 2],
      ['the same again', [1, 2], 2],
      ['all three, values back', [0, 1, 2], 1],
    ];
    for (const [step, present, value] of steps) {
      const metrics = collection(present, value);
      for (const format of ['prometheus', 'openmetrics'] as const) {
        expect(warm.serialize(metrics, format), `${step}, ${format}`).toBe(createSerializer({ exemplars }).serialize(metrics, format));
      }
    }
  });

  it('never answers with kept text after a series it could not write (a BigInt label fails the scrapes while it is there)', () => {
    const scope = { name: 'polymarket-bot-monitoring', version: '1.0.0' };
    const descriptor = { name: 'monitoring_api_consecutive_failures', description: '', unit: '', valueType: 1 };
    const time: [number, number] = [1, 0];
    const a = { api: 'clob' };
    const b = { api: 'gamma' };
    const odd = { api: 'data', block: 5n as unknown as number };
    const collection = (points: [Record<string, unknown>, number][]): ResourceMetrics => ({
      resource: resourceFromAttributes({ 'service.name': 'bot' }),
      scopeMetrics: [
        {
          scope,
          metrics: [
            {
              descriptor,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.GAUGE,
              dataPoints: points.map(([attributes, value]) => ({ startTime: time, endTime: time, attributes: attributes as never, value })),
            },
          ],
        },
      ],
    });
    const warm = createSerializer();
    const fresh = (metrics: ResourceMetrics) => createSerializer().serialize(metrics);
    for (let i = 0; i < 2; i++) warm.serialize(collection([[a, 1], [b, 0]]));
    // As a serializer with nothing kept: it fails for as long as the series is there, never answering with old text.
    expect(() => fresh(collection([[a, 2], [odd, 0]]))).toThrow();
    expect(() => warm.serialize(collection([[a, 2], [odd, 0]]))).toThrow();
    expect(() => warm.serialize(collection([[a, 2], [odd, 0]]))).toThrow();
    for (const points of [[[a, 2], [b, 0]], [[a, 1], [b, 0]], [[a, 2]]] as [Record<string, unknown>, number][][]) {
      expect(warm.serialize(collection(points))).toBe(fresh(collection(points)));
    }
  });

  it('writes a metric of the bot\'s named target_info under the resource\'s line, as the exporter does', async () => {
    const { reader, meter } = setUp();
    meter.createObservableGauge('target_info').addCallback((result) => result.observe(1, { extra: 'yes' }));
    meter.createCounter('monitoring_trades').add(1);
    const ours = createSerializer();
    for (let round = 1; round <= 2; round++) {
      const { resourceMetrics } = await reader.collect();
      expect(ours.serialize(resourceMetrics), `scrape ${round}`).toBe(new PrometheusSerializer().serialize(resourceMetrics));
    }
  });

  it('builds a series\' label text once, not at every scrape', async () => {
    const { reader, meter } = setUp();
    const counter = meter.createCounter('monitoring_api_requests');
    const attributes = { api: 'clob', outcome: 'success' };
    counter.add(1, attributes);
    const ours = createSerializer();
    ours.serialize((await reader.collect()).resourceMetrics);
    // Reading the keys of an attributes object is how the label text is built: count the reads.
    let reads = 0;
    const watched = new Proxy(attributes, {
      ownKeys(target) {
        reads += 1;
        return Reflect.ownKeys(target);
      },
    });
    const { resourceMetrics } = await reader.collect();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) for (const point of metric.dataPoints) if (point.attributes === attributes) (point as { attributes: object }).attributes = watched;
    const body = ours.serialize(resourceMetrics);
    expect(body).toContain('monitoring_api_requests_total{api="clob",outcome="success",otel_scope_name="polymarket-bot-monitoring",');
    // The proxy is a new object to the cache: read once; serialising again reads it no more.
    ours.serialize(resourceMetrics);
    expect(reads).toBe(1);
  });
});
