// Where a scrape's CPU goes, apart from `npm run bench` (docs/benchmarks.md, "Where a scrape's 2 ms
// go now"): two demo bots at section 2's workload under the same preload, started together, one
// scraped every --interval ms and one never, each under V8's CPU profiler (50 µs samples). After
// the warm-up it prints, per scrape, the main thread's self time by file (scraped minus never
// scraped) and the inclusive time of the scrape's stages in the scraped bot.
//
//   npm run build && node bench/profile-scrape.mjs [--variant plugin|nodesdk] [--warmup 30] [--seconds 90] [--interval 1000] [--keep DIR]
//
// Pairs of the same code gave totals of 0.8 to 2.1 ms a scrape on a 2-core shared VM: read the
// stages and the large rows, and judge a change of a tenth of a millisecond by the bench's rounds.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_BOT, scrape, spawnNode, started, waitFor } from './lib.mjs';
import { variant } from './variants.mjs';
import { WORKLOAD } from './whole-bot.mjs';

const { values: opts } = parseArgs({
  options: {
    variant: { type: 'string', default: 'plugin' },
    warmup: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '90' },
    interval: { type: 'string', default: '1000' },
    keep: { type: 'string' },
  },
});
const warmupS = Number(opts.warmup);
const seconds = Number(opts.seconds);
const intervalMs = Number(opts.interval);

/** The scrape's stages: the first frame of the stack (from the top) that matches names the stage. */
const STAGES = [
  ['collection (the SDK reader and every producer)', /^collect@.*sdk-metrics.*MetricReader/],
  ['exposition (the plugin\'s serializer)', /^serialize@.*metrics\/exposition/],
  ['exposition (the exporter\'s serializer)', /^serialize@.*exporter-prometheus/],
  ['sending the answer', /^end@node:_http_outgoing/],
  ['the request: parsing and routing', /^parserOnIncoming@node:_http_server/],
];

function frameName(node) {
  const { functionName, url } = node.callFrame;
  return `${functionName || '(anonymous)'}@${url}`;
}

function fileOf(node) {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName;
  const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  // Anything but a file (node:…, an eval's name) as V8 names it.
  return url.startsWith('file:') ? path.relative(process.cwd(), new URL(url).pathname) : url;
}

/** Self time by file and inclusive time by stage, in ms per second of the measured window. */
function readProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const from = profile.startTime + warmupS * 1e6;
  const self = new Map();
  const stages = new Map();
  let t = profile.startTime;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < from) continue;
    const us = profile.timeDeltas[i + 1] ?? 0;
    windowUs += us;
    const node = byId.get(profile.samples[i]);
    if (node.callFrame.functionName === '(idle)') continue;
    const file = fileOf(node);
    self.set(file, (self.get(file) ?? 0) + us);
    for (let at = node; at; at = parent.get(at.id)) {
      const stage = STAGES.find(([, pattern]) => pattern.test(frameName(at)));
      if (stage) {
        stages.set(stage[0], (stages.get(stage[0]) ?? 0) + us);
        break;
      }
    }
  }
  const perSecond = (map) => new Map([...map].map(([key, us]) => [key, us / 1000 / (windowUs / 1e6)]));
  return { self: perSecond(self), stages: perSecond(stages) };
}

async function runBot(scrapeEvery, dir) {
  const v = await variant(opts.variant, { ...WORKLOAD, MONITORING_LOG_LEVEL: 'warn', DEMO_RUN_SECONDS: warmupS + seconds + 60 });
  const proc = spawnNode({
    script: DEMO_BOT,
    preload: v.preload,
    env: v.env,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '50'],
    deadlineMs: (warmupS + seconds + 90) * 1000,
  });
  await started(proc);
  if (v.metricsUrl) await waitFor(v.metricsUrl);
  let scrapes = 0;
  const end = performance.now() + (warmupS + seconds) * 1000;
  const measuredFrom = performance.now() + warmupS * 1000;
  while (performance.now() < end) {
    if (scrapeEvery > 0) {
      const tick = performance.now();
      await scrape(v.metricsUrl);
      if (tick >= measuredFrom) scrapes += 1;
      await sleep(Math.max(0, tick + scrapeEvery - performance.now()));
    } else {
      await sleep(Math.min(1_000, end - performance.now()));
    }
  }
  await proc.stop();
  const profile = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!profile) throw new Error(`no CPU profile from the ${scrapeEvery > 0 ? 'scraped' : 'unscraped'} bot`);
  return { file: path.join(dir, profile), scrapesPerSecond: scrapes / seconds };
}

const root = opts.keep ?? mkdtempSync(path.join(os.tmpdir(), 'profile-scrape-'));
try {
  const dirs = ['scraped', 'never'].map((name) => mkdtempSync(path.join(root, `${name}-`)));
  console.log(`${opts.variant}: two demo bots, ${warmupS} s warm-up + ${seconds} s, one scraped every ${intervalMs} ms …`);
  const [scraped, never] = await Promise.all([runBot(intervalMs, dirs[0]), runBot(0, dirs[1])]);
  const a = readProfile(scraped.file);
  const b = readProfile(never.file);
  const rate = scraped.scrapesPerSecond;
  const perScrape = (ms) => (ms / rate).toFixed(3).padStart(7);
  const rows = [...new Set([...a.self.keys(), ...b.self.keys()])]
    .map((file) => [file, (a.self.get(file) ?? 0) - (b.self.get(file) ?? 0)])
    .sort((x, y) => y[1] - x[1]);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`\nmain thread, scraped minus never scraped, ms per scrape: ${perScrape(total)} in all (${rate.toFixed(2)} scrapes a second)`);
  for (const [file, ms] of rows.slice(0, 20)) console.log(`${perScrape(ms)}  ${file}`);
  console.log('\nthe scrape\'s stages in the scraped bot, inclusive, ms per scrape:');
  for (const [stage] of STAGES) if (a.stages.has(stage)) console.log(`${perScrape(a.stages.get(stage))}  ${stage}`);
  if (opts.keep) console.log(`\nprofiles kept in ${root}`);
} finally {
  if (!opts.keep) rmSync(root, { recursive: true, force: true });
}
