/**
 * Alerts end to end: the demo bot started with the built preload, a fake Telegram Bot API on
 * loopback (TELEGRAM_API_URL), real evaluation cycles 5 s apart, real scrapes. `npm test` builds
 * dist/ first (pretest).
 *
 * The monitoring circuit breaker is off in the alerting runs: other test processes load this host,
 * and a trip would shed the very checks under test (the breaker has tests of its own).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeTelegram } from './fake-telegram.js';

import {
  TOKEN,
  TOKEN_SECRET,
  alertingBot as startAlertingBot,
  cyclesRun,
  isDailyLoss,
  scrapeUntil,
  useFakeTelegram,
  value,
} from './alerting-bot.js';

const fake = useFakeTelegram();
/** The fake Telegram of the running test. */
let telegram: FakeTelegram;
beforeEach(() => {
  telegram = fake.current;
});
const alertingBot = (env: Record<string, string>) => startAlertingBot(telegram, env);

describe('alerts to Telegram', () => {
  it('sends a daily loss of 16 % once, as one critical HTML message, over several cycles', async () => {
    const { bot, scrape } = await alertingBot({ DEMO_DAILY_LOSS_PERCENT: '16' });
    await bot.waitForLine(/monitoring started/);
    // The first cycle, then three more 5 s apart: the loss holds in at least three of them.
    const samples = await scrapeUntil(scrape, (s) => cyclesRun(s) >= 4, 'four evaluation cycles');

    // The demo's own breaker opens at 15 % too, a TradeCircuitBreakerOpen warning on the same
    // component: the critical goes first and the warning waits out the per-component cooldown.
    expect(telegram.messages).toHaveLength(1);
    const [message] = telegram.messages;
    expect(message).toMatchObject({ path: `/bot${TOKEN}/sendMessage`, chat_id: '42', parse_mode: 'HTML', disable_notification: false });
    expect(message!.text).toMatch(/^\u{1F534} <b>CRITICAL: The bot's daily loss has reached the critical level\.<\/b>\nPolymarketBotDailyLossCritical · trade_executor · /u);
    expect(message!.text).toContain('daily loss 16.0 % of the starting balance (-1600.00 USD of 10000.00 USD)');

    expect(value(samples, 'monitoring_alerts_sent_total', { severity: 'critical' })).toBe(1);
    expect(value(samples, 'monitoring_alerts_suppressed_total')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'monitoring_component_status', { component: 'trade_executor' })).toBe(-1);
    expect(bot.output()).not.toContain(TOKEN_SECRET);
  });

  it('prefixes every message with [STAGING] when BOT_ENV=staging', async () => {
    const { bot } = await alertingBot({
      BOT_ENV: 'staging',
      DEMO_DAILY_LOSS_PERCENT: '13', // a warning; below the demo's own 15 % halt, so it keeps trading
      ALERT_ON_TRADE: 'on',
      DEMO_LATENCY_SCALE: '0.05',
    });
    await bot.waitForLine(/monitoring started/);
    await telegram.waitFor(
      (messages) => messages.some(isDailyLoss) && messages.some((m) => m.text.includes('PolymarketBotTradeExecuted')),
      'a daily-loss alert and a trade notice',
    );
    const texts = telegram.messages.map((m) => m.text);
    for (const text of texts) expect(text.startsWith('[STAGING] '), text).toBe(true);
  });

  it('sends the daily-loss alert without sound when ALERT_ON_ERROR=silent', async () => {
    const { bot } = await alertingBot({ DEMO_DAILY_LOSS_PERCENT: '16', ALERT_ON_ERROR: 'silent' });
    await bot.waitForLine(/monitoring started/);
    await telegram.waitFor((messages) => messages.some(isDailyLoss), 'the daily-loss alert');
    expect(telegram.messages.filter(isDailyLoss)).toEqual([expect.objectContaining({ disable_notification: true })]);
  });

  it('keeps the daily-loss alert to the log when ALERT_ON_ERROR=off', async () => {
    const { bot } = await alertingBot({ DEMO_DAILY_LOSS_PERCENT: '16', ALERT_ON_ERROR: 'off' });
    const line = JSON.parse(await bot.waitForLine(/Alert firing critical PolymarketBotDailyLossCritical/, 20_000));
    expect(line).toMatchObject({ rule: 'PolymarketBotDailyLossCritical', component: 'trade_executor', severity: 'critical', kind: 'firing' });
    // Telegram on loopback answers in milliseconds: a second is ample for a message that should not come.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(telegram.messages).toEqual([]);
  });

  it('leaves a condition Prometheus also evaluates to Alertmanager when ALERT_ROUTE=alertmanager, and says so on /metrics', async () => {
    const { bot, scrape } = await alertingBot({ DEMO_DAILY_LOSS_PERCENT: '16', ALERT_ROUTE: 'alertmanager' });
    const line = JSON.parse(await bot.waitForLine(/Alert firing critical PolymarketBotDailyLossCritical/, 20_000));
    expect(line).toMatchObject({ rule: 'PolymarketBotDailyLossCritical', kind: 'firing' });
    const route = (await scrape()).filter((x) => x.name === 'monitoring_alert_route');
    expect(route.map((x) => [x.labels.route, x.value])).toEqual([['alertmanager', 1]]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(telegram.messages.filter(isDailyLoss)).toEqual([]);
  });

  it('publishes route="plugin" while it sends its own alerts to Telegram (the default)', async () => {
    const { bot, scrape } = await alertingBot({ DEMO_DAILY_LOSS_PERCENT: '16' });
    await bot.waitForLine(/monitoring started/);
    const route = (await scrape()).filter((x) => x.name === 'monitoring_alert_route');
    expect(route.map((x) => [x.labels.route, x.value])).toEqual([['plugin', 1]]);
  });

  it('names the side and the source wallet of a copied trade, the wallet only by its last 6 characters', async () => {
    const { bot } = await alertingBot({ ALERT_ON_TRADE: 'on', DEMO_SCAN_INTERVAL_MS: '200', DEMO_LATENCY_SCALE: '0.05' });
    await bot.waitForLine(/monitoring started/);
    await telegram.waitFor((messages) => messages.some((m) => m.text.includes('Copied trade filled')), 'a trade notice');
    const trade = telegram.messages.find((m) => m.text.includes('Copied trade filled'))!;
    expect(trade.text).toMatch(/\b(BUY|SELL) \d+ @ \d/);
    expect(trade.text).toMatch(/copied from …[0-9a-f]{6},/);
    for (const { text } of telegram.messages) expect(text).not.toMatch(/0x[0-9a-f]{40}/i);
  });
});
