/**
 * The readings the plugin hands over as MetricProducers (its gauges, the heap and event-loop
 * readings) reach an OTLP push too, not only /metrics: startSdk gives them to the readers it
 * creates. Real OTLP/HTTP JSON export to a loopback server.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { createGaugeProducer } from '../src/metrics/instruments.js';
import { RUNTIME_SCOPE, createRuntimeProducer } from '../src/metrics/runtime.js';
import { startSdk, type StartedSdk } from '../src/plugin/sdk.js';
import { noGauges } from './support/metrics.js';

let server: Server | undefined;
let sdk: StartedSdk | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await sdk?.shutdown();
  server?.close();
  sdk = undefined;
  server = undefined;
});

it('pushes the gauges and the runtime readings over OTLP, each under its scope', async () => {
  const bodies: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/v1/metrics') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  // The exporter reads its endpoint from the process's environment, as NodeSDK's does.
  vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', `http://127.0.0.1:${port}/v1/metrics`);

  sdk = await startSdk({
    env: {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_NODE_RESOURCE_DETECTORS: 'none',
    },
    readers: [],
    metricProducers: [
      createGaugeProducer({ scope: { name: 'polymarket-bot-monitoring', version: '9.9.9' }, gauges: { ...noGauges(), walletsWatched: (observe) => observe(25) }, onGaugeError: () => {} }),
      createRuntimeProducer('9.9.9', () => ({ p50: 0.001, p99: 0.02, max: 0.3 })),
    ],
    views: [],
  });
  await sdk.flush();

  const scopes = bodies.flatMap((body) =>
    (JSON.parse(body) as { resourceMetrics: { scopeMetrics: { scope: { name: string }; metrics: { name: string; gauge?: { dataPoints: { asDouble?: number }[] } }[] }[] }[] })
      .resourceMetrics.flatMap((r) => r.scopeMetrics),
  );
  const metric = (scope: string, name: string) => scopes.filter((s) => s.scope.name === scope).flatMap((s) => s.metrics).find((m) => m.name === name);
  expect(metric('polymarket-bot-monitoring', 'monitoring_wallets_watched')?.gauge?.dataPoints[0]?.asDouble).toBe(25);
  expect(metric(RUNTIME_SCOPE, 'v8js.memory.heap.used')).toBeDefined();
  expect(metric(RUNTIME_SCOPE, 'nodejs.eventloop.delay.p99')?.gauge?.dataPoints[0]?.asDouble).toBe(0.02);
});
