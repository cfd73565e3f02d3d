/**
 * Alerts end to end, part two (trade notices in the log, a Telegram that never answers, the admin route; split from alerts.test.ts so the two run side by side): the demo bot started with the built preload, a fake Telegram Bot API on
 * loopback (TELEGRAM_API_URL), real evaluation cycles 5 s apart, real scrapes. `npm test` builds
 * dist/ first (pretest).
 *
 * The monitoring circuit breaker is off in the alerting runs: other test processes load this host,
 * and a trip would shed the very checks under test (the breaker has tests of its own).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeTelegram } from './fake-telegram.js';
import { get, parseExposition, spawnBot, type Bot, type Sample } from './harness.js';
import {
  ADMIN_TOKEN,
  RESET,
  alertingBot as startAlertingBot,
  cyclesRun,
  ports,
  scanLines,
  scrapeUntil,
  useFakeTelegram,
  value,
  within,
} from './alerting-bot.js';

const fake = useFakeTelegram();
/** The fake Telegram of the running test. */
let telegram: FakeTelegram;
beforeEach(() => {
  telegram = fake.current;
});
const alertingBot = (env: Record<string, string>) => startAlertingBot(telegram, env);

describe('trade notices in the log', () => {
  const TRADE = 'monitoring_trade_execution_duration_seconds';
  /** Parsed JSON log lines of trade notices. */
  const noticeLines = (bot: Bot): Array<Record<string, unknown>> =>
    bot
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && /"rule":"PolymarketBotTrade(Executed|Failed)"/.test(l))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it.each([
    { level: 'info', executedLevel: undefined },
    { level: 'debug', executedLevel: 'debug' },
  ])('writes a copied trade at debug, a failed one at warn (MONITORING_LOG_LEVEL=$level, no Telegram)', async ({ level, executedLevel }) => {
    const bound = await ports();
    const bot = spawnBot({
      // About 5 trades a second: under the 10 notices a second beyond which notices are suppressed.
      env: { ...bound, MONITORING_LOG_LEVEL: level, DEMO_WALLETS: '3', DEMO_SCAN_INTERVAL_MS: '100', DEMO_LATENCY_SCALE: '0', DEMO_FAILURE_RATE: '0.2' },
    });
    const scrape = async (): Promise<Sample[]> =>
      parseExposition((await get(`http://127.0.0.1:${bound.METRICS_PORT}/metrics`, 3_000)).body);
    const count = (samples: Sample[], outcome: (o: string) => boolean): number =>
      samples.filter((x) => x.name === `${TRADE}_count` && outcome(x.labels.outcome ?? '')).reduce((sum, x) => sum + x.value, 0);
    // Enough trades of both kinds to tell "none" from "some".
    await scrapeUntil(
      scrape,
      (samples) => count(samples, (o) => o === 'filled') >= 5 && count(samples, (o) => o === 'error') >= 2,
      'five filled and two failed trades',
    );
    // Notices are written on a later turn of the loop than the trade is counted.
    const enough = (): boolean => {
      const lines = noticeLines(bot);
      return lines.filter((l) => l.rule === 'PolymarketBotTradeFailed').length >= 1 && (executedLevel === undefined || lines.length >= 6);
    };
    for (const until = Date.now() + 3_000; !enough() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    const notices = noticeLines(bot);
    const executed = notices.filter((l) => l.rule === 'PolymarketBotTradeExecuted');
    const failed = notices.filter((l) => l.rule === 'PolymarketBotTradeFailed');
    // Failures are coalesced: the first at once, the rest of its window in one digest later.
    expect(failed).toHaveLength(1);
    expect(new Set(failed.map((l) => l.level))).toEqual(new Set(['warn']));
    if (executedLevel === undefined) expect(executed).toEqual([]);
    else {
      expect(executed.length).toBeGreaterThanOrEqual(5);
      expect(new Set(executed.map((l) => l.level))).toEqual(new Set([executedLevel]));
    }
  });
});

describe('Telegram that never answers', () => {
  it('leaves the bot scanning, /metrics answering, the event loop free and SIGINT working', async () => {
    telegram.hang();
    const { bot, scrape, ports: bound } = await alertingBot({
      DEMO_DAILY_LOSS_PERCENT: '13',
      ALERT_ON_TRADE: 'on',
      DEMO_SCAN_INTERVAL_MS: '200',
      DEMO_LATENCY_SCALE: '0.05',
    });
    await telegram.waitFor((messages) => messages.length > 0, 'a first request to hang');

    // The first periodic cycle (the third; the second, 1 s after start, has the first second's one
    // reading) measures the event loop over a window spent with that request hanging, and the
    // daily-loss warning is raised on top of the trade notices already stuck.
    const samples = await scrapeUntil(scrape, (s) => cyclesRun(s) >= 3, 'the third evaluation cycle', 15_000);
    const p99 = value(samples, 'monitoring_eventloop_delay_p99_seconds');
    expect(p99).toBeDefined();
    expect(p99).toBeLessThan(0.2);

    const scannedBefore = scanLines(bot);
    await within(
      (async () => {
        while (scanLines(bot) < scannedBefore + 5) await new Promise((r) => setTimeout(r, 100));
      })(),
      5_000,
      'five more scans',
    );
    const metrics = await within(fetch(`http://127.0.0.1:${bound.METRICS_PORT}/metrics`), 2_000, 'a scrape');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('monitoring_circuit_breaker');

    const stoppedAt = Date.now();
    bot.kill('SIGINT');
    expect(await within(bot.exited, 8_000, 'exit after SIGINT')).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(bot.output()).not.toMatch(/unhandled|uncaught/i);
  });
});

describe('admin route', () => {
  const idleBot = 'setInterval(() => {}, 1000); console.log("bot ready");';

  async function adminBot(env: Record<string, string> = {}) {
    const bound = await ports();
    const bot = spawnBot({ env: { ...bound, ...env }, eval: idleBot });
    await bot.waitForLine(/monitoring started/);
    const url = `http://127.0.0.1:${bound.DASHBOARD_PORT}${RESET}`;
    const post = (authorization?: string) =>
      fetch(url, { method: 'POST', headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(3_000) });
    return { url, post };
  }

  it('does not exist without MONITORING_ADMIN_TOKEN', async () => {
    const { post } = await adminBot();
    expect((await post(`Bearer ${ADMIN_TOKEN}`)).status).toBe(404);
  });

  it('asks for a Bearer token when none is given', async () => {
    const { post } = await adminBot({ MONITORING_ADMIN_TOKEN: ADMIN_TOKEN });
    const res = await post();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a wrong token', async () => {
    const { post } = await adminBot({ MONITORING_ADMIN_TOKEN: ADMIN_TOKEN });
    expect((await post(`Bearer ${ADMIN_TOKEN.slice(0, -1)}x`)).status).toBe(401);
  });

  it('answers the right token with what the reset did: nothing, on a breaker that is not tripped', async () => {
    const { post } = await adminBot({ MONITORING_ADMIN_TOKEN: ADMIN_TOKEN });
    const res = await post(`Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ reset: false, tripped: false });
  });

  it('answers GET with 405', async () => {
    const { url } = await adminBot({ MONITORING_ADMIN_TOKEN: ADMIN_TOKEN });
    const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(3_000) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
