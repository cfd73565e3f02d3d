// Cost of one instrumented trade execution around a no-op, per variant, each in a fresh process:
//
//   absent   the probe with no plugin loaded (what a bot pays when monitoring is off)
//   plugin   the probe with the plugin started (subscribers → histogram, breaker-aware spans)
//   manual   the same span + histogram + counter written by hand against the OTel API, same SDK
//   prom     a prom-client histogram timer (what a user might hand-write instead)
//
// Usage: node bench/per-op.mjs [--quick]   (prints JSON lines; bench/run.mjs makes the table)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const VARIANTS = ['absent', 'plugin', 'manual', 'prom'];
const quick = process.argv.includes('--quick');
const ITERATIONS = quick ? 200_000 : 1_000_000;
const RUNS = quick ? 3 : 7;

const order = { market: '0xmarket', side: 'BUY', size: 10, price: 0.5, sourceWallet: '0x0000000000000000000000000000000000000001' };
const noop = () => 1;

async function setup(variant) {
  if (variant === 'absent') {
    const { traceTradeExecution } = await import('polymarket-bot-monitoring/probe');
    return () => traceTradeExecution(order, noop);
  }
  if (variant === 'plugin') {
    const { startMonitoring } = await import('polymarket-bot-monitoring');
    await startMonitoring({ metricsEnabled: false, dashboardEnabled: false, logLevel: 'error' });
    const { traceTradeExecution } = await import('polymarket-bot-monitoring/probe');
    return () => traceTradeExecution(order, noop);
  }
  if (variant === 'manual') {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    const { metrics, trace, SpanStatusCode } = await import('@opentelemetry/api');
    new NodeSDK({ metricReaders: [new PrometheusExporter({ preventServerStart: true })], spanProcessors: [], logRecordProcessors: [] }).start();
    const meter = metrics.getMeter('manual');
    const tracer = trace.getTracer('manual');
    const histogram = meter.createHistogram('trade_seconds', { advice: { explicitBucketBoundaries: [0.001, 0.01, 0.1, 1] } });
    const counter = meter.createCounter('trades_total');
    return () => {
      const span = tracer.startSpan('trade.execute', { attributes: { side: 'buy' } });
      const started = performance.now();
      try {
        return noop();
      } finally {
        const attrs = { side: 'buy', outcome: 'success' };
        histogram.record((performance.now() - started) / 1000, attrs);
        counter.add(1, attrs);
        span.setStatus({ code: SpanStatusCode.OK });
        span.end();
      }
    };
  }
  if (variant === 'prom') {
    const client = (await import('prom-client')).default;
    const histogram = new client.Histogram({ name: 'trade_seconds', help: 'x', labelNames: ['side', 'outcome'], buckets: [0.001, 0.01, 0.1, 1] });
    return () => {
      const end = histogram.startTimer({ side: 'buy' });
      try {
        return noop();
      } finally {
        end({ outcome: 'success' });
      }
    };
  }
  throw new Error(`unknown variant ${variant}`);
}

async function child(variant) {
  const op = await setup(variant);
  for (let i = 0; i < ITERATIONS / 10; i++) op(); // warm-up: let the JIT settle
  const samples = [];
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) op();
    samples.push(Number(process.hrtime.bigint() - started) / ITERATIONS);
  }
  samples.sort((a, b) => a - b);
  console.log(JSON.stringify({ variant, nsPerOp: samples[Math.floor(samples.length / 2)], runs: RUNS, iterations: ITERATIONS }));
  process.exit(0);
}

export function runPerOp(args = []) {
  return VARIANTS.map((variant) => {
    const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--variant', variant, ...args], {
      encoding: 'utf8',
      env: { ...process.env, MONITORING_LOG_LEVEL: 'error' },
    });
    const line = result.stdout.trim().split('\n').pop();
    if (result.status !== 0 || !line) throw new Error(`per-op ${variant} failed: ${result.stderr}`);
    return JSON.parse(line);
  });
}

const variantIndex = process.argv.indexOf('--variant');
if (variantIndex > 0) {
  await child(process.argv[variantIndex + 1]);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = runPerOp(quick ? ['--quick'] : []);
  const manual = results.find((r) => r.variant === 'manual').nsPerOp;
  for (const r of results) console.log(`${r.variant.padEnd(8)} ${r.nsPerOp.toFixed(1).padStart(8)} ns/op  ${(r.nsPerOp / manual).toFixed(2)}× manual`);
}
