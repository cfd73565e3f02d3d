/**
 * The standard OTEL_* variables on a real bot process, as an OpenTelemetry user would set them:
 * the OTel Prometheus exporter's port, OTLP metrics from OTEL_METRICS_EXPORTER alone (to the
 * default endpoint, a real HTTP receiver on loopback), OpenMetrics with exemplars that lead to
 * the spans the bot recorded, and OTEL_LOG_LEVEL through the plugin's own log.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, get, killAll, spawnBot } from './harness.js';

afterEach(() => killAll());

/** Listens on a fixed port when it is free; undefined when something else has it. */
async function listenOn(port: number, handler: http.RequestListener = (_req, res) => res.end()): Promise<http.Server | undefined> {
  const server = http.createServer(handler);
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('OpenTelemetry environment parity', () => {
  it('serves /metrics on 9464 by default, and where OTEL_EXPORTER_PROMETHEUS_PORT says', async (context) => {
    const other = await freePort();
    const bot = spawnBot({ env: { DASHBOARD_PORT: String(await freePort()), OTEL_EXPORTER_PROMETHEUS_PORT: String(other) } });
    const line = await bot.waitForLine(/monitoring started/);
    expect(line).toContain(`metrics http://127.0.0.1:${other}/metrics`);
    expect((await get(`http://127.0.0.1:${other}/metrics`)).status).toBe(200);
    bot.kill();
    if (!(await portFree(9464))) return context.skip('port 9464 is taken on this machine');
    const plain = spawnBot({ env: { DASHBOARD_PORT: String(await freePort()) } });
    expect(await plain.waitForLine(/monitoring started/)).toContain('metrics http://127.0.0.1:9464/metrics');
    expect((await get('http://127.0.0.1:9464/metrics')).body).toMatch(/^monitoring_health_checks_total/m);
  });

  it('OTEL_METRICS_EXPORTER=otlp alone pushes to the default OTLP/HTTP endpoint, and /metrics stays closed', async (context) => {
    const requests: string[] = [];
    const receiver = await listenOn(4318, (req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    if (!receiver) return context.skip('port 4318 (the OTLP/HTTP default) is taken on this machine');
    try {
      const metricsPort = await freePort();
      const bot = spawnBot({
        env: { METRICS_PORT: String(metricsPort), DASHBOARD_PORT: String(await freePort()), OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '500' },
      });
      const line = await bot.waitForLine(/monitoring started/);
      expect(line).toContain('metrics off');
      expect(line).toContain('metric push otlp http/protobuf to http://localhost:4318/v1/metrics');
      expect(line).toContain('span export off');
      const deadline = Date.now() + 10_000;
      while (requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(requests[0]).toBe('POST /v1/metrics application/x-protobuf');
      await expect(get(`http://127.0.0.1:${metricsPort}/metrics`, 500)).rejects.toThrow();
    } finally {
      receiver.close();
    }
  });

  it('answers an OpenMetrics scrape with exemplars carrying the trace ids of the spans it exported', async () => {
    const env = { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) };
    const bot = spawnBot({ env: { ...env, OTEL_TRACES_EXPORTER: 'console', DEMO_SCAN_INTERVAL_MS: '100', DEMO_LATENCY_SCALE: '0.05' } });
    await bot.waitForLine(/monitoring started/);
    const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    let body = '';
    const deadline = Date.now() + 15_000;
    while (!/ # \{trace_id="/.test(body) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`, { headers: { accept } });
      expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      body = await res.text();
    }
    expect(body.endsWith('# EOF\n')).toBe(true);
    const exemplar = /^monitoring_wallet_scan_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} [\d.e-]+ [\d.]+$/m.exec(body);
    expect(exemplar, body.slice(0, 3000)).not.toBeNull();
    // The console exporter printed that span (stdout): the exemplar points at a real trace.
    const deadlineSpan = Date.now() + 10_000;
    while (!bot.output().includes(exemplar![2]!) && Date.now() < deadlineSpan) await new Promise((r) => setTimeout(r, 200));
    expect(bot.output()).toContain(`id: '${exemplar![2]}'`);
    // The classic format has none.
    expect((await get(`http://127.0.0.1:${env.METRICS_PORT}/metrics`)).body).not.toContain('# {');
    // A notice about a failed trade names its trace: the log line carries the ids of an exported span.
    const notice = JSON.parse(await bot.waitForLine(/"rule":"PolymarketBotTradeFailed"/, 20_000)) as { trace_id?: string; span_id?: string };
    expect(notice.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const deadlineNotice = Date.now() + 10_000;
    while (!bot.output().includes(`id: '${notice.span_id}'`) && Date.now() < deadlineNotice) await new Promise((r) => setTimeout(r, 200));
    expect(bot.output()).toContain(`traceId: '${notice.trace_id}'`);
  });

  it('writes the SDK\'s own lines at OTEL_LOG_LEVEL through the plugin\'s log (stderr, its format), never on stdout', async () => {
    const env = { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) };
    const bot = spawnBot({ env: { ...env, OTEL_LOG_LEVEL: 'debug', MONITORING_LOG_FORMAT: 'logfmt' } });
    await bot.waitForLine(/monitoring started/);
    let stdout = '';
    bot.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const debug = await bot.waitForLine(/level=debug component=otel msg=/);
    expect(debug).toMatch(/^time=\S+ level=debug component=otel msg=/);
    expect(stdout).not.toMatch(/component=otel|@opentelemetry/);
  });
});
