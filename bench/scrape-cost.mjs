// Section 3: what one Prometheus scrape of the plugin costs the bot, at the plugin's own series
// count and with 2 000 and 20 000 extra series the bot records through the global OTel API.
//
// The series bot (bench/series-bot.mjs, plugin preloaded) is scraped every second. Around each
// scrape the harness resets the bot's 1 ms loop-delay histogram and reads its maximum after the
// response: the longest stall of the loop the scrape caused. Half a second later the same is
// done over a window of the same length without a scrape: the background to compare with.
// Response time is measured by the harness, request → whole body.
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { BENCH, median, percentile, scrape, spawnNode, started, waitFor } from './lib.mjs';
import { variant } from './variants.mjs';

export const EXTRA_SERIES = [0, 2_000, 20_000];

const MODES = {
  full: { durationS: 30, warmupScrapes: 3 },
  quick: { durationS: 10, warmupScrapes: 2 },
  smoke: { durationS: 2, warmupScrapes: 1 },
};

function ipc(child) {
  return (message) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`series bot did not answer '${message}'`)), 10_000);
      child.once('message', (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      child.send(message);
    });
}

async function level(extra, { durationS, warmupScrapes }) {
  const v = await variant('plugin', { BENCH_EXTRA_SERIES: extra, MONITORING_LOG_LEVEL: "warn" });
  const proc = spawnNode({
    script: path.join(BENCH, 'series-bot.mjs'),
    preload: v.preload,
    env: v.env,
    ipc: true,
    deadlineMs: (durationS + 90) * 1000,
  });
  try {
    await started(proc);
    await waitFor(v.metricsUrl);
    const ask = ipc(proc.child);
    let series = 0;
    // A second apart, as the measured ones, and a second after waitFor's request: the plugin
    // collects at most once per 0.9 s, and a scrape that comes sooner waits for the next collection
    // (a wait the scrapes after it, a second apart, would each carry 0.1 s less of).
    await sleep(1_000);
    for (let i = 0; i < warmupScrapes; i++) {
      const tick = performance.now();
      series = (await scrape(v.metricsUrl, 30_000)).series;
      await sleep(Math.max(0, tick + 1_000 - performance.now()));
    }
    const responseMs = [];
    const stallMs = [];
    const backgroundMs = [];
    const end = performance.now() + durationS * 1000;
    while (performance.now() < end) {
      const tick = performance.now();
      await ask('reset');
      const result = await scrape(v.metricsUrl, 30_000);
      await sleep(5); // let the loop run once more, so a stall right at the end is counted
      stallMs.push((await ask('read')).maxMs);
      responseMs.push(result.ms);
      series = result.series;
      await sleep(Math.max(0, tick + 500 - performance.now()));
      await ask('reset');
      await sleep(result.ms + 5);
      backgroundMs.push((await ask('read')).maxMs);
      await sleep(Math.max(0, tick + 1_000 - performance.now()));
    }
    return {
      extra,
      series,
      scrapes: responseMs.length,
      responseP50: median(responseMs),
      responseP90: percentile(responseMs, 90),
      stallP50: median(stallMs),
      stallP90: percentile(stallMs, 90),
      stallMax: Math.max(...stallMs),
      backgroundP50: median(backgroundMs),
      backgroundMax: Math.max(...backgroundMs),
    };
  } finally {
    await proc.stop(2_000);
  }
}

export async function runScrapeCost({ mode = 'full', log = () => {} } = {}) {
  const settings = MODES[mode];
  // Smoke proves the plumbing only: its timings mean nothing, so the levels run side by side.
  if (mode === 'smoke') return { mode, settings, levels: await Promise.all(EXTRA_SERIES.map((extra) => level(extra, settings))) };
  const levels = [];
  for (const extra of EXTRA_SERIES) {
    log(`scrape cost: ${extra} extra series`);
    levels.push(await level(extra, settings));
  }
  return { mode, settings, levels };
}
