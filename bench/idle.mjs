// The issue-#2 figure: what a preload adds to a bare `node bot.js` that does nothing (the idle
// bot), beside the bare NodeSDK + Prometheus exporter preload and the auto-instrumentations
// preload, in the same run:
//
//   startup  spawn → the idle bot's first line, median of many spawns (interleaved)
//   RSS      after a warm-up and one scrape (a Prometheus server would have scraped by then),
//            /proc VmRSS sampled a few times, median; "added" = minus the bare bot's
import { setTimeout as sleep } from 'node:timers/promises';
import { IDLE_BOT, median, procRssBytes, scrape, spawnNode, started, waitFor } from './lib.mjs';
import { variant } from './variants.mjs';

export const IDLE_VARIANTS = ['none', 'plugin', 'nodesdk', 'auto', 'promclient'];

const MODES = {
  full: { spawns: 10, rssRounds: 3, warmupS: 5, rssSamples: 5 },
  quick: { spawns: 3, rssRounds: 1, warmupS: 1, rssSamples: 2 },
  smoke: { spawns: 1, rssRounds: 1, warmupS: 0.5, rssSamples: 1 },
};

async function startupOnce(name) {
  const v = await variant(name);
  const proc = spawnNode({ script: IDLE_BOT, preload: v.preload, env: v.env, deadlineMs: 60_000 });
  try {
    return await started(proc);
  } finally {
    await proc.stop(2_000);
  }
}

async function rssOnce(name, { warmupS, rssSamples }) {
  const v = await variant(name);
  const proc = spawnNode({ script: IDLE_BOT, preload: v.preload, env: v.env, deadlineMs: (warmupS + rssSamples + 60) * 1000 });
  try {
    const startupMs = await started(proc);
    if (v.metricsUrl) {
      await waitFor(v.metricsUrl);
      await scrape(v.metricsUrl);
    }
    await sleep(warmupS * 1000);
    const rss = [];
    for (let i = 0; i < rssSamples; i++) {
      if (i > 0) await sleep(1_000);
      rss.push(procRssBytes(proc.pid));
    }
    return { startupMs, rssBytes: median(rss) };
  } finally {
    await proc.stop(2_000);
  }
}

export async function runIdle({ mode = 'full', log = () => {} } = {}) {
  const settings = MODES[mode];
  const startup = Object.fromEntries(IDLE_VARIANTS.map((name) => [name, []]));
  const rss = Object.fromEntries(IDLE_VARIANTS.map((name) => [name, []]));
  log('idle bot: startup');
  for (let i = 0; i < settings.spawns; i++) {
    for (const name of IDLE_VARIANTS) startup[name].push(await startupOnce(name));
  }
  for (let round = 0; round < settings.rssRounds; round++) {
    log(`idle bot: memory, round ${round + 1}/${settings.rssRounds}`);
    const runs =
      mode === 'smoke'
        ? await Promise.all(IDLE_VARIANTS.map((name) => rssOnce(name, settings)))
        : await IDLE_VARIANTS.reduce(async (prev, name) => [...(await prev), await rssOnce(name, settings)], Promise.resolve([]));
    runs.forEach((run, i) => {
      startup[IDLE_VARIANTS[i]].push(run.startupMs);
      rss[IDLE_VARIANTS[i]].push(run.rssBytes);
    });
  }
  const summary = {};
  for (const name of IDLE_VARIANTS) {
    summary[name] = { name, startupMs: median(startup[name]), rssBytes: median(rss[name]), startups: startup[name].length };
  }
  for (const name of IDLE_VARIANTS) {
    summary[name].addedStartupMs = summary[name].startupMs - summary.none.startupMs;
    summary[name].addedRssBytes = summary[name].rssBytes - summary.none.rssBytes;
  }
  return { mode, settings, summary, samples: { startup, rss } };
}
