import { createRequire } from 'node:module';
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentClobClient, type ClobInstrumentation } from '../../src/ingest/clob-client.js';
import { traceTradeExecution, traceWalletScan } from '../../src/ingest/probe.js';
import { BotState } from '../../src/state/bot-state.js';
import { apiScope } from '../../src/ingest/scopes.js';
import { METRICS } from '../../src/metrics/catalog.js';
import { createInstruments } from '../../src/metrics/instruments.js';
import { subscribe } from '../../src/ingest/subscribers.js';
import { TestReader } from '../support/metrics.js';

const TRADES = METRICS.tradeExecutionDuration.name;

/**
 * The shape of @polymarket/clob-client 5.x's ClobClient, as far as the instrumentation touches it:
 * order and cancel methods that go through `this.post`/`this.del`, and return the CLOB's answer
 * (or `{ error, status }`) as a value.
 */
function fakeClientClass(answers: { post?: () => unknown; del?: () => unknown } = {}) {
  return class ClobClient {
    readonly requests: string[] = [];
    constructor(readonly host: string) {}
    async get(endpoint: string, _options?: unknown): Promise<unknown> {
      this.requests.push(`GET ${endpoint}`);
      return {};
    }
    async post(endpoint: string, _options?: unknown): Promise<unknown> {
      this.requests.push(`POST ${endpoint}`);
      return answers.post ? answers.post() : { success: true, errorMsg: '', orderID: '0x1', status: 'matched' };
    }
    async put(endpoint: string, _options?: unknown): Promise<unknown> {
      this.requests.push(`PUT ${endpoint}`);
      return {};
    }
    async del(endpoint: string, _options?: unknown): Promise<unknown> {
      this.requests.push(`DELETE ${endpoint}`);
      return answers.del ? answers.del() : { canceled: ['0x1'], not_canceled: {} };
    }
    async createOrder(userOrder: { tokenID: string; side: string }): Promise<unknown> {
      return { tokenId: userOrder.tokenID, side: userOrder.side === 'BUY' ? 0 : 1, makerAmount: '5000000', takerAmount: '10000000' };
    }
    async postOrder(order: unknown): Promise<unknown> {
      return this.post(`${this.host}/order`, { data: order });
    }
    async postOrders(args: unknown[]): Promise<unknown> {
      return this.post(`${this.host}/orders`, { data: args });
    }
    async createAndPostOrder(userOrder: { tokenID: string; side: string }): Promise<unknown> {
      const order = await this.createOrder(userOrder);
      return this.postOrder(order);
    }
    async createAndPostMarketOrder(userOrder: { tokenID: string; side: string }): Promise<unknown> {
      const order = await this.createOrder(userOrder);
      return this.postOrder(order);
    }
    async cancelOrder(payload: unknown): Promise<unknown> {
      return this.del(`${this.host}/order`, { data: payload });
    }
    async cancelOrders(hashes: unknown): Promise<unknown> {
      return this.del(`${this.host}/orders`, { data: hashes });
    }
    async cancelAll(): Promise<unknown> {
      return this.del(`${this.host}/cancel-all`);
    }
    async cancelMarketOrders(payload: unknown): Promise<unknown> {
      return this.del(`${this.host}/cancel-market-orders`, { data: payload });
    }
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const { counters, histograms } = createInstruments(meterProvider.getMeter('test'));
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const errors: unknown[] = [];
  const unsubscribe = subscribe({
    scanDuration: histograms.walletScanDuration,
    tradeDuration: histograms.tradeExecutionDuration,
    apiRequests: counters.apiRequests,
    state: new BotState(Date.now),
    tracer: tracerProvider.getTracer('test'),
    apiHosts: new Map(),
    onError: (_where, error) => errors.push(error),
    now: Date.now,
    monotonic: () => performance.now(),
  });
  const lines: string[] = [];
  const clob: ClobInstrumentation = instrumentClobClient({
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
  });
  cleanups.push(unsubscribe, () => clob.stop(), () => meterProvider.shutdown(), () => tracerProvider.shutdown(), () => expect(errors).toEqual([]));

  /** Trade samples as 'operation/side/outcome' → count. */
  const trades = async (): Promise<Record<string, number>> => {
    const { resourceMetrics } = await reader.collect();
    const metrics: MetricData[] = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const points = (metrics.find((m) => m.descriptor.name === TRADES)?.dataPoints ?? []) as { attributes: Attributes; value: { count: number } }[];
    const out: Record<string, number> = {};
    for (const p of points) out[`${p.attributes.operation}/${p.attributes.side}/${p.attributes.outcome}`] = p.value.count;
    return out;
  };
  return { clob, lines, trades, spans: () => exporter.getFinishedSpans() };
}

const V5 = { name: '@polymarket/clob-client', version: '5.8.1' };

const LIMIT_ORDER = { tokenID: '71321045679252212594626385532706912750332728571942532289631379312455583992563', price: 0.42, size: 10, side: 'BUY' };

describe('an instrumented ClobClient', () => {
  it('records each order call as one trade with its side, outcome and token', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    t.clob.instrument(ClobClient, V5);
    await new ClobClient('https://clob.example').createAndPostOrder(LIMIT_ORDER);
    expect(await t.trades()).toEqual({ 'place/buy/filled': 1 });
    const [span] = t.spans();
    expect(span?.name).toBe('trade.execute');
    expect(span?.attributes).toMatchObject({
      'polymarket.operation': 'place',
      'polymarket.side': 'buy',
      'polymarket.market_id': LIMIT_ORDER.tokenID,
      'polymarket.size': 10,
      'polymarket.price': 0.42,
      'polymarket.outcome': 'filled',
    });
  });

  it('reads a signed order passed to postOrder: side 1 is a sell, price and size from its amounts', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    t.clob.instrument(ClobClient, V5);
    await new ClobClient('https://clob.example').postOrder({ tokenId: '42', side: 1, makerAmount: '20000000', takerAmount: '9000000' });
    expect(await t.trades()).toEqual({ 'place/sell/filled': 1 });
    expect(t.spans()[0]?.attributes).toMatchObject({ 'polymarket.size': 20, 'polymarket.price': 0.45, 'polymarket.market_id': '42' });
  });

  it('counts an HTTP 500 the client returned as failed and a refusal as rejected, never as success', async () => {
    const answers = [{ error: 'Internal Server Error', status: 500 }, { success: false, errorMsg: 'not enough balance / allowance' }];
    const t = setup();
    const ClobClient = fakeClientClass({ post: () => answers.shift() });
    t.clob.instrument(ClobClient, V5);
    const client = new ClobClient('https://clob.example');
    await client.createAndPostOrder(LIMIT_ORDER);
    await client.createAndPostOrder({ ...LIMIT_ORDER, side: 'SELL' });
    expect(await t.trades()).toEqual({ 'place/buy/failed': 1, 'place/sell/rejected': 1 });
  });

  it('counts cancels as their own operation', async () => {
    const t = setup();
    const ClobClient = fakeClientClass({ del: () => ({ canceled: [], not_canceled: { '0x1': 'the market is closed' } }) });
    t.clob.instrument(ClobClient, V5);
    const client = new ClobClient('https://clob.example');
    await client.cancelOrder({ orderID: '0x1' });
    await client.cancelAll();
    expect(await t.trades()).toEqual({ 'cancel/other/rejected': 2 });
  });

  it('counts a batch as one operation with the side its orders share', async () => {
    const t = setup();
    const ClobClient = fakeClientClass({ post: () => [{ success: true, status: 'matched' }, { success: true, status: 'live' }] });
    t.clob.instrument(ClobClient, V5);
    const order = { tokenId: '42', side: 0, makerAmount: '5000000', takerAmount: '10000000' };
    await new ClobClient('https://clob.example').postOrders([{ order }, { order }]);
    expect(await t.trades()).toEqual({ 'place/buy/resting': 1 });
  });

  it('gives the bot exactly what the client returned or threw', async () => {
    const answer = { success: true, status: 'live', orderID: '0x9' };
    const failure = new Error('socket hang up');
    let next: () => unknown = () => answer;
    const t = setup();
    const ClobClient = fakeClientClass({ post: () => next() });
    t.clob.instrument(ClobClient, V5);
    const client = new ClobClient('https://clob.example');
    expect(await client.createAndPostOrder(LIMIT_ORDER)).toBe(answer);
    next = () => {
      throw failure;
    };
    await expect(client.createAndPostOrder(LIMIT_ORDER)).rejects.toBe(failure);
    expect(await t.trades()).toEqual({ 'place/buy/resting': 1, 'place/buy/error': 1 });
  });

  it('counts an order the bot also wraps in traceTradeExecution once, with the client’s outcome', async () => {
    const t = setup();
    const ClobClient = fakeClientClass({ post: () => ({ success: true, status: 'unmatched' }) });
    t.clob.instrument(ClobClient, V5);
    const client = new ClobClient('https://clob.example');
    await traceTradeExecution({ side: 'buy', market: '42' }, () => client.createAndPostOrder(LIMIT_ORDER));
    expect(await t.trades()).toEqual({ 'place/buy/unfilled': 1 });
    expect(t.spans().map((s) => s.name)).toEqual(['trade.execute']);
  });

  it('counts a call the bot schedules inside a trade but makes after it ended as its own operation', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    t.clob.instrument(ClobClient, V5);
    const client = new ClobClient('https://clob.example');
    let later: Promise<unknown> | undefined;
    await traceTradeExecution({ side: 'buy' }, async () => {
      const placed = await client.createAndPostOrder(LIMIT_ORDER);
      // A timer set inside the trade runs in its async context, after the trade is over.
      later = new Promise((resolve) => setTimeout(() => resolve(client.cancelOrder({ orderID: '0x1' })), 20));
      return placed;
    });
    await later;
    expect(await t.trades()).toEqual({ 'place/buy/filled': 1, 'cancel/other/success': 1 });
  });

  it('makes an order placed during a wallet scan a child of the scan’s span', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    t.clob.instrument(ClobClient, V5);
    const client = new ClobClient('https://clob.example');
    await traceWalletScan(`0x${'a'.repeat(40)}`, () => client.createAndPostOrder(LIMIT_ORDER));
    const scan = t.spans().find((s) => s.name === 'wallet.scan')!;
    const trade = t.spans().find((s) => s.name === 'trade.execute')!;
    expect(trade.parentSpanContext?.spanId).toBe(scan.spanContext().spanId);
    expect(trade.spanContext().traceId).toBe(scan.spanContext().traceId);
  });

  it('runs every request of the client, and only those, in the clob api scope', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    const seen: (string | undefined)[] = [];
    const original = ClobClient.prototype.post;
    ClobClient.prototype.post = async function (this: InstanceType<typeof ClobClient>, endpoint: string, options?: unknown) {
      seen.push(apiScope.getStore());
      return original.call(this, endpoint, options);
    };
    t.clob.instrument(ClobClient, V5);
    await new ClobClient('http://127.0.0.1:8999').createAndPostOrder(LIMIT_ORDER);
    seen.push(apiScope.getStore());
    expect(seen).toEqual(['clob', undefined]);
  });

  it('leaves a client of another major version alone, with one line', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    const before = Object.getOwnPropertyNames(ClobClient.prototype).map((name) => (ClobClient.prototype as unknown as Record<string, unknown>)[name]);
    t.clob.instrument(ClobClient, { name: '@polymarket/clob-client', version: '4.22.8' });
    t.clob.instrument(fakeClientClass(), { name: '@polymarket/clob-client', version: '6.0.0' });
    const after = Object.getOwnPropertyNames(ClobClient.prototype).map((name) => (ClobClient.prototype as unknown as Record<string, unknown>)[name]);
    expect(after).toEqual(before);
    await new ClobClient('https://clob.example').createAndPostOrder(LIMIT_ORDER);
    expect(await t.trades()).toEqual({});
    expect(t.lines).toHaveLength(1);
    expect(t.lines[0]).toMatch(/^warn @polymarket\/clob-client 4\.22\.8 is not a supported CLOB client \(supported: @polymarket\/clob-client 5\.x, @polymarket\/clob-client-v2 1\.x\)/);
  });

  it('leaves a class without the order methods alone', async () => {
    const t = setup();
    class NotTheClient {
      async postOrder(): Promise<string> {
        return 'mine';
      }
    }
    const original = NotTheClient.prototype.postOrder;
    t.clob.instrument(NotTheClient, V5);
    expect(NotTheClient.prototype.postOrder).toBe(original);
    expect(t.lines[0]).toMatch(/not a supported CLOB client.*: no postOrders, createAndPostOrder, createAndPostMarketOrder;/);
  });

  it('puts every method back when stopped', async () => {
    const t = setup();
    const ClobClient = fakeClientClass();
    const originals = Object.getOwnPropertyNames(ClobClient.prototype).map((name) => (ClobClient.prototype as unknown as Record<string, unknown>)[name]);
    t.clob.instrument(ClobClient, V5);
    t.clob.stop();
    const now = Object.getOwnPropertyNames(ClobClient.prototype).map((name) => (ClobClient.prototype as unknown as Record<string, unknown>)[name]);
    expect(now).toEqual(originals);
    await new ClobClient('https://clob.example').createAndPostOrder(LIMIT_ORDER);
    expect(await t.trades()).toEqual({});
  });

  it.each([
    ['@polymarket/clob-client', /^info @polymarket\/clob-client 5\.\d+\.\d+ instrumented/],
    ['@polymarket/clob-client-v2', /^info @polymarket\/clob-client-v2 1\.\d+\.\d+ instrumented/],
  ])('instruments the real %s module required after it started', async (name, line) => {
    // require(), through Node's module.require channel: vitest resolves an import() itself and
    // hands Node a file path, which never meets the resolve hook (the end-to-end tests cover import).
    const t = setup();
    const { ClobClient } = createRequire(import.meta.url)(name) as { ClobClient: { prototype: { postOrder: { name: string } } } };
    expect(t.lines.filter((l) => line.test(l))).toHaveLength(1);
    expect(ClobClient.prototype.postOrder.name).toBe('postOrder');
  });
});
