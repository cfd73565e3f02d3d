/**
 * Alerts end to end: the demo bot started with the built preload, a fake Telegram Bot API on
 * loopback (TELEGRAM_API_URL), real evaluation cycles 5 s apart, real scrapes. `npm test` builds
 * dist/ first (pretest).
 *
 * The monitoring circuit breaker is off in the alerting runs: other test processes load this host,
 * and a trip would shed the very checks under test (the breaker has tests of its own).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTelegram, type SentMessage } from './fake-telegram.js';
import { freePort, get, killAll, parseExposition, spawnBot, type Bot, type Sample } from './harness.js';

// The shape of a real token (bot id, colon, 35 characters), so that redaction is tested on it.
const TOKEN_SECRET = 'AAGx7Qp2Lm9Rt4Vw8Yz1Bc3Df5Gh6Jk0NqX';
const TOKEN = `123456:${TOKEN_SECRET}`;
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const RESET = '/admin/circuit-breaker/reset';

let telegram: FakeTelegram;

beforeEach(async () => {
  telegram = await new FakeTelegram().start();
});

afterEach(async () => {
  killAll();
  await telegram.stop();
});

async function ports() {
  return { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) };
}

/** The demo bot with Telegram pointed at the fake, evaluating every 5 s. */
async function alertingBot(env: Record<string, string>) {
  const bound = await ports();
  const bot = spawnBot({
    env: {
      ...bound,
      MONITOR_INTERVAL_SECONDS: '5',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_CHAT_ID: '42',
      TELEGRAM_API_URL: telegram.url,
      ALERT_ON_TRADE: 'off',
      // No random API failures: their alerts would be messages these tests do not count on.
      DEMO_FAILURE_RATE: '0',
      CIRCUIT_BREAKER_ENABLED: 'false',
      ...env,
    },
  });
  const scrape = async (): Promise<Sample[]> =>
    parseExposition((await get(`http://127.0.0.1:${bound.METRICS_PORT}/metrics`, 3_000)).body);
  return { bot, scrape, ports: bound };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Polls /metrics until `done` holds for a scrape; returns that scrape. */
async function scrapeUntil(scrape: () => Promise<Sample[]>, done: (samples: Sample[]) => boolean, what: string, timeoutMs = 25_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (done(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const cyclesRun = (samples: Sample[]): number =>
  samples.filter((s) => s.name === 'monitoring_health_checks_total').reduce((sum, s) => sum + s.value, 0);

const isDailyLoss = (m: SentMessage): boolean => m.text.includes('DailyLoss');
const scanLines = (bot: Bot): number => bot.output().match(/scanned \d+ wallets/g)?.length ?? 0;

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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

    // The second cycle measures the event loop over a window spent with that request hanging,
    // and raises the daily-loss warning on top of the trade notices already stuck.
    const samples = await scrapeUntil(scrape, (s) => cyclesRun(s) >= 2, 'the second evaluation cycle', 15_000);
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
