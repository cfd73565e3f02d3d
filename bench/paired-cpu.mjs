// Attribution runs for the plugin's own CPU: `node bench/paired-cpu.mjs '<variants>' [rounds] [seconds]`.
// Every variant of a round runs at the same time (each bot is mostly idle, so they do not
// compete for the two cores) and shares the machine's noise, which a sequential run does not.
// Variants: a JSON list of [label, variant, extraEnv, idle?], variant as in bench/variants.mjs;
// idle=true runs bench/idle-bot.mjs instead of the demo bot. Each /metrics is scraped every 5 s.
// CPU = utime + stime from /proc over the measured window, after a 10 s warm-up, in % of a core;
// for the demo bot also its event-loop delay p99 over the same window (DEMO_STATS_FILE).
//
//   node bench/paired-cpu.mjs '[["none","none",{}],["plugin","plugin",{}],["no alerts","plugin",{"ALERT_ENABLED":"false"}]]' 3 40
//
// A/B of two builds: copy dist/ to another folder inside the checkout (so its imports resolve)
// and give the plugin variant {"BENCH_REGISTER":"<that folder>/register.js"}.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_BOT, IDLE_BOT, every, killAll, procCpuSeconds, scrape, spawnNode, started } from './lib.mjs';
import { variant } from './variants.mjs';
import { WORKLOAD } from './whole-bot.mjs';

const [list, rounds, seconds] = [JSON.parse(process.argv[2] ?? '[]'), Number(process.argv[3] ?? 2), Number(process.argv[4] ?? 30)];
if (list.length === 0) {
  console.error('usage: node bench/paired-cpu.mjs \'[[label, variant, extraEnv, idle?], …]\' [rounds] [seconds]');
  process.exit(2);
}
const results = {};
const eld = {};
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-paired-'));
try {
  for (let round = 0; round < rounds; round++) {
    const runs = [];
    for (const [i, [label, name, env = {}, idle = false]] of list.entries()) {
      const statsFile = idle ? undefined : path.join(dir, `${i}-${round}.json`);
      const stats = statsFile ? { DEMO_STATS_FILE: statsFile, DEMO_STATS_WARMUP_SECONDS: 10 } : {};
      const v = await variant(name, { ...WORKLOAD, DEMO_RUN_SECONDS: seconds + 60, ...stats, ...env });
      const proc = spawnNode({ script: idle ? IDLE_BOT : DEMO_BOT, preload: v.preload, env: v.env, deadlineMs: (seconds + 90) * 1000 });
      await started(proc);
      runs.push({ label, proc, statsFile, scraper: v.metricsUrl ? every(5_000, () => scrape(v.metricsUrl)) : undefined });
    }
    await sleep(10_000);
    const before = runs.map((r) => procCpuSeconds(r.proc.pid));
    await sleep(seconds * 1000);
    const after = runs.map((r) => procCpuSeconds(r.proc.pid));
    for (const [i, r] of runs.entries()) {
      await r.scraper?.stop();
      await r.proc.stop(3_000);
      (results[r.label] ??= []).push(((after[i] - before[i]) / seconds) * 100);
      if (r.statsFile) (eld[r.label] ??= []).push(JSON.parse(readFileSync(r.statsFile, 'utf8')).eventLoopDelayMs);
    }
  }
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
const medianOf = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const [label, values] of Object.entries(results)) {
  const q = (key) => medianOf(eld[label].map((d) => d[key] ?? NaN)).toFixed(2);
  const loop = eld[label]
    ? `   event-loop delay median p90 ${q('p90')} p95 ${q('p95')} p99 ${q('p99')} p99.9 ${q('p999')} ms (p99 per round: ${eld[label].map((d) => d.p99.toFixed(2)).join(' ')})`
    : '';
  console.log(`${label.padEnd(24)} CPU median ${medianOf(values).toFixed(2)} %   (${values.map((x) => x.toFixed(2)).join(' ')})${loop}`);
}
