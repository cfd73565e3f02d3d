// Section 2c: where the event-loop delay tail comes from.
//
// The bot's p99 (10 ms timer, 100 samples a second) is set by about one sample a second, and
// libuv's timers wake on whole milliseconds, so a sample lands anywhere in the millisecond after it
// fell due; between two sequential runs of the *same* bot the p99 moves by 10–30 % on this kind of
// machine. Section 2 therefore compares bots running at the same time; this section asks what the
// remaining tail is made of. Every round runs the unmonitored bot twice (the second is the
// control), the plugin's bot and the bare NodeSDK + Prometheus preload's bot, and a bot that only
// imports the plugin's libraries and starts none of them, each with bench/loop-tail-preload.mjs,
// which records each sample of the bot's 10 ms timer with the CPU its main thread used meanwhile:
// a sample late by more than the unmonitored bot's p99 while the thread ran is the bot's own work
// (monitoring's included); one late while the thread did not run is the machine's (scheduling),
// and one that coincides with another bot's late sample is shared by the whole machine.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH, every, scrape, started } from './lib.mjs';
import { SCRAPE_EVERY_MS, readBotStats, spawnMeasuredBot } from './whole-bot.mjs';

const TAIL_PRELOAD = path.join(BENCH, 'loop-tail-preload.mjs');

/** [key, variant]: the baseline first; every ratio is to it. */
export const LOOP_DELAY_BOTS = [
  ['none', 'none'],
  ['control', 'none'],
  ['plugin', 'plugin'],
  // What the SDK alone costs the loop: loaded and scraped, instrumenting nothing.
  ['nodesdk', 'nodesdk'],
  // What carrying the plugin's libraries costs the loop before any of them runs.
  ['libraries', 'libraries'],
];

const MODES = {
  full: { rounds: 8, warmupS: 10, durationS: 60 },
  quick: { rounds: 1, warmupS: 2, durationS: 10 },
  smoke: { rounds: 1, warmupS: 1, durationS: 1.5 },
};
/** Section 2c: the same rounds, fewer of them (its pooled figures need fewer). */
const TAIL_ROUNDS = { full: 3, quick: 1, smoke: 1 };

async function runRound(settings, dir, round, { tail = false } = {}) {
  const { warmupS, durationS } = settings;
  const bots = [];
  try {
    // Started in a rotated order, so no variant always starts first.
    for (let i = 0; i < LOOP_DELAY_BOTS.length; i++) {
      const [key, name] = LOOP_DELAY_BOTS[(i + round) % LOOP_DELAY_BOTS.length];
      const tailFile = tail ? path.join(dir, `${key}-${round}.tail.json`) : undefined;
      const extraEnv = tail ? { NODE_OPTIONS: `--import=${JSON.stringify(TAIL_PRELOAD)}`, LOOP_TAIL_FILE: tailFile } : {};
      bots.push({ key, tailFile, ...(await spawnMeasuredBot(name, key, settings, dir, round, extraEnv)) });
    }
    for (const bot of bots) await started(bot.proc);
    // Spread over the interval (bench/lib.mjs `every`), so no two bots are scraped at once.
    const scraped = bots.filter((bot) => bot.v.metricsUrl);
    scraped.forEach((bot, i) => {
      bot.scraper = every(SCRAPE_EVERY_MS, () => scrape(bot.v.metricsUrl), ((i + 0.5) * SCRAPE_EVERY_MS) / scraped.length);
    });
    // Each bot measures from its own start + warm-up; the last one started sets the end.
    await sleep((warmupS + durationS) * 1000);
    const result = {};
    for (const bot of bots) {
      await bot.scraper?.stop();
      bot.scraper = undefined;
      await bot.proc.stop();
      const stats = readBotStats(bot, bot.key);
      result[bot.key] = { p95: stats.eventLoopDelayMs.p95, p99: stats.eventLoopDelayMs.p99, samples: stats.eventLoopDelayMs.count };
      if (bot.tailFile) result[bot.key].tail = JSON.parse(readFileSync(bot.tailFile, 'utf8'));
    }
    return result;
  } finally {
    for (const bot of bots) {
      await bot.scraper?.stop();
      await bot.proc.stop(1_000);
    }
  }
}

/** Every round of one section, in a scratch folder removed afterwards. */
async function runRounds(settings, what, log, options) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-loop-delay-'));
  const rounds = [];
  try {
    for (let round = 0; round < settings.rounds; round++) {
      log(`${what}: round ${round + 1}/${settings.rounds}`);
      rounds.push(await runRound(settings, dir, round, options));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rounds;
}

/**
 * Where the tail comes from, from loop-tail samples: rounds is a list of { key: { intervalMs,
 * samples: [wallMs, latenessMs, cpuMs, …] } }. The threshold is the baseline's p99 over all its
 * samples pooled; for each bot, its pooled p99 and, per minute, the samples at or over the
 * threshold: on CPU (the thread ran for at least half the lateness), off CPU (it did not), and
 * the share that overlaps a late sample of another bot of the same round (the whole machine).
 *
 * @param {Array<Record<string, { intervalMs: number, samples: number[] }>>} rounds
 * @param {string} [baseline]
 * @returns {{ threshold: number, bots: Record<string, { samples: number, p99: number, ratioP99: number, tailPerMinute: number, onCpuPerMinute: number, offCpuPerMinute: number, sharedShare: number }> }}
 */
export function attributeTail(rounds, baseline = 'none') {
  const keys = Object.keys(rounds[0] ?? {});
  const lateness = (key) => rounds.flatMap((r) => r[key].samples.filter((_, i) => i % 3 === 1));
  const p99 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))];
  const threshold = p99(lateness(baseline));
  const tails = rounds.map((r) => {
    const late = {};
    for (const key of keys) {
      const { samples, intervalMs } = r[key];
      late[key] = [];
      for (let i = 0; i < samples.length; i += 3) {
        const [at, ms, cpu] = [samples[i], samples[i + 1], samples[i + 2]];
        if (ms >= threshold) late[key].push({ from: at - intervalMs - ms, to: at, ms, cpu });
      }
    }
    return late;
  });
  /** @type {Record<string, any>} */
  const result = {};
  for (const key of keys) {
    const all = lateness(key);
    const minutes = rounds.reduce((sum, r) => sum + (r[key].samples.length / 3) * r[key].intervalMs, 0) / 60_000;
    let onCpu = 0;
    let shared = 0;
    let count = 0;
    for (const late of tails) {
      const others = keys.filter((k) => k !== key).flatMap((k) => late[k]);
      for (const s of late[key]) {
        count += 1;
        if (s.cpu >= 0.5 * s.ms) onCpu += 1;
        if (others.some((o) => o.from < s.to && o.to > s.from)) shared += 1;
      }
    }
    result[key] = {
      samples: all.length,
      p99: p99(all),
      tailPerMinute: count / minutes,
      onCpuPerMinute: onCpu / minutes,
      offCpuPerMinute: (count - onCpu) / minutes,
      sharedShare: count > 0 ? shared / count : 0,
    };
  }
  for (const key of keys) result[key].ratioP99 = result[key].p99 / result[baseline].p99;
  return { threshold, bots: result };
}

export async function runLoopTail({ mode = 'full', log = () => {} } = {}) {
  const settings = { ...MODES[mode], rounds: TAIL_ROUNDS[mode] };
  const rounds = await runRounds(settings, 'event-loop delay tail', log, { tail: true });
  return { mode, settings, ...attributeTail(rounds.map((r) => Object.fromEntries(Object.entries(r).map(([key, bot]) => [key, bot.tail])))) };
}
