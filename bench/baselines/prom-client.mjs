// Baseline preload for benchmarks: the monitoring a user might hand-write with prom-client
// instead of this plugin. It subscribes to the same diagnostics channels the probe publishes on
// (names from the channel contract, src/channels.ts), records scan and trade histograms and API
// counters, keeps PnL and wallets-watched gauges, adds prom-client's default process metrics,
// and serves /metrics on loopback (PROM_CLIENT_PORT). No spans, no health checks, no alerts.
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import client from 'prom-client';
import { CHANNELS, TRACING_CHANNELS } from 'polymarket-bot-monitoring/probe';

const registry = new client.Registry();
// Its default event-loop monitor is a 10 ms timer (100 wake-ups a second); PROM_CLIENT_LOOP_PRECISION_MS
// sets it, so the bench can also show prom-client with a 1 s one, as the plugin's.
const precision = Number(process.env.PROM_CLIENT_LOOP_PRECISION_MS);
client.collectDefaultMetrics({ register: registry, ...(precision > 0 ? { eventLoopMonitoringPrecision: precision } : {}) });

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const scanDuration = new client.Histogram({
  name: 'bot_wallet_scan_duration_seconds',
  help: 'Wallet scan duration',
  labelNames: ['outcome'],
  buckets,
  registers: [registry],
});
const tradeDuration = new client.Histogram({
  name: 'bot_trade_execution_duration_seconds',
  help: 'Trade execution duration',
  labelNames: ['side', 'outcome'],
  buckets,
  registers: [registry],
});
const apiRequests = new client.Counter({
  name: 'bot_api_requests_total',
  help: 'API requests by outcome',
  labelNames: ['api', 'outcome'],
  registers: [registry],
});
const dailyPnl = new client.Gauge({ name: 'bot_daily_pnl_usd', help: 'Daily PnL', registers: [registry] });
const walletsWatched = new client.Gauge({ name: 'bot_wallets_watched', help: 'Wallets watched', registers: [registry] });

const outcomeOf = (message) => {
  if ('error' in message) return 'error';
  const word = message.result?.status ?? message.result?.outcome;
  return typeof word !== 'string' || word === 'filled' || word === 'success' ? 'success' : word;
};
const sideOf = (side) => (typeof side === 'string' && side.toLowerCase() === 'sell' ? 'sell' : 'buy');

const startedAt = new WeakMap();
function traced(name, record) {
  const done = (message) => {
    const started = startedAt.get(message);
    if (started === undefined) return;
    startedAt.delete(message);
    record(message, (performance.now() - started) / 1000);
  };
  diagnostics.tracingChannel(name).subscribe({
    start: (message) => startedAt.set(message, performance.now()),
    end: (message) => {
      if ('result' in message || 'error' in message) done(message);
    },
    asyncStart: () => {},
    asyncEnd: done,
    error: () => {},
  });
}
traced(TRACING_CHANNELS.walletScan, (message, seconds) => scanDuration.observe({ outcome: outcomeOf(message) }, seconds));
traced(TRACING_CHANNELS.tradeExecution, (message, seconds) =>
  tradeDuration.observe({ side: sideOf(message.order?.side), outcome: outcomeOf(message) }, seconds),
);
diagnostics.subscribe(CHANNELS.apiCall, (report) =>
  apiRequests.inc({ api: String(report.api), outcome: report.ok ? 'success' : 'failure' }),
);
diagnostics.subscribe(CHANNELS.dailyPnl, (report) => dailyPnl.set(report.pnlUsd));
diagnostics.subscribe(CHANNELS.component, (report) => {
  if (report.component === 'wallet_monitor' && typeof report.state?.walletsWatched === 'number') {
    walletsWatched.set(report.state.walletsWatched);
  }
});

const server = http.createServer(async (req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});
server.listen(Number(process.env.PROM_CLIENT_PORT ?? 9465), '127.0.0.1');
server.unref();
