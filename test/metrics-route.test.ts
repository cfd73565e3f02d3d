/**
 * GET /metrics served in steps: the same exposition the exporter's own handler writes, with the
 * bot's work given a turn of the loop between gathering and formatting. Real server on loopback.
 */
import http from 'node:http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Calls of the plugin's serializer, in order with the bot's work (see the ordering case). */
const order = vi.hoisted(() => [] as string[]);
vi.mock('../src/metrics/exposition.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/metrics/exposition.js')>();
  return {
    ...original,
    createSerializer: () => {
      const serializer = original.createSerializer();
      return {
        serialize: (metrics: Parameters<typeof serializer.serialize>[0]) => {
          order.push('serialize');
          return serializer.serialize(metrics);
        },
      };
    },
  };
});
import { EXPOSITION_CONTENT_TYPE, MIN_COLLECTION_INTERVAL_MS, metricsRoute, type MetricsRouteOptions } from '../src/http/metrics.js';
import { startServer, type RunningServer } from '../src/http/server.js';

let server: RunningServer | undefined;
let provider: MeterProvider | undefined;

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await server?.close();
  await provider?.shutdown();
  server = undefined;
  provider = undefined;
});

/** A request with node:http, which shows the response's framing headers as they came. */
function rawRequest(url: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .request(url, { method, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject)
      .end();
  });
}

async function serve(options: Partial<MetricsRouteOptions> = {}) {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('test');
  const errors: string[] = [];
  server = await startServer({
    name: 'metrics',
    host: '127.0.0.1',
    port: 0,
    onError: () => {},
    routes: { '/metrics': metricsRoute(exporter, { onError: (m) => errors.push(m), ...options }) },
  });
  const url = `http://127.0.0.1:${server!.port}/metrics`;
  return { exporter, meter, errors, url };
}

describe('GET /metrics', () => {
  it("answers with the exporter's own exposition, as Prometheus' text format", async () => {
    const { exporter, meter, url } = await serve();
    meter.createCounter('trades_total').add(3, { side: 'buy' });
    meter.createHistogram('scan_seconds', { advice: { explicitBucketBoundaries: [0.1, 1] } }).record(0.5, { outcome: 'success' });

    const res = await fetch(url);
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(EXPOSITION_CONTENT_TYPE);
    expect(body).toContain('trades_total{side="buy",otel_scope_name="test"} 3');
    expect(body).toContain('scan_seconds_bucket{outcome="success",otel_scope_name="test",le="1"} 1');
    // Byte for byte what the exporter would have served from the same state.
    const { resourceMetrics } = await exporter.collect();
    expect(body).toBe(new PrometheusSerializer().serialize(resourceMetrics));
  });

  it("lets the bot's pending work run between gathering and formatting", async () => {
    const { meter, url } = await serve();
    order.length = 0;
    meter.createObservableGauge('bot_state').addCallback((result) => {
      // Work the bot queued while the collection ran: it must not wait for the formatting too.
      setImmediate(() => order.push('bot'));
      result.observe(1);
    });
    expect((await fetch(url)).status).toBe(200);
    expect(order).toEqual(['bot', 'serialize']);
  });

  it('reports every scrape, and the synchronous time of each collection', async () => {
    const served: number[] = [];
    let scrapes = 0;
    const { url } = await serve({ onServed: (ms) => served.push(ms), onScrape: () => scrapes++ });
    await (await fetch(url)).text();
    await (await fetch(url)).text(); // within the interval: waits for its own collection
    expect(scrapes).toBe(2);
    expect(served).toHaveLength(2);
    for (const ms of served) expect(ms).toBeGreaterThan(0);
  });

  it('answers 500 with one error line when the collection fails', async () => {
    const { exporter, errors, url } = await serve();
    vi.spyOn(exporter, 'collect').mockRejectedValue(new Error('collection timed out'));
    const res = await fetch(url);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('metrics collection failed\n');
    expect(errors).toEqual(['metrics collection failed: Error: collection timed out']);
  });

  it('sends the length of its answer (bytes, not characters) instead of chunking it, for GET, HEAD and the 500', async () => {
    const { exporter, meter, url } = await serve();
    // Non-ASCII HELP text: its UTF-8 bytes outnumber its characters.
    meter.createCounter('fills_total', { description: 'Füllungen — ausgeführt' }).add(1);
    const ok = await rawRequest(url);
    // What the answer must be, from the same state: its bytes outnumber its characters.
    const expected = new PrometheusSerializer().serialize((await exporter.collect()).resourceMetrics);
    expect(expected).toContain('# HELP fills_total Füllungen — ausgeführt');
    expect(Buffer.byteLength(expected)).toBeGreaterThan(expected.length);
    expect(ok.status).toBe(200);
    expect(ok.headers['transfer-encoding']).toBeUndefined();
    expect(Number(ok.headers['content-length'])).toBe(Buffer.byteLength(expected));
    expect(ok.body.toString('utf8')).toBe(expected);

    // HEAD: the same length, no body.
    await new Promise((resolve) => setTimeout(resolve, MIN_COLLECTION_INTERVAL_MS));
    const head = await rawRequest(url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['transfer-encoding']).toBeUndefined();
    expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(expected));
    expect(head.body.length).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, MIN_COLLECTION_INTERVAL_MS));
    vi.spyOn(exporter, 'collect').mockRejectedValue(new Error('collection timed out'));
    const failed = await rawRequest(url);
    expect(failed.status).toBe(500);
    expect(failed.headers['transfer-encoding']).toBeUndefined();
    expect(Number(failed.headers['content-length'])).toBe(Buffer.byteLength('metrics collection failed\n'));
    expect(failed.body.toString()).toBe('metrics collection failed\n');
  });

  it('serves concurrent scrapes from one collection', async () => {
    const SCRAPES = 20;
    let arrived = 0;
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    const served: number[] = [];
    const { exporter, meter, url } = await serve({ onScrape: () => ++arrived === SCRAPES && release(), onServed: (ms) => served.push(ms) });
    meter.createCounter('trades_total').add(1);
    const collect = exporter.collect.bind(exporter);
    const collections = vi.spyOn(exporter, 'collect').mockImplementation(async (...args) => {
      await allArrived; // hold the first collection until every scrape is waiting
      return collect(...args);
    });
    const answers = await Promise.all(Array.from({ length: SCRAPES }, async () => {
      const res = await fetch(url);
      return { status: res.status, body: await res.text() };
    }));
    expect(collections).toHaveBeenCalledTimes(1);
    expect(served).toHaveLength(1);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers[0]!.body).toContain('trades_total{otel_scope_name="test"} 1');

  });

  it(`never answers with data collected before the scrape arrived; collections start ${MIN_COLLECTION_INTERVAL_MS} ms apart at the least`, async () => {
    const { exporter, meter, url } = await serve();
    const trades = meter.createCounter('trades_total');
    const starts: number[] = [];
    const collect = exporter.collect.bind(exporter);
    vi.spyOn(exporter, 'collect').mockImplementation((...args) => {
      starts.push(performance.now());
      return collect(...args);
    });
    trades.add(1);
    expect(await (await fetch(url)).text()).toContain('trades_total{otel_scope_name="test"} 1');
    trades.add(1);
    // Right after the first: it waits for the next collection, which sees the second trade.
    expect(await (await fetch(url)).text()).toContain('trades_total{otel_scope_name="test"} 2');
    expect(starts).toHaveLength(2);
    // libuv times timers on a whole-millisecond clock, so one may fire up to a millisecond early
    // by performance.now(); the spacing counts from each collection's real start (a busy host's
    // turn before the first no longer shortens it: measured 997.5 ms once under CI's load).
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(MIN_COLLECTION_INTERVAL_MS - 1.5);
  });

  it("never makes a scraper at Prometheus' shortest interval (1 s) wait, even one whose requests come a little early", async () => {
    const { exporter, url } = await serve();
    const starts: number[] = [];
    const collect = exporter.collect.bind(exporter);
    vi.spyOn(exporter, 'collect').mockImplementation((...args) => {
      starts.push(performance.now());
      return collect(...args);
    });
    const sentAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      // 1 s apart, 50 ms early: Prometheus' requests jitter around their interval.
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, sentAt[i - 1]! + 950 - performance.now()));
      sentAt.push(performance.now());
      await (await fetch(url)).text();
    }
    expect(starts).toHaveLength(3);
    // Each collection starts as its scrape arrives, not after a wait carried over from the last.
    for (let i = 0; i < 3; i++) expect(starts[i]! - sentAt[i]!).toBeLessThan(40);
  });

  it('answers every waiting scrape 500 with one error line when their shared collection fails', async () => {
    let arrived = 0;
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    const { exporter, errors, url } = await serve({ onScrape: () => ++arrived === 3 && release() });
    vi.spyOn(exporter, 'collect').mockImplementation(async () => {
      await allArrived;
      throw new Error('collection timed out');
    });
    const statuses = await Promise.all([fetch(url), fetch(url), fetch(url)].map(async (p) => (await p).status));
    expect(statuses).toEqual([500, 500, 500]);
    expect(errors).toEqual(['metrics collection failed: Error: collection timed out']);
  });
});
