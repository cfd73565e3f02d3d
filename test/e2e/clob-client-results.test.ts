/**
 * Zero-code instrumentation of the official @polymarket/clob-client, end to end, part three (a CLOB outage, and every call's result unchanged; split from clob-client.test.ts so they run side by side): real bots with no
 * monitoring code (test/e2e/clob/bot.{mjs,cjs,ts}) place orders through the real client against
 * the fake CLOB (examples/fake-clob/server.mjs), with the built preload, exporting spans to a
 * loopback OTLP/JSON receiver. What the monitoring shows is checked against what the fake CLOB
 * recorded it answered, read through the outcome table of the README:
 *
 *   matched → filled, live → resting, delayed → delayed, unmatched → unfilled,
 *   success:false or HTTP 4xx (not 429) → rejected, 429/5xx → failed, no HTTP answer → error;
 *   a cancel is success, or rejected when anything is in not_canceled.
 *
 * Every trading request of these runs is one trade operation (no run here retries but the outage
 * one, which checks no exact count per operation). `npm test` builds dist/ first (pretest).
 */
import { describe, expect, it } from 'vitest';
import { BOTS, SUCCESS_LIKE, apiCount, monitored, results, total, tradeCounts, unmonitored, useFakeClob } from './clob-run.js';

const fx = useFakeClob();

describe('a bot placing orders through @polymarket/clob-client: outages, and results unchanged', () => {
  it.each([
    ['http500', 'failed'],
    ['drop', 'error'],
  ] as const)('CLOB outage (%s on every trading request, client retrying): no success-like sample, every operation %s, TradeFailures alert', async (mode, outcome) => {
    fx.clob.setMode(mode);
    const run = await monitored(BOTS.esm, { CLOB_RETRY_ON_ERROR: '1' });
    const operations = results(run.stdout()).length;
    expect(operations).toBe(7);
    const samples = await run.scrapeUntil((s) => total(tradeCounts(s)) >= operations && apiCount(s, 'failure') >= fx.clob.stats.failed);
    const counts = tradeCounts(samples);
    expect(Object.keys(counts).filter((k) => SUCCESS_LIKE.includes(k.split(' ')[2]!))).toEqual([]);
    expect(total(counts), run.bot.output()).toBe(operations);
    expect(Object.keys(counts).every((k) => k.endsWith(` ${outcome}`)), JSON.stringify(counts)).toBe(true);
    // Each POST was retried once: the CLOB saw, and api health counts, every attempt.
    expect(fx.clob.stats.trades.length).toBeGreaterThan(operations);
    expect(apiCount(samples, 'failure')).toBe(fx.clob.stats.failed);
    expect(apiCount(samples, 'success')).toBe(fx.clob.stats.succeeded);

    await run.bot.waitForLine(/Alert .*TradeFailures/, 12_000);
    expect(await run.stop()).toBe(0);
  });

  it.each([
    ['ESM', BOTS.esm, { BOT_PROBE: '1' }],
    ['CommonJS, throwOnError', BOTS.cjs, { BOT_ORDERS: '9', CLOB_THROW_ON_ERROR: '1' }],
  ] as const)('%s bot: every call returns or throws exactly what it does without monitoring', async (_, script, env) => {
    const run = await monitored(script, env);
    expect(await run.stop()).toBe(0);
    const withMonitoring = results(run.stdout());
    fx.clob.reset();
    const without = await unmonitored(script, env);
    expect(without.length).toBeGreaterThanOrEqual(7);
    expect(withMonitoring).toEqual(without);
  });
});
