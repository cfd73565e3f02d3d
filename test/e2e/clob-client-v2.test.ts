/**
 * Zero-code instrumentation of the official clients, end to end, part two (the bots on their own, and @polymarket/clob-client-v2; split from clob-client.test.ts so the two run side by side): real bots with no
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
import { beforeEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { type Mode } from '../../examples/fake-clob/server.mjs';
import { ROOT, spawnBot } from './harness.js';
import { BOTS, TOKEN_ID, collect, expectMonitoringToMatchFakeClob, monitored, operationsSeen, results, tradeSpans, unmonitored, useFakeClob } from './clob-run.js';

const fx = useFakeClob();

describe('the bots and the fake CLOB on their own (no preload)', () => {
  it('the ESM bot walks the mixed script and prints what the client returned for each mode', async () => {
    const printed = (await unmonitored(BOTS.esm, { BOT_PROBE: '1' })) as { call: string; returned?: Record<string, unknown> }[];
    expect(printed.map((r) => r.call)).toEqual([
      'createAndPostOrder', 'createAndPostOrder', 'createAndPostOrder', 'createAndPostOrder',
      'createAndPostMarketOrder', 'postOrders',
      'traceTradeExecution(createAndPostOrder)', 'traceWalletScan(createAndPostOrder)', 'cancelOrder',
    ]);
    expect(printed.map((r) => r.returned?.status)).toEqual(['matched', 'live', 'delayed', 'unmatched', '', 400, 429, 500, undefined]);
    expect(printed[4]!.returned).toMatchObject({ success: false, errorMsg: 'not enough balance / allowance' });
    expect(printed[8]!.returned).toEqual({ error: 'socket hang up' });
    // Metadata is fetched once per token and cached; the market order alone reads the book.
    const reads = fx.clob.stats.requests.filter((r) => r.method === 'GET').map((r) => r.path);
    expect(reads).toEqual(['/tick-size', '/fee-rate', '/neg-risk', '/book']);
  });

  it('the CommonJS bot with throwOnError sees HTTP errors and dropped connections as thrown ApiErrors', async () => {
    const printed = (await unmonitored(BOTS.cjs, { BOT_ORDERS: '9', CLOB_THROW_ON_ERROR: '1' })) as { threw?: { name: string; status?: number } }[];
    expect(printed.filter((r) => r.threw).map((r) => [r.threw!.name, r.threw!.status])).toEqual([
      ['ApiError', 400],
      ['ApiError', 429],
      ['ApiError', 500],
      ['ApiError', undefined],
    ]);
  });

  it('the TypeScript bot runs under tsx', async () => {
    const bot = spawnBot({ script: BOTS.ts, preload: false, nodeArgs: ['--import', 'tsx'], env: { CLOB_HOST: fx.clob.url } });
    const stdout = collect(bot.child.stdout);
    expect((await bot.exited).code, bot.output()).toBe(0);
    expect(results(stdout())).toHaveLength(5);
  });
});

// --- the successor client, @polymarket/clob-client-v2 1.x ------------------------------------------

const V2_BOTS = {
  esm: path.join(ROOT, 'test/e2e/clob/bot-v2.mjs'),
  cjs: path.join(ROOT, 'test/e2e/clob/bot-v2.cjs'),
};
/** Every kind of answer that decides an outcome: filled, resting, refused, a 5xx, no answer. */
const V2_SCRIPT: Mode[] = ['fill', 'rest', 'refuse', 'http500', 'drop'];
const V2_INSTRUMENTED = /@polymarket\/clob-client-v2 1\.\d+\.\d+\S* instrumented/;

describe('a bot placing orders through @polymarket/clob-client-v2 with no monitoring code', () => {
  beforeEach(() => fx.clob.setScript(V2_SCRIPT));

  it.each([
    // 4 limit orders, a market order, a batch, a traced order, an order in a wallet scan, a cancel:
    // nine operations, the script almost twice (the cancel gets the 500).
    ['ESM bot (dist/client.js)', V2_BOTS.esm, { BOT_PROBE: '1' }, 9, 0],
    // Nine orders and a cancelAll, every error thrown: the 500s and both dropped requests.
    ['CommonJS bot (require loads v2\'s own dist/client.cjs), throwOnError', V2_BOTS.cjs, { BOT_ORDERS: '9', CLOB_THROW_ON_ERROR: '1' }, 10, 4],
  ] as const)('%s: one trade sample and span per operation with the outcome the CLOB answered, instrumented once, results unchanged', async (_, script, env, operations, thrown) => {
    const run = await monitored(script, env);
    const seen = operationsSeen();
    expect(seen, run.bot.output()).toHaveLength(operations);
    expect(new Set(fx.clob.stats.trades.map((r) => r.mode))).toEqual(new Set(V2_SCRIPT));
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
    if ('BOT_PROBE' in env) {
      // The probe's own spans take the client's order in, not a second trade.
      const scan = fx.receiver.spans.find((s) => s.name === 'wallet.scan');
      expect(spans.filter((s) => s.parentSpanId === scan?.spanId)).toHaveLength(1);
    }
    expect(fx.receiver.unparsed).toEqual([]);

    // Instrumented once, by whichever hook saw the class first, and no 5.x or refusal lines.
    const output = run.bot.output();
    expect(output.split('\n').filter((line) => V2_INSTRUMENTED.test(line)), output).toHaveLength(1);
    expect(output).not.toMatch(/not a supported CLOB client|could not be instrumented|@polymarket\/clob-client \d/);

    expect(await run.stop()).toBe(0);
    const withMonitoring = results(run.stdout());
    expect(withMonitoring.filter((r) => 'threw' in (r as object))).toHaveLength(thrown);
    fx.clob.reset();
    expect(await unmonitored(script, env)).toEqual(withMonitoring);
  });

  it('on its own (no preload), the ESM bot reads the order version once and market info for its market order', async () => {
    const printed = (await unmonitored(V2_BOTS.esm, { BOT_PROBE: '1' })) as { call: string; returned?: Record<string, unknown> }[];
    expect(printed.map((r) => r.call)).toEqual([
      'createAndPostOrder', 'createAndPostOrder', 'createAndPostOrder', 'createAndPostOrder',
      'createAndPostMarketOrder', 'postOrders',
      'traceTradeExecution(createAndPostOrder)', 'traceWalletScan(createAndPostOrder)', 'cancelOrder',
    ]);
    // Same response shapes as 5.x: the CLOB's body, `{ error, status }` for an HTTP error,
    // `{ error }` for no answer; a batch answers an array.
    expect(printed.map((r) => (Array.isArray(r.returned) ? 'array' : r.returned?.status))).toEqual(['matched', 'live', '', 500, undefined, 'array', 'live', '', 500]);
    expect(printed[2]!.returned).toMatchObject({ success: false, errorMsg: 'not enough balance / allowance' });
    expect(printed[4]!.returned).toEqual({ error: 'socket hang up' });
    // v2 asks for /version (cached per client) and no /fee-rate; its market order resolves the
    // token's market and reads tick size and neg risk from it.
    const reads = fx.clob.stats.requests.filter((r) => r.method === 'GET').map((r) => r.path);
    expect(reads).toEqual(['/version', '/tick-size', '/neg-risk', '/markets-by-token/123456789', `/clob-markets/0x${(123456789).toString(16).padStart(64, '0')}`, '/book']);
    // The orders arrive in the v2 shape.
    const posted = fx.clob.stats.trades.find((r) => r.path === '/order')!.body as { order: Record<string, unknown> };
    expect(posted.order).toMatchObject({ tokenId: TOKEN_ID, side: 'BUY', metadata: expect.any(String), builder: expect.any(String), timestamp: expect.any(String) });
    expect(posted.order).not.toHaveProperty('feeRateBps');
  });
});
