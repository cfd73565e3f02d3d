// A bot for the scrape-cost section, run with the plugin preloaded: it publishes scans, trades,
// API calls and component state through the probe (so the plugin's own series all exist, as in
// a working bot), and records BENCH_EXTRA_SERIES extra series through the global OTel API (the plugin's SDK is the global
// meter provider), as a bot with its own instruments would, and watches its event loop at 1 ms
// resolution. The harness talks to it over IPC:
//   'reset' → clears the loop-delay histogram, answers { reset: true }
//   'read'  → answers { maxMs, p99Ms, count }: the longest stall since the reset (the timer's
//             own 1 ms period taken off)
import { metrics } from '@opentelemetry/api';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { reportApiCall, reportComponent, reportDailyPnl, traceTradeExecution, traceWalletScan } from 'polymarket-bot-monitoring/probe';

const extra = Number(process.env.BENCH_EXTRA_SERIES ?? 0);
// Under the SDK's default per-instrument cardinality limit (2 000, overflow series included).
const PER_INSTRUMENT = 1_000;
const meter = metrics.getMeter('bench');
const counters = [];
for (let i = 0; i * PER_INSTRUMENT < extra; i++) {
  const counter = meter.createCounter(`bench_series_${i}_total`, { description: 'Extra series for the scrape benchmark' });
  const values = Math.min(PER_INSTRUMENT, extra - i * PER_INSTRUMENT);
  for (let j = 0; j < values; j++) counter.add(1, { market: `m${j}` });
  counters.push({ counter, values });
}

// The bot keeps working: 20 scans and 5 trades a second through the probe, and a few of its
// own series move every 100 ms.
const OUTCOMES = ['filled', 'filled', 'filled', 'skipped'];
let tick = 0;
setInterval(() => {
  tick += 1;
  for (const { counter, values } of counters) counter.add(1, { market: `m${(tick * 7) % values}` });
  for (const wallet of ['0x00000000000000000000000000000000000000a1', '0x00000000000000000000000000000000000000a2']) {
    traceWalletScan(wallet, () => (tick % 50 === 0 ? Promise.reject(new Error('timeout')) : Promise.resolve([]))).catch(() => {});
    reportApiCall({ api: 'data_api', ok: tick % 50 !== 0, durationMs: 5, status: 200, attempt: 1 });
  }
  if (tick % 2 === 0) {
    const order = { market: '0xmarket', side: tick % 4 === 0 ? 'BUY' : 'SELL', size: 10, price: 0.5, sourceWallet: '0x00000000000000000000000000000000000000a1' };
    traceTradeExecution(order, () => Promise.resolve({ status: OUTCOMES[tick % OUTCOMES.length] }));
    reportApiCall({ api: 'clob', ok: true, durationMs: 8, status: 200, attempt: 1 });
  }
  if (tick % 10 === 0) {
    reportDailyPnl({ pnlUsd: -12.5, startingBalanceUsd: 10_000 });
    reportComponent('main_bot', { flags: { signing_key_present: true }, heartbeat: true });
    reportComponent('wallet_monitor', { walletsWatched: 2, memoryMb: 40, lastScanAt: Date.now() });
    reportComponent('trade_executor', { circuitBreakerOpen: false, consecutiveLosses: 0, openPositions: 1 });
  }
}, 100);

const RESOLUTION_MS = 1;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
const excessMs = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

process.on('message', (message) => {
  if (message === 'reset') {
    loop.reset();
    process.send({ reset: true });
  } else if (message === 'read') {
    process.send({ maxMs: excessMs(loop.max), p99Ms: excessMs(loop.percentile(99)), count: loop.count });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

console.log(`series bot: ready, ${extra} extra series in ${counters.length} instruments`);
