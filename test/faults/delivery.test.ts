/**
 * Fault injection, delivery by priority. A scripted bot (the probe, with the built preload) trades
 * fast while the CLOB is down: every 50 ms one order fills and one throws at once with a 503, so
 * routine "filled" notices and failed-trade notices pour in; Telegram, on loopback, answers each
 * message after a second. Some seconds in, the bot reports a 20 % daily loss.
 *
 * The money alert must not wait behind the backlog: the critical DailyLoss message is accepted
 * within two evaluation intervals and two Telegram round trips of the report. The routine backlog
 * is bounded and its drops are told in one "N trade notices dropped" message; the failed trades
 * arrive as the first one at once and then a digest, not one message per failure.
 *
 * And at most once: a Telegram that answers 200 and then cuts the body off receives the alert
 * once, not once per retry.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { FAILED_TRADE_DIGEST_WINDOW_MS } from '../../src/alerts/trade-notices.js';
import { killAll, spawnBot } from '../e2e/harness.js';
import { CRASH_TEXT, ScriptedTelegram, TOKEN, sleep, until, uniquePort } from './support-alerting-export.js';

const TELEGRAM_DELAY_MS = 1_000;
const EVALUATION_INTERVAL_S = 5;
const LOSS_AFTER_MS = 8_000;
/** Two evaluation intervals (the loss is seen at the next cycle), two Telegram round trips (the one in flight, its own). */
const LOSS_ALERT_BOUND_MS = 2 * EVALUATION_INTERVAL_S * 1_000 + 2 * TELEGRAM_DELAY_MS;

const BOT = `
import { traceTradeExecution, reportDailyPnl } from 'polymarket-bot-monitoring/probe';
const order = { market: '0x' + 'ab'.repeat(32), side: 'BUY', size: 5, price: 0.5 };
const counts = { filled: 0, failed: 0 };
reportDailyPnl({ pnlUsd: 0, startingBalanceUsd: 1000 });
setInterval(() => {
  traceTradeExecution(order, async () => ({ status: 'matched' })).then(() => counts.filled++);
  traceTradeExecution(order, async () => {
    throw Object.assign(new Error('CLOB unavailable'), { status: 503 });
  }).catch(() => counts.failed++);
}, 50);
setTimeout(() => {
  reportDailyPnl({ pnlUsd: -200, startingBalanceUsd: 1000 });
  console.log('bot: loss reported at ' + Date.now());
}, ${LOSS_AFTER_MS});
setInterval(() => console.log('bot: trades ' + JSON.stringify(counts)), 1000);
`;

const telegrams: ScriptedTelegram[] = [];
afterAll(async () => {
  killAll();
  await Promise.all(telegrams.map((t) => t.stop()));
});

describe('Telegram answering in 1 s while trades fail fast', () => {
  it.concurrent('delivers the critical daily-loss alert within its bound, sums up the routine drops, and sends failed trades as first + digest', async ({ expect }) => {
    const telegram = await new ScriptedTelegram().start();
    telegrams.push(telegram);
    telegram.behaviour = { kind: 'slow', delayMs: TELEGRAM_DELAY_MS };
    const bot = spawnBot({
      eval: BOT,
      env: {
        METRICS_PORT: String(await uniquePort()),
        DASHBOARD_PORT: String(await uniquePort()),
        MONITOR_INTERVAL_SECONDS: String(EVALUATION_INTERVAL_S),
        // Other processes share these two cores: a trip would shed the very notices under test.
        CIRCUIT_BREAKER_ENABLED: 'false',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_CHAT_ID: '42',
        TELEGRAM_API_URL: telegram.url,
        ALERT_ON_TRADE: 'on',
      },
    });
    try {
      const lossLine = await bot.waitForLine(/^bot: loss reported at \d+/, LOSS_AFTER_MS + 15_000);
      const reportedAt = Number(/at (\d+)/.exec(lossLine)![1]);
      const accepted = (pattern: RegExp) => telegram.accepted.filter((m) => pattern.test(m.text));
      const lossAlert = await until(
        () => accepted(/CRITICAL: The bot's daily loss has reached the critical level\./)[0],
        'the critical daily-loss alert',
        LOSS_ALERT_BOUND_MS + 10_000,
      );
      const lossDelayMs = lossAlert.at - reportedAt;

      // The digest closes the failures' first window; the drop summary comes at most every 30 s.
      await until(
        () => (accepted(/more copied trades? failed in the last/).length > 0 && accepted(/trade notices? dropped/).length > 0 ? true : undefined),
        'the failed-trade digest and the drop summary',
        FAILED_TRADE_DIGEST_WINDOW_MS + 15_000,
      );
      const elapsedMs = Date.now() - reportedAt + LOSS_AFTER_MS;
      const trades = bot.output().match(/^bot: trades (.*)$/gm)?.at(-1);
      const counts = JSON.parse(trades!.slice('bot: trades '.length)) as { filled: number; failed: number };
      const failedSingles = telegram.requests.filter((r) => /Copied trade failed/.test(r.text));
      const digests = accepted(/more copied trades? failed in the last/);
      const fills = telegram.requests.filter((r) => /Copied trade filled/.test(r.text));
      const summary = accepted(/trade notices? dropped/)[0]!;
      console.log(
        `delivery under a 1 s Telegram: daily-loss alert ${lossDelayMs} ms after the report (bound ${LOSS_ALERT_BOUND_MS} ms); ` +
          `${counts.failed} failed trades → ${failedSingles.length} single notice + ${digests.length} digest(s); ` +
          `${counts.filled} fills → ${fills.length} sent; summary "${/<b>(.*?)<\/b>/.exec(summary.text)?.[1]}"; ` +
          `${telegram.requests.length} Telegram requests in ${(elapsedMs / 1000).toFixed(1)} s`,
      );

      expect(lossDelayMs).toBeLessThanOrEqual(LOSS_ALERT_BOUND_MS);
      expect(counts.failed).toBeGreaterThan(100);
      expect(failedSingles).toHaveLength(1);
      expect(digests).toHaveLength(1);
      expect(digests[0]!.text).toMatch(/by outcome: failed \d+/);
      expect(digests[0]!.text).toMatch(/CLOB unavailable/);
      expect(summary.text).toMatch(/\d+ trade notices dropped/);
      expect(bot.child.exitCode).toBeNull();
      expect(bot.output()).not.toMatch(CRASH_TEXT);
    } finally {
      bot.kill('SIGKILL');
    }
  }, 60_000);

  it.concurrent('sends an alert whose 200 answer broke off only once', async ({ expect }) => {
    // 200, the start of the body, then the connection is cut: the message was posted.
    const requests: number[] = [];
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests.push(Date.now());
        const body = JSON.stringify({ ok: true, result: { message_id: requests.length } });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.write(body.slice(0, 5));
        setTimeout(() => res.destroy(), 20);
      });
    });
    const port = await uniquePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const bot = spawnBot({
      eval: `
import { reportDailyPnl } from 'polymarket-bot-monitoring/probe';
reportDailyPnl({ pnlUsd: -200, startingBalanceUsd: 1000 });
setInterval(() => {}, 1000);
`,
      env: {
        METRICS_PORT: String(await uniquePort()),
        DASHBOARD_PORT: String(await uniquePort()),
        MONITOR_INTERVAL_SECONDS: String(EVALUATION_INTERVAL_S),
        CIRCUIT_BREAKER_ENABLED: 'false',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_CHAT_ID: '42',
        TELEGRAM_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      },
    });
    try {
      await until(() => (requests.length > 0 ? true : undefined), 'the daily-loss alert', 15_000);
      // Four attempts with backoff (1 s, 2 s, 4 s, with jitter) would all be over by now.
      await sleep(9_000);
      console.log(`200 cut off: ${requests.length} request(s) for one alert`);
      expect(requests).toHaveLength(1);
      expect(bot.output()).toMatch(/unconfirmed/);
      expect(bot.output()).not.toMatch(CRASH_TEXT);
    } finally {
      bot.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
