// Preload for section 2c (bench/loop-delay.mjs): the bot's event-loop delay sample by sample, with
// how long its main thread ran in each sample, so a late timer can be told apart as the bot's own
// work (monitoring's included: the thread was running) or the machine's (the thread was ready
// but not running, or woke late). A 10 ms interval timer records its lateness, the wall-clock
// time and the main thread's CPU since the previous sample (Linux updates a thread's CPU time
// when it sleeps, and every sample follows a sleep, so per sample it is accurate enough);
// written as JSON to LOOP_TAIL_FILE when the bot exits. Starts after DEMO_STATS_WARMUP_SECONDS.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.LOOP_TAIL_FILE;
if (file) {
  const intervalMs = 10;
  const measureFrom = Number(process.env.DEMO_STATS_WARMUP_SECONDS ?? 0) * 1000;
  // Flat triples: wall-clock ms, lateness ms, main-thread CPU ms in the interval.
  const samples = [];
  const cpuMs = () => {
    const { user, system } = process.threadCpuUsage();
    return (user + system) / 1000;
  };
  let previous = performance.now();
  let previousCpu = cpuMs();
  setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    if (now >= measureFrom) samples.push(performance.timeOrigin + now, now - previous - intervalMs, cpu - previousCpu);
    previous = now;
    previousCpu = cpu;
  }, intervalMs).unref();
  process.on('exit', () => {
    try {
      writeFileSync(file, JSON.stringify({ intervalMs, samples }));
    } catch (error) {
      console.error(`loop-tail: could not write ${file}: ${error.message}`);
    }
  });
}
