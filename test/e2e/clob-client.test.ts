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
import type { Readable } from 'node:stream';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeClob, type Mode, type SeenRequest } from '../../examples/fake-clob/server.mjs';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { REGISTER, ROOT, freePort, get, killAll, parseExposition, spawnBot, type Bot, type Sample, type SpawnOptions } from './harness.js';

const BOTS = {
  esm: path.join(ROOT, 'test/e2e/clob/bot.mjs'),
  cjs: path.join(ROOT, 'test/e2e/clob/bot.cjs'),
  ts: path.join(ROOT, 'test/e2e/clob/bot.ts'),
};
const TOKEN_ID = '123456789';
const TRADE_COUNT = 'monitoring_trade_execution_duration_seconds_count';
const API_REQUESTS = 'monitoring_api_requests_total';
const SUCCESS_LIKE = ['filled', 'resting', 'delayed', 'success'];

type FakeClob = Awaited<ReturnType<typeof startFakeClob>>;
let clob: FakeClob;
let receiver: OtlpReceiver;

beforeEach(async () => {
  clob = await startFakeClob({ mode: 'mixed' });
  receiver = await startOtlpReceiver();
});

afterEach(async () => {
  killAll();
  await clob.stop();
  await receiver.stop();
});

// --- what the fake CLOB says happened -------------------------------------------------------

interface Operation {
  operation: 'place' | 'cancel';
  side: 'buy' | 'sell' | 'other';
  outcome: string;
}

const PLACED: Record<Mode, string> = {
  fill: 'filled', rest: 'resting', delayed: 'delayed', unmatched: 'unfilled',
  refuse: 'rejected', bad_request: 'rejected', http429: 'failed', http500: 'failed', drop: 'error',
};
const CANCELED: Record<Mode, string> = {
  fill: 'success', rest: 'success', delayed: 'success', unmatched: 'success',
  refuse: 'rejected', bad_request: 'rejected', http429: 'failed', http500: 'failed', drop: 'error',
};

function sideOf(request: SeenRequest): Operation['side'] {
  const sides = new Set<string>();
  if (request.path === '/order') sides.add(String((request.body as { order?: { side?: string } })?.order?.side));
  else if (Array.isArray(request.body)) for (const o of request.body as { order?: { side?: string } }[]) sides.add(String(o?.order?.side));
  const [only] = sides;
  return sides.size === 1 && (only === 'BUY' || only === 'SELL') ? (only.toLowerCase() as 'buy' | 'sell') : 'other';
}

/** One trade operation per trading request the fake CLOB saw, in arrival order. */
function operationsSeen(): Operation[] {
  return clob.stats.trades.map((r) =>
    r.method === 'POST'
      ? { operation: 'place', side: sideOf(r), outcome: PLACED[r.mode!] }
      : { operation: 'cancel', side: 'other', outcome: CANCELED[r.mode!] },
  );
}

const key = (o: Operation): string => `${o.operation} ${o.side} ${o.outcome}`;
function tally(operations: Operation[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of operations) counts[key(o)] = (counts[key(o)] ?? 0) + 1;
  return counts;
}

// --- what the monitoring shows ------------------------------------------------------------------

/** Trade histogram counts by `operation side outcome`, zero series left out. */
function tradeCounts(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== TRADE_COUNT || s.value === 0) continue;
    const k = `${s.labels.operation} ${s.labels.side} ${s.labels.outcome}`;
    counts[k] = (counts[k] ?? 0) + s.value;
  }
  return counts;
}
const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

function apiCount(samples: Sample[], outcome: 'success' | 'failure'): number {
  return samples
    .filter((s) => s.name === API_REQUESTS && s.labels.api === 'clob' && s.labels.outcome === outcome)
    .reduce((sum, s) => sum + s.value, 0);
}

function collect(stream: Readable | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/** The `result {json}` lines a bot printed: what each client call returned or threw. */
function results(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('result '))
    .map((line) => JSON.parse(line.slice('result '.length)) as unknown);
}

interface Run {
  readonly bot: Bot;
  readonly stdout: () => string;
  scrape(): Promise<Sample[]>;
  /** Scrapes until `done` holds (or `timeoutMs` passes); returns the last scrape either way. */
  scrapeUntil(done: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * A bot with the preload, OTLP/JSON to the receiver, staying up after its last call until
 * stopped (BOT_HOLD), so /metrics can be read while it runs.
 */
async function monitored(script: string, env: Record<string, string> = {}, spawn: Pick<SpawnOptions, 'nodeArgs' | 'preload'> = {}): Promise<Run> {
  const metricsPort = String(await freePort());
  const bot = spawnBot({
    script,
    ...spawn,
    env: {
      CLOB_HOST: clob.url,
      BOT_HOLD: '1',
      METRICS_PORT: metricsPort,
      DASHBOARD_PORT: String(await freePort()),
      MONITOR_INTERVAL_SECONDS: '5',
      // Other test processes load this host: a trip would shed the spans under test.
      CIRCUIT_BREAKER_ENABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    },
  });
  const stdout = collect(bot.child.stdout);
  await bot.waitForLine(/^bot: done/, 15_000);
  const scrape = async (): Promise<Sample[]> => parseExposition((await get(`http://127.0.0.1:${metricsPort}/metrics`, 3_000)).body);
  return {
    bot,
    stdout,
    scrape,
    async scrapeUntil(done, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const samples = await scrape();
        if (done(samples) || Date.now() > deadline) return samples;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      bot.kill('SIGTERM');
      return (await bot.exited).code;
    },
  };
}

/** The same bot with no preload, to the end; its printed results. */
async function unmonitored(script: string, env: Record<string, string> = {}): Promise<unknown[]> {
  const bot = spawnBot({ script, preload: false, env: { CLOB_HOST: clob.url, ...env } });
  const stdout = collect(bot.child.stdout);
  const { code } = await bot.exited;
  expect(code, bot.output()).toBe(0);
  return results(stdout());
}

/** Trade counts and api="clob" counts, once the histogram holds every operation the fake CLOB saw. */
async function expectMonitoringToMatchFakeClob(run: Run): Promise<void> {
  const expected = tally(operationsSeen());
  const samples = await run.scrapeUntil((s) => total(tradeCounts(s)) >= total(expected) && apiCount(s, 'success') + apiCount(s, 'failure') >= clob.stats.requests.length);
  expect(tradeCounts(samples), run.bot.output()).toEqual(expected);
  expect({ success: apiCount(samples, 'success'), failure: apiCount(samples, 'failure') }).toEqual({
    success: clob.stats.succeeded,
    failure: clob.stats.failed,
  });
  for (const count of samples.filter((s) => s.name === TRADE_COUNT && s.value > 0)) {
    const { otel_scope_name: _name, otel_scope_version: _version, ...labels } = count.labels;
    expect(count.labels.otel_scope_name).toBeTruthy();
    const inf = samples.find(
      (s) => s.name === 'monitoring_trade_execution_duration_seconds_bucket' && s.labels.le === '+Inf' && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    expect(inf?.value).toBe(count.value);
  }
}

const tradeSpans = (spans: readonly ReceivedSpan[]): ReceivedSpan[] =>
  spans.filter((s) => s.name === 'trade.execute').sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));

// --- the tests ----------------------------------------------------------------------------------------

describe('a bot placing orders through @polymarket/clob-client with no monitoring code', () => {
  it('ESM bot: each order, batch and cancel is one trade sample and one span with the outcome the CLOB answered, probe-wrapped orders once', async () => {
    const run = await monitored(BOTS.esm, { BOT_PROBE: '1' });
    const seen = operationsSeen();
    // The script reached every mode: fill, rest, delayed, unmatched, refuse, bad_request, 429, 500, drop.
    expect(new Set(clob.stats.trades.map((r) => r.mode)).size).toBe(9);
    await expectMonitoringToMatchFakeClob(run);

    const spans = tradeSpans(await receiver.waitForSpans((s) => tradeSpans(s).length >= seen.length, `${seen.length} trade.execute spans`));
    expect(spans.map((s) => ({
      operation: s.attributes['polymarket.operation'],
      side: s.attributes['polymarket.side'],
      outcome: s.attributes['polymarket.outcome'],
    }))).toEqual(seen);
    for (const [i, span] of spans.entries()) {
      if (seen[i]!.operation === 'place') expect(span.attributes['polymarket.market_id'], `span ${i}`).toBe(TOKEN_ID);
    }
    // The order placed inside traceWalletScan is a child of that scan's span.
    const scan = receiver.spans.find((s) => s.name === 'wallet.scan');
    expect(scan).toBeDefined();
    const inScan = spans.filter((s) => s.parentSpanId === scan!.spanId);
    expect(inScan).toHaveLength(1);
    expect(inScan[0]!.traceId).toBe(scan!.traceId);
    expect(receiver.unparsed).toEqual([]);

    expect(await run.stop()).toBe(0);
  });

  it('CommonJS bot (require of the ESM client, throwOnError): thrown ApiErrors get the same outcomes as returned errors', async () => {
    // Nine orders and a cancelAll walk the whole mixed script once; every error is thrown.
    const run = await monitored(BOTS.cjs, { BOT_ORDERS: '9', CLOB_THROW_ON_ERROR: '1' });
    expect(clob.stats.trades).toHaveLength(10);
    expect(results(run.stdout()).filter((r) => 'threw' in (r as object))).toHaveLength(4);
    await expectMonitoringToMatchFakeClob(run);
    const seen = operationsSeen();
    const spans = tradeSpans(await receiver.waitForSpans((s) => tradeSpans(s).length >= seen.length, `${seen.length} trade.execute spans`));
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

  it.each([
    ['http500', 'failed'],
    ['drop', 'error'],
  ] as const)('CLOB outage (%s on every trading request, client retrying): no success-like sample, every operation %s, TradeFailures alert', async (mode, outcome) => {
    clob.setMode(mode);
    const run = await monitored(BOTS.esm, { CLOB_RETRY_ON_ERROR: '1' });
    const operations = results(run.stdout()).length;
    expect(operations).toBe(7);
    const samples = await run.scrapeUntil((s) => total(tradeCounts(s)) >= operations && apiCount(s, 'failure') >= clob.stats.failed);
    const counts = tradeCounts(samples);
    expect(Object.keys(counts).filter((k) => SUCCESS_LIKE.includes(k.split(' ')[2]!))).toEqual([]);
    expect(total(counts), run.bot.output()).toBe(operations);
    expect(Object.keys(counts).every((k) => k.endsWith(` ${outcome}`)), JSON.stringify(counts)).toBe(true);
    // Each POST was retried once: the CLOB saw, and api health counts, every attempt.
    expect(clob.stats.trades.length).toBeGreaterThan(operations);
    expect(apiCount(samples, 'failure')).toBe(clob.stats.failed);
    expect(apiCount(samples, 'success')).toBe(clob.stats.succeeded);

    await run.bot.waitForLine(/Alert .*TradeFailures/, 12_000);
    expect(await run.stop()).toBe(0);
  });

  it('MONITORING_INSTRUMENT_CLOB=false: no trade samples or spans, and the bot still runs to the end', async () => {
    const run = await monitored(BOTS.esm, { MONITORING_INSTRUMENT_CLOB: 'false' });
    expect(results(run.stdout())).toHaveLength(7);
    expect(tradeCounts(await run.scrape())).toEqual({});
    expect(await run.stop()).toBe(0);
    // Exited: whatever spans there were have been flushed.
    expect(tradeSpans(receiver.spans)).toEqual([]);
  });

  it.each([
    ['ESM', BOTS.esm, { BOT_PROBE: '1' }],
    ['CommonJS, throwOnError', BOTS.cjs, { BOT_ORDERS: '9', CLOB_THROW_ON_ERROR: '1' }],
  ] as const)('%s bot: every call returns or throws exactly what it does without monitoring', async (_, script, env) => {
    const run = await monitored(script, env);
    expect(await run.stop()).toBe(0);
    const withMonitoring = results(run.stdout());
    clob.reset();
    const without = await unmonitored(script, env);
    expect(without.length).toBeGreaterThanOrEqual(7);
    expect(withMonitoring).toEqual(without);
  });
});

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
    const reads = clob.stats.requests.filter((r) => r.method === 'GET').map((r) => r.path);
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
    const bot = spawnBot({ script: BOTS.ts, preload: false, nodeArgs: ['--import', 'tsx'], env: { CLOB_HOST: clob.url } });
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
  beforeEach(() => clob.setScript(V2_SCRIPT));

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
    expect(new Set(clob.stats.trades.map((r) => r.mode))).toEqual(new Set(V2_SCRIPT));
    await expectMonitoringToMatchFakeClob(run);

    const spans = tradeSpans(await receiver.waitForSpans((s) => tradeSpans(s).length >= seen.length, `${seen.length} trade.execute spans`));
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
      const scan = receiver.spans.find((s) => s.name === 'wallet.scan');
      expect(spans.filter((s) => s.parentSpanId === scan?.spanId)).toHaveLength(1);
    }
    expect(receiver.unparsed).toEqual([]);

    // Instrumented once, by whichever hook saw the class first, and no 5.x or refusal lines.
    const output = run.bot.output();
    expect(output.split('\n').filter((line) => V2_INSTRUMENTED.test(line)), output).toHaveLength(1);
    expect(output).not.toMatch(/not a supported CLOB client|could not be instrumented|@polymarket\/clob-client \d/);

    expect(await run.stop()).toBe(0);
    const withMonitoring = results(run.stdout());
    expect(withMonitoring.filter((r) => 'threw' in (r as object))).toHaveLength(thrown);
    clob.reset();
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
    const reads = clob.stats.requests.filter((r) => r.method === 'GET').map((r) => r.path);
    expect(reads).toEqual(['/version', '/tick-size', '/neg-risk', '/markets-by-token/123456789', `/clob-markets/0x${(123456789).toString(16).padStart(64, '0')}`, '/book']);
    // The orders arrive in the v2 shape.
    const posted = clob.stats.trades.find((r) => r.path === '/order')!.body as { order: Record<string, unknown> };
    expect(posted.order).toMatchObject({ tokenId: TOKEN_ID, side: 'BUY', metadata: expect.any(String), builder: expect.any(String), timestamp: expect.any(String) });
    expect(posted.order).not.toHaveProperty('feeRateBps');
  });
});
