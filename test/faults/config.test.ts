/**
 * One bad variable used to turn all monitoring off, loss alerts included (issue 15, finding 8):
 * `ALERT_COOLDOWN_MINUTES=0` ended in "monitoring disabled". Now each bad value is one warning and
 * its default; only MONITORING_STRICT=true makes it fatal (exit 78, the bot not started).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PROBE, killAll, pluginLines, run, sleep, twoPorts, within } from './support-bot.js';

afterAll(() => killAll());

const BOT = `
import { reportDailyPnl } from '${PROBE}';
reportDailyPnl({ pnlUsd: -200, startingBalanceUsd: 1000 });
setInterval(() => {}, 1000);
console.log('bot ready');
`;

const BAD = {
  ALERT_COOLDOWN_MINUTES: '0',
  MONITOR_INTERVAL_SECONDS: 'often',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
  BOT_ENV: `\u202eproduction${'x'.repeat(100_000)}`,
};

describe('bad settings', () => {
  it('cost one warning each and their own setting: monitoring runs and the daily-loss alert is raised', async () => {
    const r = run({ eval: BOT, env: { ...(await twoPorts()), ...BAD } });
    await r.bot.waitForLine(/^bot ready/, 15_000);
    const started = Date.now();
    while (!/PolymarketBotDailyLossCritical/.test(r.stderr())) {
      if (Date.now() - started > 15_000) throw new Error(`no daily-loss alert:\n${r.stderr().slice(-3000)}`);
      await sleep(100);
    }
    const lines = pluginLines(r.stderr());
    const warning = (variable: string) => lines.filter((l) => l.level === 'warn' && l.message.startsWith(`${variable}=`));
    expect(warning('ALERT_COOLDOWN_MINUTES').map((l) => l.message)).toEqual([
      'ALERT_COOLDOWN_MINUTES="0" (expected an integer from 1 to 60): using the default 5',
    ]);
    expect(warning('MONITOR_INTERVAL_SECONDS')).toHaveLength(1);
    expect(warning('OTEL_EXPORTER_OTLP_ENDPOINT').map((l) => l.message)).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT="not a url" (expected an http:// or https:// URL): OTLP traces and metrics stay off',
    ]);
    const botEnv = warning('BOT_ENV');
    expect(botEnv).toHaveLength(1);
    expect(botEnv[0]!.message.length).toBeLessThan(300);
    expect(botEnv[0]!.message).toContain('\\u202e');
    expect(botEnv[0]!.message).not.toContain('\u202e');
    const startedLine = lines.find((l) => l.message.startsWith('monitoring started'));
    expect(startedLine?.message).toMatch(/span export off, metric push off/);
    expect(r.stderr()).not.toMatch(/monitoring disabled/);
  }, 40_000);

  it('are fatal with MONITORING_STRICT=true: the bot is not started (exit 78)', async () => {
    const r = run({ eval: BOT, env: { ...(await twoPorts()), ...BAD, MONITORING_STRICT: 'true' } });
    const exit = await within(r.exit, 15_000, 'strict exit');
    expect(exit.code).toBe(78);
    expect(r.stdout()).not.toMatch(/bot ready/);
    expect(r.stderr()).toMatch(/ALERT_COOLDOWN_MINUTES="0"/);
  }, 30_000);
});
