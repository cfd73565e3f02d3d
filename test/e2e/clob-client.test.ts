/**
 * Zero-code instrumentation of the official @polymarket/clob-client, end to end: real bots with no
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
import { REGISTER, get } from './harness.js';
import { BOTS, TOKEN_ID, expectMonitoringToMatchFakeClob, monitored, operationsSeen, results, tradeCounts, tradeSpans, useFakeClob } from './clob-run.js';

const fx = useFakeClob();

describe('a bot placing orders through @polymarket/clob-client with no monitoring code', () => {
  it('ESM bot: each order, batch and cancel is one trade sample and one span with the outcome the CLOB answered, probe-wrapped orders once', async () => {
    const run = await monitored(BOTS.esm, { BOT_PROBE: '1' });
    const seen = operationsSeen();
    // The script reached every mode: fill, rest, delayed, unmatched, refuse, bad_request, 429, 500, drop.
    expect(new Set(fx.clob.stats.trades.map((r) => r.mode)).size).toBe(9);
    await expectMonitoringToMatchFakeClob(run);

    const spans = tradeSpans(await fx.receiver.waitForSpans((s) => tradeSpans(s).length >= seen.length, `${seen.length} trade.execute spans`));
    expect(spans.map((s) => ({
      operation: s.attributes['polymarket.operation'],
      side: s.attributes['polymarket.side'],
      outcome: s.attributes['polymarket.outcome'],
    }))).toEqual(seen);
    for (const [i, span] of spans.entries()) {
      if (seen[i]!.operation === 'place') expect(span.attributes['polymarket.market_id'], `span ${i}`).toBe(TOKEN_ID);
    }
    // The order placed inside traceWalletScan is a child of that scan's span.
    const scan = fx.receiver.spans.find((s) => s.name === 'wallet.scan');
    expect(scan).toBeDefined();
    const inScan = spans.filter((s) => s.parentSpanId === scan!.spanId);
    expect(inScan).toHaveLength(1);
    expect(inScan[0]!.traceId).toBe(scan!.traceId);
    expect(fx.receiver.unparsed).toEqual([]);

    expect(await run.stop()).toBe(0);
  });

  it('CommonJS bot (require of the ESM client, throwOnError): thrown ApiErrors get the same outcomes as returned errors', async () => {
    // Nine orders and a cancelAll walk the whole mixed script once; every error is thrown.
    const run = await monitored(BOTS.cjs, { BOT_ORDERS: '9', CLOB_THROW_ON_ERROR: '1' });
    expect(fx.clob.stats.trades).toHaveLength(10);
    expect(results(run.stdout()).filter((r) => 'threw' in (r as object))).toHaveLength(4);
    await expectMonitoringToMatchFakeClob(run);
    const seen = operationsSeen();
    const spans = tradeSpans(await fx.receiver.waitForSpans((s) => tradeSpans(s).length >= seen.length, `${seen.length} trade.execute spans`));
    expect(spans.map((s) => s.attributes['polymarket.outcome'])).toEqual(seen.map((o) => o.outcome));
    expect(await run.stop()).toBe(0);
  });

  it.each([
    ['preload first: --import register --import tsx', { nodeArgs: ['--import', 'tsx'] }],
    ['tsx first: --import tsx --import register', { preload: false, nodeArgs: ['--import', 'tsx', '--import', REGISTER] }],
  ] as const)('TypeScript bot under tsx (%s): trade samples and api health', async (_, spawn) => {
    const run = await monitored(BOTS.ts, {}, { ...spawn, nodeArgs: [...spawn.nodeArgs] });
    await expectMonitoringToMatchFakeClob(run);
    expect(await run.stop()).toBe(0);
  });

  it('MONITORING_INSTRUMENT_CLOB=false: no trade samples or spans, and the bot still runs to the end', async () => {
    const run = await monitored(BOTS.esm, { MONITORING_INSTRUMENT_CLOB: 'false' });
    expect(results(run.stdout())).toHaveLength(7);
    expect(tradeCounts(await run.scrape())).toEqual({});
    expect(await run.stop()).toBe(0);
    // Exited: whatever spans there were have been flushed.
    expect(tradeSpans(fx.receiver.spans)).toEqual([]);
  });

});
