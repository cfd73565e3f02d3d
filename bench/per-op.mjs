// Cost of one instrumented operation around a no-op, per variant and operation, each pair in a
// fresh process:
//
//   absent   the probe with no plugin loaded (what a bot pays when monitoring is off)
//   plugin   the probe with the plugin started (subscribers → histogram, breaker-aware spans)
//   manual   the same span + histogram + counter written by hand against the OTel API, same SDK
//   prom     a prom-client histogram timer (what a user might hand-write instead)
//
// Operations: `trade` = traceTradeExecution(order, noop), `scan` = traceWalletScan(wallet, noop).
// In `manual`, as in the plugin without a trace exporter, NodeSDK has no span processor, so the
// span is the API's non-recording span: both pay for the same things.
//
// Usage: node bench/per-op.mjs [--quick|--smoke]   (prints a table; bench/run.mjs makes the full one)
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanEnv, median } from './lib.mjs';

export const VARIANTS = ['absent', 'plugin', 'manual', 'prom'];
export const OPS = ['trade', 'scan'];

/**
 * Per mode: processes per variant × operation (interleaved, so a noisy minute hits every variant),
 * timed runs per process, and the wall time each run aims at.
 */
const MODES = {
  full: { processes: 3, runs: 7, runMs: 250 },
  quick: { processes: 1, runs: 5, runMs: 100 },
  smoke: { processes: 1, runs: 1, runMs: 5 },
};

const order = { market: '0xmarket', side: 'BUY', size: 10, price: 0.5, sourceWallet: '0x0000000000000000000000000000000000000001' };
const wallet = '0x0000000000000000000000000000000000000002';
// The no-op returns something the timing loop keeps, so the JIT cannot drop the call altogether.
let calls = 0;
const noop = () => ++calls;

async function setup(variant, op) {
  if (variant === 'absent' || variant === 'plugin') {
    if (variant === 'plugin') {
      const { startMonitoring } = await import('polymarket-bot-monitoring');
      const monitor = await startMonitoring({ metricsEnabled: false, dashboardEnabled: false, logLevel: 'error' });
      if (!monitor) throw new Error('the plugin did not start');
    }
    const { traceTradeExecution, traceWalletScan } = await import('polymarket-bot-monitoring/probe');
    return op === 'trade' ? () => traceTradeExecution(order, noop) : () => traceWalletScan(wallet, noop);
  }
  if (variant === 'manual') {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    const { metrics, trace, SpanStatusCode } = await import('@opentelemetry/api');
    new NodeSDK({ metricReaders: [new PrometheusExporter({ preventServerStart: true })], spanProcessors: [], logRecordProcessors: [] }).start();
    const meter = metrics.getMeter('manual');
    const tracer = trace.getTracer('manual');
    const buckets = { advice: { explicitBucketBoundaries: [0.001, 0.01, 0.1, 1] } };
    if (op === 'trade') {
      const histogram = meter.createHistogram('trade_seconds', buckets);
      const counter = meter.createCounter('trades_total');
      return () => {
        const span = tracer.startSpan('trade.execute', { attributes: { 'polymarket.side': 'buy', 'polymarket.size': order.size } });
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
    const histogram = meter.createHistogram('scan_seconds', buckets);
    const counter = meter.createCounter('scans_total');
    return () => {
      const span = tracer.startSpan('wallet.scan', { attributes: { 'polymarket.wallet': wallet.slice(-6) } });
      const started = performance.now();
      try {
        return noop();
      } finally {
        const attrs = { outcome: 'success' };
        histogram.record((performance.now() - started) / 1000, attrs);
        counter.add(1, attrs);
        span.setStatus({ code: SpanStatusCode.OK });
        span.end();
      }
    };
  }
  if (variant === 'prom') {
    const client = (await import('prom-client')).default;
    const buckets = [0.001, 0.01, 0.1, 1];
    const histogram =
      op === 'trade'
        ? new client.Histogram({ name: 'trade_seconds', help: 'x', labelNames: ['side', 'outcome'], buckets })
        : new client.Histogram({ name: 'scan_seconds', help: 'x', labelNames: ['outcome'], buckets });
    const startLabels = op === 'trade' ? { side: 'buy' } : {};
    return () => {
      const end = histogram.startTimer(startLabels);
      try {
        return noop();
      } finally {
        end({ outcome: 'success' });
      }
    };
  }
  throw new Error(`unknown variant ${variant}`);
}

let sink = 0;
/** Chunks of this many operations, then one turn of the event loop. */
const CHUNK = 500;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Times `iterations` operations in chunks of CHUNK with one turn of the event loop after each, so
 * work a subscriber defers to a later turn (setImmediate, queueMicrotask) runs, and is timed, as
 * it would in a bot. Returns ns/op for the calls alone and for calls plus the turns.
 */
async function timeRunWithTurns(op, iterations) {
  let calls = 0n;
  const started = process.hrtime.bigint();
  for (let done = 0; done < iterations; done += CHUNK) {
    const chunkStarted = process.hrtime.bigint();
    for (let i = 0; i < CHUNK; i++) sink ^= op();
    calls += process.hrtime.bigint() - chunkStarted;
    await nextTurn();
  }
  const total = process.hrtime.bigint() - started;
  return { call: Number(calls) / iterations, withTurns: Number(total) / iterations };
}

async function child(variant, opName, mode) {
  const { runs, runMs } = MODES[mode];
  const op = await setup(variant, opName);
  // Warm-up and calibration: let the JIT settle, then size a run to take about runMs.
  let iterations = CHUNK;
  for (;;) {
    const { withTurns } = await timeRunWithTurns(op, iterations);
    if (withTurns * iterations > runMs * 1e6 * 0.25 || iterations >= 1e8) {
      iterations = Math.max(CHUNK, Math.round((runMs * 1e6) / Math.max(withTurns, 0.1)));
      break;
    }
    iterations *= 4;
  }
  iterations = Math.ceil(iterations / CHUNK) * CHUNK;
  await timeRunWithTurns(op, iterations);
  const call = [];
  const withTurns = [];
  for (let run = 0; run < runs; run++) {
    const result = await timeRunWithTurns(op, iterations);
    call.push(result.call);
    withTurns.push(result.withTurns);
  }
  console.log(JSON.stringify({ variant, op: opName, nsPerOp: median(call), nsPerOpWithTurns: median(withTurns), runs, iterations, sink }));
  process.exit(0);
}

function runChild(variant, op, mode) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', variant, op, mode],
      { encoding: 'utf8', env: cleanEnv({ MONITORING_LOG_LEVEL: 'error' }), timeout: 120_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const line = stdout?.trim().split('\n').pop();
        if (error || !line) reject(new Error(`per-op ${variant}/${op} failed: ${error?.message ?? 'no output'}\n${stderr}`));
        else resolve(JSON.parse(line));
      },
    );
  });
}

/**
 * Runs every variant × operation in processes of its own, one after the other (except in smoke),
 * and reports per pair the median over its processes of each process's median run.
 */
export async function runPerOp({ mode = 'full', log = () => {} } = {}) {
  const pairs = OPS.flatMap((op) => VARIANTS.map((variant) => [variant, op]));
  if (mode === 'smoke') return Promise.all(pairs.map(([variant, op]) => runChild(variant, op, mode)));
  const byPair = new Map(pairs.map((pair) => [pair.join('/'), []]));
  const { processes } = MODES[mode];
  for (let round = 0; round < processes; round++) {
    for (const [variant, op] of pairs) {
      log(`per operation: ${op}, ${variant} (${round + 1}/${processes})`);
      byPair.get(`${variant}/${op}`).push(await runChild(variant, op, mode));
    }
  }
  return pairs.map(([variant, op]) => {
    const runs = byPair.get(`${variant}/${op}`);
    return {
      variant,
      op,
      nsPerOp: median(runs.map((r) => r.nsPerOp)),
      nsPerOpWithTurns: median(runs.map((r) => r.nsPerOpWithTurns)),
      processes: runs.length,
      perProcess: runs.map((r) => [r.nsPerOp, r.nsPerOpWithTurns]),
    };
  });
}

const childIndex = process.argv.indexOf('--child');
if (childIndex > 0) {
  const [variant, op, mode] = process.argv.slice(childIndex + 1);
  await child(variant, op, mode);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv.includes('--smoke') ? 'smoke' : process.argv.includes('--quick') ? 'quick' : 'full';
  const results = await runPerOp({ mode });
  for (const op of OPS) {
    const manual = results.find((r) => r.op === op && r.variant === 'manual');
    for (const r of results.filter((x) => x.op === op)) {
      console.log(
        `${op.padEnd(6)} ${r.variant.padEnd(8)} call ${r.nsPerOp.toFixed(1).padStart(8)} ns/op ${(r.nsPerOp / manual.nsPerOp).toFixed(2)}× manual` +
          `   with turns ${r.nsPerOpWithTurns.toFixed(1).padStart(8)} ns/op ${(r.nsPerOpWithTurns / manual.nsPerOpWithTurns).toFixed(2)}× manual`,
      );
    }
  }
}
