/**
 * The readings the plugin hands over as MetricProducers (its gauges, the heap and event-loop
 * readings) reach an OTLP push too, not only /metrics: startSdk gives them to the readers it
 * creates. Real OTLP/HTTP JSON export to a loopback server.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { HostMetrics } from '@opentelemetry/host-metrics';
import { createHostReadings } from '../src/metrics/host.js';
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

/** A loopback OTLP/HTTP receiver the exporter is pointed at; the JSON bodies it got. */
async function startReceiver(): Promise<string[]> {
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
  return bodies;
}

const OTLP_ENV = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_NODE_RESOURCE_DETECTORS: 'none' };

interface OtlpSum {
  aggregationTemporality: number;
  isMonotonic?: boolean;
  dataPoints: { asDouble?: number; startTimeUnixNano: string; timeUnixNano: string; attributes: { key: string; value: { stringValue?: string } }[] }[];
}
type OtlpMetric = { name: string; gauge?: { dataPoints: { asDouble?: number }[] }; sum?: OtlpSum };

function metricsIn(bodies: string[]): { scope: string; metric: OtlpMetric }[] {
  return bodies.flatMap((body) =>
    (JSON.parse(body) as { resourceMetrics: { scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[] }[] }).resourceMetrics.flatMap((r) =>
      r.scopeMetrics.flatMap((s) => s.metrics.map((metric) => ({ scope: s.scope.name, metric }))),
    ),
  );
}

it('pushes the gauges and the runtime readings over OTLP, each under its scope', async () => {
  const bodies = await startReceiver();
  sdk = await startSdk({
    env: OTLP_ENV,
    readers: [],
    metricProducers: () => [
      createGaugeProducer({ scope: { name: 'polymarket-bot-monitoring', version: '9.9.9' }, gauges: { ...noGauges(), walletsWatched: (observe) => observe(25) }, onGaugeError: () => {} }),
      createRuntimeProducer('9.9.9', () => ({ p50: 0.001, p99: 0.02, max: 0.3 })),
    ],
    views: [],
  });
  await sdk.flush();

  const metric = (scope: string, name: string) => metricsIn(bodies).find((m) => m.scope === scope && m.metric.name === name)?.metric;
  expect(metric('polymarket-bot-monitoring', 'monitoring_wallets_watched')?.gauge?.dataPoints[0]?.asDouble).toBe(25);
  expect(metric(RUNTIME_SCOPE, 'v8js.memory.heap.used')).toBeDefined();
  expect(metric(RUNTIME_SCOPE, 'nodejs.eventloop.delay.p99')?.gauge?.dataPoints[0]?.asDouble).toBe(0.02);
});

const OTLP_DELTA = 1;
const OTLP_CUMULATIVE = 2;

it.each([
  ['delta', OTLP_DELTA],
  ['cumulative', OTLP_CUMULATIVE],
])("pushes host-metrics' CPU time as the exporter's temporality preference (%s) asks", async (preference, temporality) => {
  const bodies = await startReceiver();
  vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', preference);
  const readings = createHostReadings(() => {});
  new HostMetrics({ meterProvider: readings.meterProvider, name: 'bot-host', metricGroups: ['process.cpu'] }).start();
  sdk = await startSdk({ env: OTLP_ENV, readers: [], metricProducers: (selector) => [readings.producer(selector)], views: [] });
  const userTime = () => {
    const cpu = metricsIn(bodies).filter(({ scope, metric }) => scope === 'bot-host' && metric.name === 'process.cpu.time');
    return cpu.map(({ metric }) => ({ sum: metric.sum!, point: metric.sum!.dataPoints.find((p) => p.attributes.some((a) => a.value.stringValue === 'user'))! }));
  };
  const burn = () => {
    const until = performance.now() + 20;
    while (performance.now() < until);
  };
  burn();
  await sdk.flush();
  burn();
  await sdk.flush();
  const [first, second] = userTime();
  expect(first!.sum).toMatchObject({ aggregationTemporality: temporality, isMonotonic: true });
  expect(second!.sum.aggregationTemporality).toBe(temporality);
  const cumulativeCpu = process.cpuUsage().user / 1e6;
  if (temporality === OTLP_DELTA) {
    // The second export covers only the time since the first: it starts where the first ended.
    expect(second!.point.startTimeUnixNano).toBe(first!.point.timeUnixNano);
    expect(second!.point.asDouble!).toBeGreaterThan(0);
    expect(second!.point.asDouble!).toBeLessThan(cumulativeCpu / 2);
  } else {
    expect(second!.point.startTimeUnixNano).toBe(first!.point.startTimeUnixNano);
    expect(second!.point.asDouble!).toBeGreaterThan(first!.point.asDouble!);
  }
});
