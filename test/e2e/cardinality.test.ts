/**
 * The safety net under the bounded label sets: every instrument of the plugin's meter has a
 * cardinality limit of 200 series — its own instruments in the kept meter (metrics/kept.ts,
 * test/subscribers.test.ts), and through a view anything created on the global provider under the
 * plugin's meter name. Every label the plugin sets is bounded before it gets there (api names,
 * outcomes, sides…), so no public channel can reach the limit; this proves the view is wired by
 * recording 300 label sets on an instrument of the plugin's meter from the global provider.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, get, killAll, parseExposition, spawnBot } from './harness.js';

afterAll(() => killAll());

describe('the cardinality limit', () => {
  it('folds an instrument of the plugin past 200 series into the overflow series', async () => {
    const [metricsPort, dashboardPort] = [await freePort(), await freePort()];
    const bot = spawnBot({
      preload: false,
      eval: `
import { metrics } from '@opentelemetry/api';
import { startMonitoring } from 'polymarket-bot-monitoring';
const monitor = await startMonitoring({ metricsPort: ${metricsPort}, dashboardPort: ${dashboardPort} });
const counter = metrics.getMeterProvider().getMeter('polymarket-bot-monitoring').createCounter('monitoring_test_labels_total');
for (let i = 0; i < 300; i++) counter.add(1, { label: 'value_' + i });
await monitor.listening;
console.log('recorded');
setInterval(() => {}, 1000);
`,
    });
    await bot.waitForLine(/^recorded/, 30_000);
    const { body } = await get(`http://127.0.0.1:${metricsPort}/metrics`);
    const series = parseExposition(body).filter((s) => s.name === 'monitoring_test_labels_total');
    expect(series.length).toBeLessThanOrEqual(200);
    expect(series.length).toBeGreaterThan(100);
    const overflow = series.filter((s) => s.labels.otel_metric_overflow === 'true');
    expect(overflow).toHaveLength(1);
    expect(series.reduce((sum, s) => sum + s.value, 0)).toBe(300);
    bot.kill();
  }, 60_000);
});
