// Section 4: what the evaluator costs. The demo bot at the whole-bot workload, with the plugin
// and MONITOR_INTERVAL_SECONDS=5 (to get enough cycles), scraped every 5 s. From two scrapes, one
// after the warm-up and one at the end:
//
//   cycle       monitoring_health_check_duration_seconds: Δsum / Δcount
//   self time   monitoring_self_time_seconds_total{activity}: Δ per minute, and as a share of
//               one core (Δ / wall time)
//   bot CPU     the whole process over the same window (/proc/<pid>/stat), for scale
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_BOT, every, procCpuSeconds, sampleSum, sampleValues, scrape, spawnNode, started, waitFor } from './lib.mjs';
import { variant } from './variants.mjs';
import { SCRAPE_EVERY_MS, WORKLOAD } from './whole-bot.mjs';

export const INTERVAL_S = 5;
export const DEFAULT_INTERVAL_S = 30;

const MODES = {
  full: { warmupS: 10, durationS: 60 },
  quick: { warmupS: 2, durationS: 10 },
  smoke: { warmupS: 0.5, durationS: 1 },
};

function reading(body) {
  const self = {};
  for (const { labels, value } of sampleValues(body, 'monitoring_self_time_seconds_total')) {
    self[labels.activity] = (self[labels.activity] ?? 0) + value;
  }
  return {
    cycleSum: sampleSum(body, 'monitoring_health_check_duration_seconds_sum'),
    cycleCount: sampleSum(body, 'monitoring_health_check_duration_seconds_count'),
    self,
  };
}

export async function runEvaluation({ mode = 'full', log = () => {} } = {}) {
  const { warmupS, durationS } = MODES[mode];
  const v = await variant('plugin', { ...WORKLOAD, MONITOR_INTERVAL_SECONDS: INTERVAL_S, DEMO_RUN_SECONDS: Math.ceil(warmupS + durationS + 60) });
  log('evaluation cost');
  const proc = spawnNode({ script: DEMO_BOT, preload: v.preload, env: v.env, deadlineMs: (warmupS + durationS + 90) * 1000 });
  let scraper;
  try {
    await started(proc);
    await waitFor(v.metricsUrl);
    scraper = every(SCRAPE_EVERY_MS, () => scrape(v.metricsUrl));
    await sleep(warmupS * 1000);
    const first = reading((await scrape(v.metricsUrl)).body);
    const cpuFirst = procCpuSeconds(proc.pid);
    const t0 = performance.now();
    await sleep(durationS * 1000);
    const last = reading((await scrape(v.metricsUrl)).body);
    const cpuLast = procCpuSeconds(proc.pid);
    const wallS = (performance.now() - t0) / 1000;
    await scraper.stop();
    scraper = undefined;

    const cycles = last.cycleCount - first.cycleCount;
    // Too short a window for a new cycle (smoke): fall back to every cycle since the start.
    const cycleMs = cycles > 0 ? ((last.cycleSum - first.cycleSum) / cycles) * 1000 : (last.cycleSum / last.cycleCount) * 1000;
    const activities = {};
    for (const activity of new Set([...Object.keys(first.self), ...Object.keys(last.self)])) {
      const seconds = (last.self[activity] ?? 0) - (first.self[activity] ?? 0);
      activities[activity] = { perMinuteS: (seconds / wallS) * 60, corePercent: (100 * seconds) / wallS };
    }
    const selfTotal = Object.values(activities).reduce((a, b) => a + b.corePercent, 0);
    return {
      mode,
      intervalS: INTERVAL_S,
      wallS,
      cycles,
      cycleMs,
      evaluationCorePercentAtInterval: (100 * cycleMs) / 1000 / INTERVAL_S,
      evaluationCorePercentAtDefault: (100 * cycleMs) / 1000 / DEFAULT_INTERVAL_S,
      activities,
      selfCorePercent: selfTotal,
      botCorePercent: (100 * (cpuLast - cpuFirst)) / wallS,
    };
  } finally {
    await scraper?.stop();
    await proc.stop(2_000);
  }
}
