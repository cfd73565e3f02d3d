/**
 * The /metrics serializer writes byte for byte what the exporter's own PrometheusSerializer
 * writes, for every kind of point and label, scrape after scrape while its caches fill and the
 * values move; and it really is the cached one (the exporter still has the two steps it replaces).
 */
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
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
    // A gauge's series can come and go between scrapes: the lines after it move up or down a place.
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
