/**
 * Restarting monitoring in one process (startMonitoring → shutdown → startMonitoring), as a bot
 * that reloads its configuration does. Before the fix each restart logged "Attempted duplicate
 * registration of API: metrics" (the OpenTelemetry globals of the stopped instance were left
 * registered) and the new instance started without the global meter provider.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killAll, spawnBot } from './harness.js';

afterAll(() => killAll());

const RESTARTS = 20;

describe('restarting monitoring in the same process', () => {
  it('logs no error or warning and keeps no growing share of the heap', async () => {
    const [metricsPort, dashboardPort] = [await freePort(), await freePort()];
    const bot = spawnBot({
      preload: false,
      nodeArgs: ['--expose-gc'],
      eval: `
import { startMonitoring, shutdown } from 'polymarket-bot-monitoring';
const keep = setInterval(() => {}, 1000);
const heap = () => { global.gc(); return process.memoryUsage().heapUsed; };
const options = { metricsPort: ${metricsPort}, dashboardPort: ${dashboardPort} };
await (await startMonitoring(options))?.listening;
await shutdown();
const before = heap();
for (let i = 0; i < ${RESTARTS}; i++) {
  await (await startMonitoring(options))?.listening;
  await shutdown();
}
console.log('heap growth ' + (heap() - before));
clearInterval(keep);
`,
    });
    const line = await bot.waitForLine(/^heap growth/, 60_000);
    await bot.exited;
    const growth = Number(line.split(' ').pop());
    console.log(`heap growth over ${RESTARTS} restarts: ${(growth / 1024 / 1024).toFixed(2)} MB`);
    const problems = bot
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; message: string })
      .filter((l) => l.level === 'error' || l.level === 'warn');
    expect(problems).toEqual([]);
    expect(bot.output().match(/monitoring started/g)).toHaveLength(RESTARTS + 1);
    // Loose: a leak of the old ~1 MB per restart would be 20 MB.
    expect(growth).toBeLessThan(8 * 1024 * 1024);
  }, 90_000);
});
