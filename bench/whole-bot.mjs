// Section 2: the demo bot at a fixed workload under each monitoring set-up, one run after the
// other, rounds interleaved (order rotated each round) so slow drifts of a noisy machine hit
// every variant alike. Each figure is the median over rounds; ratios are to "no monitoring".
//
// What is measured where:
//   CPU          the bot's own process.cpuUsage over the measured window (after warm-up)
//   RSS          /proc/<pid>/status VmRSS, sampled every second after warm-up, median
//   ELD p99      inside the bot (monitorEventLoopDelay, 10 ms resolution, excess over it)
//   trade p50/99 inside the bot, around its traceTradeExecution call
//   startup      spawn → the bot's first line on stdout
// Variants that serve /metrics are scraped every 5 s by the harness, as Prometheus would.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_BOT, every, median, procRssBytes, scrape, spawnNode, started } from './lib.mjs';
import { variant } from './variants.mjs';

export const WHOLE_BOT_VARIANTS = ['none', 'plugin', 'auto', 'promclient'];

/** The fixed workload: 20 wallets every second = 20 scans/s; trades ≈ 20 × 0.15 (found by scans) + 2 (feed) ≈ 5/s. */
export const WORKLOAD = {
  DEMO_WALLETS: 20,
  DEMO_SCAN_INTERVAL_MS: 1_000,
  DEMO_FEED_INTERVAL_MS: 500,
  DEMO_LATENCY_SCALE: 0,
  DEMO_FAILURE_RATE: 0.01,
};
/** The demo bot's own, fixed chance that a scan finds a trade to copy (examples/copy-bot/bot.js). */
export const SCAN_FINDS_TRADE = 0.15;

const MODES = {
  full: { rounds: 3, warmupS: 10, durationS: 60 },
  quick: { rounds: 1, warmupS: 2, durationS: 6 },
  smoke: { rounds: 1, warmupS: 1, durationS: 1.5, parallel: true },
};

export const SCRAPE_EVERY_MS = 5_000;

/**
 * Spawns the demo bot at the fixed workload under one variant, writing its own measurements
 * (after `warmupS`) to a file in `dir` named after `key` and the round: { v, proc, statsFile }.
 */
export async function spawnMeasuredBot(name, key, { warmupS, durationS }, dir, round, extraEnv = {}) {
  const statsFile = path.join(dir, `${key}-${round}.json`);
  const v = await variant(name, {
    ...extraEnv,
    ...WORKLOAD,
    DEMO_STATS_FILE: statsFile,
    DEMO_STATS_WARMUP_SECONDS: warmupS,
    // A bound of its own, should the harness die before stopping it.
    DEMO_RUN_SECONDS: Math.ceil(warmupS + durationS + 60),
  });
  const proc = spawnNode({ script: DEMO_BOT, preload: v.preload, env: v.env, deadlineMs: (warmupS + durationS + 90) * 1000 });
  return { v, proc, statsFile };
}

/** The stats a stopped bot wrote; a bot that wrote none fails the section with its last output. */
export function readBotStats({ proc, statsFile }, key) {
  try {
    return JSON.parse(readFileSync(statsFile, 'utf8'));
  } catch (error) {
    const { stdout, stderr } = proc.output();
    throw new Error(`${key}: no stats from the bot (${error.message})\n${stdout.slice(-1500)}\n${stderr.slice(-1500)}`);
  }
}

async function runOnce(name, settings, dir, round) {
  const { warmupS, durationS } = settings;
  const bot = await spawnMeasuredBot(name, name, settings, dir, round);
  const { v, proc } = bot;
  let scraper;
  try {
    const startupMs = await started(proc);
    const scrapes = [];
    if (v.metricsUrl) {
      scraper = every(SCRAPE_EVERY_MS, async () => scrapes.push((await scrape(v.metricsUrl)).ms));
    }
    await sleep(warmupS * 1000);
    const rss = [];
    const end = performance.now() + durationS * 1000;
    while (performance.now() < end) {
      rss.push(procRssBytes(proc.pid));
      await sleep(Math.min(1_000, Math.max(0, end - performance.now())));
    }
    const scrapeErrors = scraper ? await scraper.stop() : 0;
    scraper = undefined;
    await proc.stop();
    const stats = readBotStats(bot, name);
    const cpuS = (stats.cpuMs.user + stats.cpuMs.system) / 1000;
    return {
      name,
      startupMs,
      wallS: stats.windowSeconds,
      cpuS,
      cpuPercent: (100 * cpuS) / stats.windowSeconds,
      rssBytes: median(rss),
      eldP50: stats.eventLoopDelayMs.p50,
      eldP99: stats.eventLoopDelayMs.p99,
      tradeP50: stats.tradeLatencyMs.p50,
      tradeP99: stats.tradeLatencyMs.p99,
      scansPerS: stats.scans / stats.windowSeconds,
      tradesPerS: stats.trades / stats.windowSeconds,
      scrapes: scrapes.length,
      scrapeErrors,
      scrapeMs: median(scrapes),
    };
  } finally {
    await scraper?.stop();
    await proc.stop(1_000);
  }
}

export async function runWholeBot({ mode = 'full', log = () => {} } = {}) {
  const settings = MODES[mode];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-whole-bot-'));
  const runs = Object.fromEntries(WHOLE_BOT_VARIANTS.map((name) => [name, []]));
  try {
    for (let round = 0; round < settings.rounds; round++) {
      const order = WHOLE_BOT_VARIANTS.map((_, i) => WHOLE_BOT_VARIANTS[(i + round) % WHOLE_BOT_VARIANTS.length]);
      if (settings.parallel) {
        // Smoke only: it proves the plumbing, its timings mean nothing.
        const results = await Promise.all(order.map((name) => runOnce(name, settings, dir, round)));
        for (const result of results) runs[result.name].push(result);
        continue;
      }
      for (const name of order) {
        log(`whole bot: round ${round + 1}/${settings.rounds}, ${name}`);
        runs[name].push(await runOnce(name, settings, dir, round));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const keys = Object.keys(runs.none[0]).filter((k) => typeof runs.none[0][k] === 'number');
  const summary = {};
  for (const name of WHOLE_BOT_VARIANTS) {
    summary[name] = { name };
    for (const key of keys) summary[name][key] = median(runs[name].map((r) => r[key]));
  }
  // The plugin's own CPU: its run minus the unmonitored run of the same round, over wall time.
  const pluginCpuPercent = median(runs.plugin.map((r, i) => r.cpuPercent - runs.none[i].cpuPercent));
  return { mode, settings, workload: WORKLOAD, summary, runs, pluginCpuPercent };
}
