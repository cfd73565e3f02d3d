// A small, honest simulation of a Polymarket copy-trading bot, for trying the plugin:
//
//   npm start                      (builds, then runs this file with the plugin preloaded)
//   DEMO_FAILURE_RATE=0.5 npm start
//
// It watches 25 generated wallets, scans them every few seconds with random latency and
// occasional failures, copies some of the trades it finds with random latency and outcomes, and
// lets its daily PnL drift. Nothing here talks to Polymarket or holds a key.
//
// Everything it tells the monitoring goes through the probe: a few function calls that cost
// nothing when the plugin is not loaded (`node examples/copy-bot/bot.js` runs it bare).
//
// With DEMO_CLOB=1 its copied trades go instead through the official @polymarket/clob-client to a
// fake CLOB on loopback, with no monitoring code around them (clob-trader.js): what a real bot
// gets from the preload alone.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  reportApiCall,
  reportComponent,
  reportDailyPnl,
  traceTradeExecution,
  traceWalletScan,
} from 'polymarket-bot-monitoring/probe';

function numberFromEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`demo bot: ${name}="${raw}" is not a number from ${min} to ${max}; using ${fallback}`);
    return fallback;
  }
  return value;
}

const settings = {
  wallets: numberFromEnv('DEMO_WALLETS', 25, 1, 10_000),
  scanIntervalMs: numberFromEnv('DEMO_SCAN_INTERVAL_MS', 3_000, 10, 600_000),
  /** How often the (simulated) websocket feed announces a watched wallet's trade. */
  feedIntervalMs: numberFromEnv('DEMO_FEED_INTERVAL_MS', 5_000, 10, 600_000),
  failureRate: numberFromEnv('DEMO_FAILURE_RATE', 0.05, 0, 1),
  /** Forces the reported daily loss, as a percentage of the starting balance (e.g. 16). */
  forcedLossPercent: numberFromEnv('DEMO_DAILY_LOSS_PERCENT', NaN, 0, 100),
  /** 0 switches the simulated network latency off (benchmarks want the bot's own CPU). */
  latencyScale: numberFromEnv('DEMO_LATENCY_SCALE', 1, 0, 100),
  /** Stop after this many seconds (0 = run until stopped). */
  runSeconds: numberFromEnv('DEMO_RUN_SECONDS', 0, 0, 31_536_000),
};

/**
 * Opt-in measurements for the benchmarks (bench/whole-bot.mjs): with DEMO_STATS_FILE=<path> the
 * bot counts its scans and trades, times each trade around its traceTradeExecution call and
 * watches its own event-loop delay, and writes it all as JSON when it stops. Measuring starts
 * after DEMO_STATS_WARMUP_SECONDS (default 0). Without DEMO_STATS_FILE none of this runs.
 * DEMO_STATS_EVENT_LOOP=off leaves the event-loop delay out: its 10 ms timer wakes the bot 100
 * times a second, which is CPU of its own and hides what a monitor's own wake-ups cost.
 */
function createStats(file, warmupSeconds, watchEventLoop) {
  const resolutionMs = 10;
  const eventLoop = watchEventLoop ? monitorEventLoopDelay({ resolution: resolutionMs }) : undefined;
  const tradeLatency = createHistogram();
  const window = { scans: 0, trades: 0, startedAt: performance.now(), cpu: process.cpuUsage() };
  const begin = () => {
    eventLoop?.reset();
    tradeLatency.reset();
    Object.assign(window, { scans: 0, trades: 0, startedAt: performance.now(), cpu: process.cpuUsage() });
  };
  eventLoop?.enable();
  if (warmupSeconds > 0) setTimeout(begin, warmupSeconds * 1000).unref();
  const ms = (ns) => Number((ns / 1e6).toFixed(3));
  // The histogram records the whole interval between timer wake-ups: the delay is what exceeds it.
  const delayMs = (ns) => ms(Math.max(0, ns - resolutionMs * 1e6));
  let written = false;
  return {
    scan: () => void (window.scans += 1),
    trade: (durationMs) => {
      window.trades += 1;
      tradeLatency.record(Math.max(1, Math.round(durationMs * 1e6)));
    },
    write() {
      if (written) return;
      written = true;
      eventLoop?.disable();
      const cpu = process.cpuUsage(window.cpu);
      const total = process.cpuUsage();
      const memory = process.memoryUsage();
      const has = tradeLatency.count > 0;
      const report = {
        windowSeconds: Number(((performance.now() - window.startedAt) / 1000).toFixed(3)),
        scans: window.scans,
        trades: window.trades,
        tradeLatencyMs: { p50: has ? ms(tradeLatency.percentile(50)) : null, p99: has ? ms(tradeLatency.percentile(99)) : null, count: tradeLatency.count },
        eventLoopDelayMs: eventLoop && {
          p50: delayMs(eventLoop.percentile(50)),
          p90: delayMs(eventLoop.percentile(90)),
          p95: delayMs(eventLoop.percentile(95)),
          p99: delayMs(eventLoop.percentile(99)),
          p999: delayMs(eventLoop.percentile(99.9)),
          count: eventLoop.count,
          max: delayMs(eventLoop.max),
          resolution: resolutionMs,
        },
        cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
        cpuTotalMs: { user: total.user / 1000, system: total.system / 1000 },
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      };
      try {
        writeFileSync(file, `${JSON.stringify(report)}\n`);
      } catch (error) {
        console.error(`demo bot: could not write ${file}: ${error.message}`);
      }
    },
  };
}
const stats = process.env.DEMO_STATS_FILE
  ? createStats(
      process.env.DEMO_STATS_FILE,
      numberFromEnv('DEMO_STATS_WARMUP_SECONDS', 0, 0, 3_600),
      !['0', 'false', 'no', 'off'].includes(process.env.DEMO_STATS_EVENT_LOOP?.trim().toLowerCase() ?? ''),
    )
  : undefined;

const STARTING_BALANCE_USD = 10_000;
const wallets = Array.from({ length: settings.wallets }, () => `0x${randomBytes(20).toString('hex')}`);
const markets = Array.from({ length: 8 }, () => `0x${randomBytes(32).toString('hex')}`);
// Imported only when asked for: without DEMO_CLOB the demo needs neither the client nor viem.
const clobSetting = process.env.DEMO_CLOB?.trim().toLowerCase() ?? '';
const clobTrader = ['', '0', 'false', 'no', 'off'].includes(clobSetting)
  ? undefined
  : await (await import('./clob-trader.js')).startClobTrader(clobSetting);

const state = { pnlUsd: 0, trades: 0, failedScans: 0, openPositions: 0, consecutiveLosses: 0, lastScanAt: undefined, running: true };
// Ctrl-C must stop the bot at once, not after the current sleep.
const stopping = new AbortController();
const pause = (ms) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => {});

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const latency = (minMs, maxMs) => pause((minMs + Math.random() * (maxMs - minMs)) * settings.latencyScale);
const fails = () => Math.random() < settings.failureRate;

/** One simulated API call, reported with its outcome; a failed first try is retried once. */
async function callApi(api, minMs, maxMs) {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const started = performance.now();
    await latency(minMs, maxMs);
    const ok = !fails();
    reportApiCall({ api, ok, durationMs: performance.now() - started, status: ok ? 200 : 503, attempt });
    if (ok) return;
  }
  throw new Error(`${api} unavailable (503) after 2 attempts`);
}

async function scanWallet(wallet) {
  try {
    await callApi('data_api', 20, 250);
  } catch {
    throw new Error(`data API timeout while scanning ${wallet}`);
  }
  state.lastScanAt = Date.now();
  // Most scans find nothing new; some find a trade worth copying.
  return Math.random() < 0.15
    ? [{ market: pick(markets), side: Math.random() < 0.5 ? 'BUY' : 'SELL', size: Math.round(5 + Math.random() * 95), price: Number((0.05 + Math.random() * 0.9).toFixed(2)), sourceWallet: wallet }]
    : [];
}

async function executeTrade(order) {
  if (tradingHalted()) return { status: 'skipped', reason: 'daily loss limit reached' };
  if (order.size * order.price < 1) return { status: 'rejected', reason: 'below the minimum order size' };
  await callApi('clob', 30, 400);
  if (fails()) throw new Error('CLOB rejected the order: insufficient liquidity');
  state.trades += 1;
  state.openPositions += order.side === 'BUY' ? 1 : -Math.min(1, state.openPositions);
  // A copied trade moves the day's PnL a little, either way.
  const change = (Math.random() - 0.52) * order.size * order.price;
  state.pnlUsd += change;
  state.consecutiveLosses = change < 0 ? state.consecutiveLosses + 1 : 0;
  return { status: 'filled', filledSize: order.size };
}

/** The bot's own risk breaker: no new trades once the day's loss reaches 15 %. */
function tradingHalted() {
  return -dailyPnlUsd() >= 0.15 * STARTING_BALANCE_USD;
}

function reportState() {
  reportDailyPnl({ pnlUsd: dailyPnlUsd(), startingBalanceUsd: STARTING_BALANCE_USD });
  reportComponent('main_bot', { flags: { signing_key_present: true, config_valid: true }, heartbeat: true });
  reportComponent('wallet_monitor', {
    walletsWatched: wallets.length,
    memoryMb: process.memoryUsage().heapUsed / 1024 / 1024,
    lastScanAt: state.lastScanAt,
  });
  const halted = tradingHalted();
  reportComponent('trade_executor', {
    circuitBreakerOpen: halted,
    ...(halted ? { reason: 'daily loss limit reached' } : {}),
    consecutiveLosses: state.consecutiveLosses,
    openPositions: state.openPositions,
  });
}

function dailyPnlUsd() {
  return Number.isFinite(settings.forcedLossPercent)
    ? -(settings.forcedLossPercent / 100) * STARTING_BALANCE_USD
    : state.pnlUsd;
}

async function scanLoop() {
  while (state.running) {
    const started = Date.now();
    reportState();
    for (const wallet of wallets) {
      if (!state.running) return;
      let found = [];
      stats?.scan();
      try {
        found = await traceWalletScan(wallet, () => scanWallet(wallet));
      } catch (error) {
        state.failedScans += 1;
        console.log(`scan failed: ${error.message.replace(wallet, `…${wallet.slice(-6)}`)}`);
        continue;
      }
      for (const order of found) await copyTrade(order);
    }
    console.log(
      `scanned ${wallets.length} wallets in ${Date.now() - started} ms; trades ${state.trades}, ` +
        `failed scans ${state.failedScans}, daily PnL ${dailyPnlUsd().toFixed(2)} USD`,
    );
    await pause(Math.max(0, settings.scanIntervalMs - (Date.now() - started)));
  }
}

async function copyTrade(order) {
  const started = stats ? performance.now() : 0;
  try {
    if (clobTrader) {
      // The real client returns a refused order or an HTTP error instead of throwing: a real bot reads it.
      if (!tradingHalted()) {
        const result = await clobTrader.place(order);
        if (result?.error || result?.success === false) console.log(`order not placed: ${JSON.stringify(result.error ?? result.errorMsg)}`);
        else state.trades += 1;
      }
    } else await traceTradeExecution(order, () => executeTrade(order));
    stats?.trade(performance.now() - started);
  } catch (error) {
    stats?.trade(performance.now() - started);
    console.log(`trade failed: ${error.message}`);
  }
}

/**
 * Watched wallets' trades also arrive pushed, as from a websocket feed, independently of the
 * scans: a bot whose scans all fail still tries to copy what the feed announces.
 */
async function feedLoop() {
  while (state.running) {
    await pause(settings.feedIntervalMs);
    if (!state.running) return;
    const wallet = pick(wallets);
    await copyTrade({ market: pick(markets), side: Math.random() < 0.5 ? 'BUY' : 'SELL', size: Math.round(5 + Math.random() * 95), price: Number((0.05 + Math.random() * 0.9).toFixed(2)), sourceWallet: wallet });
  }
}

function stop(signal) {
  console.log(`demo bot: ${signal}, stopping`);
  state.running = false;
  stopping.abort();
  stats?.write();
}

process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
if (settings.runSeconds > 0) setTimeout(() => stop('run time over'), settings.runSeconds * 1000).unref();

console.log(
  `demo bot: watching ${wallets.length} wallets, failure rate ${settings.failureRate}` +
    `${clobTrader ? `, trading through @polymarket/clob-client on a fake CLOB at ${clobTrader.url} (DEMO_CLOB=${process.env.DEMO_CLOB})` : ''}`,
);
await Promise.all([scanLoop(), feedLoop()]);
await clobTrader?.stop();
console.log('demo bot: stopped');
