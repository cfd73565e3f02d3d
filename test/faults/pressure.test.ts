/**
 * The money alert is never shed (issue 15, finding 3a). Before the fix a tripped monitoring
 * breaker stopped every health check and alert rule: a 20 % daily loss reported while it was
 * tripped produced no alert at all, and /health kept showing component data frozen at the trip.
 * Here the plugin's own CPU budget (MONITORING_MAX_CPU_PERCENT, which nothing read before) is set
 * so low that scraping alone trips the breaker — deterministic where loading a shared host is not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { get } from '../e2e/harness.js';
import { PROBE, killAll, ready, run, sleep, twoPorts } from './support-bot.js';

afterAll(() => killAll());

// One successful scan at start, then none (its scans go stale); a 20 % loss on SIGUSR2.
const BOT = `
import { traceWalletScan, reportDailyPnl } from '${PROBE}';
reportDailyPnl({ pnlUsd: 0, startingBalanceUsd: 1000 });
traceWalletScan('0x${'ab'.repeat(20)}', () => ({ trades: 0 }));
process.on('SIGUSR2', () => {
  reportDailyPnl({ pnlUsd: -200, startingBalanceUsd: 1000 });
  console.log('loss reported');
});
setInterval(() => {}, 1000);
console.log('bot ready');
`;

describe('a tripped monitoring breaker', () => {
  it('still raises the daily-loss alert and shows stale scans on /health', async () => {
    const ports = await twoPorts();
    const r = run({
      eval: BOT,
      env: {
        ...ports,
        MONITOR_INTERVAL_SECONDS: '5',
        MONITORING_MAX_CPU_PERCENT: '0.1',
        STALE_AFTER_SECONDS: '10',
      },
    });
    await ready(r, true);
    const trippedAt = Date.now();
    // Scrapes are the plugin's own work: back to back, they cost it far more than 0.1 % of a core.
    while (!/PolymarketBotMonitoringCircuitBreakerTripped/.test(r.stderr())) {
      if (Date.now() - trippedAt > 45_000) throw new Error(`the breaker did not trip:\n${r.stderr().slice(-2000)}`);
      await get(`http://127.0.0.1:${ports.METRICS_PORT}/metrics`).catch(() => undefined);
    }
    const tripLine = r.stderr().split('\n').find((line) => line.includes('PolymarketBotMonitoringCircuitBreakerTripped'))!;
    console.log(`tripped ${Date.now() - trippedAt} ms after the scrapes began: ${tripLine.slice(0, 400)}`);
    expect(tripLine).toMatch(/plugin CPU [\d.]+ % of a core > budget 0\.1 %/);

    r.bot.kill('SIGUSR2');
    await r.bot.waitForLine(/loss reported/, 5_000);
    const reportedAt = Date.now();
    while (!/PolymarketBotDailyLossCritical/.test(r.stderr())) {
      if (Date.now() - reportedAt > 15_000) throw new Error(`no daily-loss alert while tripped:\n${r.stderr().slice(-2000)}`);
      await sleep(100);
    }
    console.log(`daily-loss alert ${Date.now() - reportedAt} ms after the report, breaker tripped`);

    const health = JSON.parse((await get(`http://127.0.0.1:${ports.DASHBOARD_PORT}/health`)).body) as {
      components: Record<string, { status: string; message: string }>;
      circuit_breaker: { tripped: boolean; reason: string };
    };
    expect(health.circuit_breaker.tripped).toBe(true);
    expect(health.components.trade_executor!.status).toBe('critical');
    // Its one scan is more than STALE_AFTER_SECONDS old by now.
    expect(health.components.wallet_monitor!.status).not.toBe('healthy');
  }, 90_000);
});
