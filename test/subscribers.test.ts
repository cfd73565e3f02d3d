import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUTCOMES } from '../src/core/model.js';
import { reportApiCall, reportComponent, reportDailyPnl, traceTradeExecution, traceWalletScan } from '../src/ingest/probe.js';
import { REDACTED, clearRegisteredSecrets, registerSecrets } from '../src/core/redact.js';
import { MAX_APIS } from '../src/state/api-health.js';
import { BotState } from '../src/state/bot-state.js';
import { METRICS } from '../src/metrics/catalog.js';
import { parseApiHosts } from '../src/ingest/http-clients.js';
import { MAX_SERIES_PER_INSTRUMENT, createInstruments } from '../src/metrics/instruments.js';
import { createKeptMeter } from '../src/metrics/kept.js';
import { subscribe, type SubscriberDeps, type TradeEvent } from '../src/ingest/subscribers.js';
import { TestReader } from './support/metrics.js';

// Hardhat's well-known development key and account: public, never funded on a real chain.
const PRIVATE_KEY = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const WALLET = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const TELEGRAM_TOKEN = '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ';
const API_SECRET = 'dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldCBidXQgbG9va3MgbGlrZSBvbmU=';
// A market's condition id: public, and shaped exactly like a private key.
const CONDITION_ID = '0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1';

const SCANS = METRICS.walletScanDuration.name;
const TRADES = METRICS.tradeExecutionDuration.name;
const API_REQUESTS = METRICS.apiRequests.name;


type Point = { attributes: Attributes; value: unknown };

const cleanups: (() => unknown)[] = [];
let current: { errors: [string, unknown][] } | undefined;

afterEach(async () => {
  // Subscribers must never need their error path in normal operation.
  const errors = current?.errors ?? [];
  current = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  clearRegisteredSecrets();
  expect(errors).toEqual([]);
});

function setup(overrides: Partial<SubscriberDeps> = {}) {
  const clock = { wall: 1_750_000_000_000, mono: 5_000 };
  const advance = (ms: number) => {
    clock.wall += ms;
    clock.mono += ms;
  };
  // The plugin's instruments as it keeps them (metrics/kept.ts), read as its readers read them.
  const kept = createKeptMeter({ scope: { name: 'test' }, cardinalityLimit: MAX_SERIES_PER_INSTRUMENT });
  const reader = new TestReader({ metricProducers: [kept.producer()] });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const { counters, histograms } = createInstruments(kept.meter);
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const state = new BotState(() => clock.wall);
  const errors: [string, unknown][] = [];
  const trades: TradeEvent[] = [];
  const unsubscribe = subscribe({
    scanDuration: histograms.walletScanDuration,
    tradeDuration: histograms.tradeExecutionDuration,
    apiRequests: counters.apiRequests,
    state,
    tracer: tracerProvider.getTracer('test'),
    apiHosts: new Map(),
    onTrade: (event) => trades.push(event),
    onError: (where, error) => errors.push([where, error]),
    now: () => clock.wall,
    monotonic: () => clock.mono,
    ...overrides,
  });
  current = { errors };
  cleanups.push(unsubscribe, () => meterProvider.shutdown(), () => tracerProvider.shutdown());

  const collect = async (): Promise<Map<string, Point[]>> => {
    const { resourceMetrics, errors: collectErrors } = await reader.collect();
    expect(collectErrors).toEqual([]);
    const metrics: MetricData[] = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    return new Map(metrics.map((m) => [m.descriptor.name, m.dataPoints as Point[]]));
  };
  /** Histogram points keyed by their label values joined with '/', e.g. 'buy/success'. */
  const histogram = async (name: string, labels: string[]) => {
    const out: Record<string, { count: number; sum: number }> = {};
    for (const p of (await collect()).get(name) ?? []) {
      const { count, sum } = p.value as { count: number; sum: number };
      out[labels.map((l) => p.attributes[l]).join('/')] = { count, sum: sum ?? 0 };
    }
    return out;
  };
  /** monitoring_api_requests_total keyed 'api/outcome'. */
  const apiCounts = async () => {
    const out: Record<string, number> = {};
    for (const p of (await collect()).get(API_REQUESTS) ?? []) out[`${p.attributes.api}/${p.attributes.outcome}`] = p.value as number;
    return out;
  };
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const span = (name: string): ReadableSpan => {
    const found = spans().filter((s) => s.name === name);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  return { clock, advance, state, errors, trades, collect, histogram, apiCounts, spans, span, unsubscribe, tracerProvider };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs a probe call to completion whatever it does, for tests that only look at its traces. */
async function run(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch {
    // The outcome is what the test inspects.
  }
}

describe('wallet scans', () => {
  it('records the scan duration in seconds, measured on the monotonic clock', async () => {
    const t = setup();
    traceWalletScan(WALLET, () => t.advance(250));
    expect(await t.histogram(SCANS, ['outcome'])).toEqual({ success: { count: 1, sum: 0.25 } });
  });

  it('records an async scan when its promise settles, not when it returns', async () => {
    const t = setup();
    const scan = traceWalletScan(WALLET, async () => {
      await settle();
      t.advance(400);
    });
    expect(await t.histogram(SCANS, ['outcome'])).toEqual({});
    await scan;
    expect(await t.histogram(SCANS, ['outcome'])).toEqual({ success: { count: 1, sum: 0.4 } });
  });

  it.each([
    ['a plain return', () => ({ trades: 3 }), 'success'],
    ['status ok', () => ({ status: 'ok' }), 'success'],
    ['outcome filled', () => ({ outcome: 'FILLED' }), 'filled'],
    ['status rejected', () => ({ status: 'rejected' }), 'rejected'],
    ['status skipped', () => ({ status: 'skipped' }), 'skipped'],
    ['status failed', () => ({ status: 'failed' }), 'failed'],
    ['an unknown status word', () => ({ status: 'exploded-gently' }), 'other'],
    // A scan's result is the bot's data: only a status word speaks for the scan.
    ['a non-string status', () => ({ status: 404 }), 'success'],
    ['an array of the wallet’s trades', () => [{ outcome: 'Yes', status: 'FAILED' }], 'success'],
    [
      'a throw',
      () => {
        throw new Error('rpc down');
      },
      'error',
    ],
    ['a rejection', () => Promise.reject(new Error('rpc down')), 'error'],
    ['a resolved status rejected', async () => ({ status: 'rejected' }), 'rejected'],
  ] as [string, () => unknown, string][])('labels %s as outcome=%s', async (_why, fn, outcome) => {
    const t = setup();
    await run(() => traceWalletScan(WALLET, fn));
    expect(Object.keys(await t.histogram(SCANS, ['outcome']))).toEqual([outcome]);
  });

  it('stamps a successful scan with the wall clock for the staleness gauge', async () => {
    const t = setup();
    t.advance(1_000);
    traceWalletScan(WALLET, () => 'ok');
    expect(t.state.lastSuccessfulScanAt).toBe(t.clock.wall);
  });

  it('does not stamp a failed scan', async () => {
    const t = setup();
    await run(() =>
      traceWalletScan(WALLET, () => {
        throw new Error('x');
      }),
    );
    await run(() => traceWalletScan(WALLET, () => ({ status: 'failed' })));
    expect(t.state.lastSuccessfulScanAt).toBeNull();
  });

  it('creates a wallet.scan span that shows only the last 6 characters of the wallet', () => {
    const t = setup();
    traceWalletScan(WALLET, () => 'ok');
    const span = t.span('wallet.scan');
    expect(span.attributes).toEqual({ 'polymarket.wallet': `…${WALLET.slice(-6)}`, 'polymarket.outcome': 'success' });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks a scan that throws as an error with an exception event', async () => {
    const t = setup();
    await run(() =>
      traceWalletScan(WALLET, () => {
        throw new TypeError('cannot read balance');
      }),
    );
    const span = t.span('wallet.scan');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TypeError: cannot read balance' });
    expect(span.attributes['polymarket.outcome']).toBe('error');
    expect(span.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'TypeError: cannot read balance']]);
  });

  it('marks a scan that rejects as an error with an exception event', async () => {
    const t = setup();
    await run(() => traceWalletScan(WALLET, () => Promise.reject(new Error('gateway timeout'))));
    const span = t.span('wallet.scan');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Error: gateway timeout' });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('keeps only the first line of an error, so no stack or payload dump reaches the span', async () => {
    const t = setup();
    await run(() => traceWalletScan(WALLET, () => Promise.reject(new Error('bad response\n{"huge":"body"}'))));
    expect(t.span('wallet.scan').status.message).toBe('Error: bad response');
  });

  it('marks a non-success outcome other than skipped as an error without an exception event', () => {
    const t = setup();
    traceWalletScan(WALLET, () => ({ status: 'rejected' }));
    const span = t.span('wallet.scan');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'rejected' });
    expect(span.events).toEqual([]);
  });

  it('leaves a skipped scan unmarked', () => {
    const t = setup();
    traceWalletScan(WALLET, () => ({ status: 'skipped' }));
    expect(t.span('wallet.scan').status.code).toBe(SpanStatusCode.UNSET);
  });
});

describe('trade executions', () => {
  const ORDER = { market: CONDITION_ID, side: 'BUY', size: 12.5, price: 0.43, sourceWallet: WALLET };

  it('records the execution duration by side and outcome', async () => {
    const t = setup();
    traceTradeExecution(ORDER, () => {
      t.advance(80);
      return { status: 'filled' };
    });
    expect(await t.histogram(TRADES, ['operation', 'side', 'outcome'])).toEqual({ 'place/buy/filled': { count: 1, sum: 0.08 } });
  });

  it.each([
    ['BUY', 'buy'],
    ['sell', 'sell'],
    [' Sell ', 'sell'],
    ['hold', 'other'],
    [undefined, 'other'],
    [1, 'other'],
  ])('labels side %j as %s', async (side, label) => {
    const t = setup();
    traceTradeExecution({ ...ORDER, side: side as string }, () => ({ status: 'filled' }));
    expect(Object.keys(await t.histogram(TRADES, ['side', 'outcome']))).toEqual([`${label}/filled`]);
  });

  it('labels a trade that rejects as outcome error', async () => {
    const t = setup();
    await run(() => traceTradeExecution(ORDER, () => Promise.reject(new Error('not enough balance'))));
    expect(Object.keys(await t.histogram(TRADES, ['side', 'outcome']))).toEqual(['buy/error']);
  });

  it('labels a trade the exchange rejected as outcome rejected', async () => {
    const t = setup();
    await traceTradeExecution({ ...ORDER, side: 'sell' }, async () => ({ status: 'rejected' }));
    expect(Object.keys(await t.histogram(TRADES, ['side', 'outcome']))).toEqual(['sell/rejected']);
  });

  it('creates a trade.execute span with the order', () => {
    const t = setup();
    traceTradeExecution(ORDER, () => ({ status: 'filled' }));
    expect(t.span('trade.execute').attributes).toEqual({
      'polymarket.operation': 'place',
      'polymarket.side': 'buy',
      'polymarket.market_id': CONDITION_ID,
      'polymarket.size': 12.5,
      'polymarket.price': 0.43,
      'polymarket.source_wallet': `…${WALLET.slice(-6)}`,
      'polymarket.outcome': 'filled',
    });
  });

  it('leaves out order fields of the wrong type rather than guessing', () => {
    const t = setup();
    traceTradeExecution({ market: 42, size: '12', price: Number.NaN } as never, () => 'ok');
    expect(t.span('trade.execute').attributes).toEqual({ 'polymarket.operation': 'place', 'polymarket.side': 'other', 'polymarket.outcome': 'success' });
  });

  it('survives a trade with no order at all', async () => {
    const t = setup();
    traceTradeExecution(undefined as never, () => 'ok');
    expect(Object.keys(await t.histogram(TRADES, ['side', 'outcome']))).toEqual(['other/success']);
  });

  it('marks a trade that throws as an error with an exception event', async () => {
    const t = setup();
    await run(() =>
      traceTradeExecution(ORDER, () => {
        throw new Error('order rejected: min size');
      }),
    );
    const span = t.span('trade.execute');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Error: order rejected: min size' });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('tells onTrade about each execution, with the redacted error when it failed', async () => {
    const t = setup();
    traceTradeExecution(ORDER, () => {
      t.advance(30);
      return { status: 'filled' };
    });
    await run(() => traceTradeExecution(ORDER, () => Promise.reject(new Error(`bad signer 0x${PRIVATE_KEY}`))));
    // Each with the ids of its own (sampled) span, for the notice about it.
    const [filled, failed] = t.spans().filter((s) => s.name === 'trade.execute').map((s) => ({ traceId: s.spanContext().traceId, spanId: s.spanContext().spanId }));
    expect(t.trades).toEqual([
      { order: ORDER, operation: 'place', side: 'buy', outcome: 'filled', seconds: 0.03, trace: filled },
      { order: ORDER, operation: 'place', side: 'buy', outcome: 'error', seconds: 0, error: `Error: bad signer ${REDACTED}`, trace: failed },
    ]);
  });
});

describe('nesting and api calls in spans', () => {
  const ORDER = { market: CONDITION_ID, side: 'buy', size: 1, price: 0.5 };

  it('makes a trade inside a scan a child of the scan', () => {
    const t = setup();
    traceWalletScan(WALLET, () => traceTradeExecution(ORDER, () => ({ status: 'filled' })));
    const scan = t.span('wallet.scan');
    const trade = t.span('trade.execute');
    expect(trade.parentSpanContext?.spanId).toBe(scan.spanContext().spanId);
    expect(trade.spanContext().traceId).toBe(scan.spanContext().traceId);
  });

  it('makes a trade started after an await inside an async scan a child of the scan', async () => {
    const t = setup();
    await traceWalletScan(WALLET, async () => {
      await settle();
      return traceTradeExecution(ORDER, async () => ({ status: 'filled' }));
    });
    expect(t.span('trade.execute').parentSpanContext?.spanId).toBe(t.span('wallet.scan').spanContext().spanId);
  });

  it('starts a scan outside any operation as a root span', () => {
    const t = setup();
    traceWalletScan(WALLET, () => 'ok');
    expect(t.span('wallet.scan').parentSpanContext).toBeUndefined();
  });

  it('adds an api.call event to the active scan for an api call it makes', () => {
    const t = setup();
    traceWalletScan(WALLET, () => reportApiCall({ api: 'data_api', ok: true, status: 200, durationMs: 35, attempt: 1 }));
    expect(t.span('wallet.scan').events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'api.call',
        {
          'polymarket.api': 'data_api',
          'polymarket.api.ok': true,
          'http.response.status_code': 200,
          'polymarket.api.duration_ms': 35,
          'polymarket.api.attempt': 1,
        },
      ],
    ]);
  });

  it('adds a retry event for attempt 2', () => {
    const t = setup();
    traceWalletScan(WALLET, () => {
      reportApiCall({ api: 'clob', ok: false, status: 503, attempt: 1 });
      reportApiCall({ api: 'clob', ok: true, status: 200, attempt: 2 });
    });
    expect(t.span('wallet.scan').events.map((e) => [e.name, e.attributes?.['polymarket.api.attempt']])).toEqual([
      ['api.call', 1],
      ['retry', 2],
    ]);
  });

  it('adds the event to the trade, not the scan, for a call made inside a trade inside a scan', () => {
    const t = setup();
    traceWalletScan(WALLET, () => traceTradeExecution(ORDER, () => reportApiCall({ api: 'clob', ok: true })));
    expect(t.span('trade.execute').events.map((e) => e.name)).toEqual(['api.call']);
    expect(t.span('wallet.scan').events).toEqual([]);
  });

  it('keeps the api events of two concurrent async scans apart', async () => {
    const t = setup();
    const scan = (wallet: string, api: string) =>
      traceWalletScan(wallet, async () => {
        await settle();
        reportApiCall({ api, ok: true });
      });
    await Promise.all([scan(`0x${'a'.repeat(40)}`, 'gamma'), scan(`0x${'b'.repeat(40)}`, 'clob')]);
    const byWallet = Object.fromEntries(t.spans().map((s) => [s.attributes['polymarket.wallet'], s.events.map((e) => e.attributes?.['polymarket.api'])]));
    expect(byWallet).toEqual({ '…aaaaaa': ['gamma'], '…bbbbbb': ['clob'] });
  });

  it('adds no event anywhere for an api call outside any operation', () => {
    const t = setup();
    reportApiCall({ api: 'clob', ok: true });
    traceWalletScan(WALLET, () => 'ok');
    expect(t.span('wallet.scan').events).toEqual([]);
  });
});

describe('api call counting', () => {
  it('counts a call by api and outcome, starting the other outcome at 0 on first sight', async () => {
    const t = setup();
    reportApiCall({ api: 'clob', ok: false, status: 503 });
    expect(await t.apiCounts()).toEqual({ 'clob/success': 0, 'clob/failure': 1 });
  });

  it('adds up calls per api', async () => {
    const t = setup();
    reportApiCall({ api: 'clob', ok: true });
    reportApiCall({ api: 'clob', ok: true });
    reportApiCall({ api: 'gamma', ok: false });
    expect(await t.apiCounts()).toEqual({ 'clob/success': 2, 'clob/failure': 0, 'gamma/success': 0, 'gamma/failure': 1 });
  });

  it('normalises the api name into a label', async () => {
    const t = setup();
    reportApiCall({ api: 'Data-API', ok: true });
    expect(Object.keys(await t.apiCounts())).toContain('data_api/success');
  });

  it('feeds the api health the gauges read', () => {
    const t = setup();
    reportApiCall({ api: 'clob', ok: true });
    reportApiCall({ api: 'clob', ok: false });
    reportApiCall({ api: 'clob', ok: false });
    expect(t.state.apis.successRatio('clob')).toBeCloseTo(1 / 3);
    expect(t.state.apis.consecutiveFailures('clob')).toBe(2);
  });

  it.each([
    ['no ok flag', { api: 'clob' }],
    ['a string ok flag', { api: 'clob', ok: 'true' }],
    ['null', null],
    ['a string', 'clob ok'],
  ])('ignores a report with %s', async (_why, report) => {
    const t = setup();
    reportApiCall(report as never);
    expect(await t.apiCounts()).toEqual({});
  });
});

describe('state reports', () => {
  it('turns a daily pnl report into the loss ratio', () => {
    const t = setup();
    reportDailyPnl({ pnlUsd: -150, startingBalanceUsd: 1000 });
    expect(t.state.pnl).toMatchObject({ pnlUsd: -150, lossRatio: 0.15, reportedAt: t.clock.wall });
  });

  it('passes component reports to the bot state', () => {
    const t = setup();
    reportComponent('wallet_monitor', { walletsWatched: 12 });
    reportComponent('trade_executor', { circuitBreakerOpen: true, reason: 'daily loss limit' });
    reportComponent('main_bot', { heartbeat: true });
    expect(t.state.walletMonitor?.walletsWatched).toBe(12);
    expect(t.state.tradeExecutor).toMatchObject({ circuitBreakerOpen: true, reason: 'daily loss limit' });
    expect(t.state.mainBot?.lastHeartbeatAt).toBe(t.clock.wall);
  });

  it('ignores a component report that is not an object', () => {
    const t = setup();
    reportComponent('main_bot', null as never);
    expect(t.state.mainBot).toBeNull();
  });
});

describe('shedding and disabled tracing', () => {
  it('creates no span while tracing is not allowed, but still records metrics', async () => {
    const t = setup({ tracingAllowed: () => false });
    traceWalletScan(WALLET, () => reportApiCall({ api: 'clob', ok: true }));
    traceTradeExecution({ side: 'buy' }, () => ({ status: 'filled' }));
    expect(t.spans()).toEqual([]);
    expect(Object.keys(await t.histogram(SCANS, ['outcome']))).toEqual(['success']);
    expect(Object.keys(await t.histogram(TRADES, ['side', 'outcome']))).toEqual(['buy/filled']);
    expect(await t.apiCounts()).toEqual({ 'clob/success': 1, 'clob/failure': 0 });
  });

  it('asks whether tracing is allowed at the start of each operation', () => {
    let allowed = true;
    const t = setup({ tracingAllowed: () => allowed });
    traceWalletScan(`0x${'a'.repeat(40)}`, () => 'ok');
    allowed = false;
    traceWalletScan(`0x${'b'.repeat(40)}`, () => 'ok');
    expect(t.spans().map((s) => s.attributes['polymarket.wallet'])).toEqual(['…aaaaaa']);
  });

  it('creates no span at all without a tracer, even with a global tracer provider registered', async () => {
    const t = setup({ tracer: undefined });
    // Registered so that a subscriber reaching for the global API instead of deps would be caught.
    trace.setGlobalTracerProvider(t.tracerProvider);
    cleanups.push(() => trace.disable());
    await traceWalletScan(WALLET, async () => {
      reportApiCall({ api: 'clob', ok: true, attempt: 2 });
      return traceTradeExecution({ side: 'sell' }, () => ({ status: 'filled' }));
    });
    expect(t.spans()).toEqual([]);
    expect(Object.keys(await t.histogram(SCANS, ['outcome']))).toEqual(['filled']);
    expect(Object.keys(await t.histogram(TRADES, ['side', 'outcome']))).toEqual(['sell/filled']);
  });
});

describe('lifecycle', () => {
  it('records nothing for an operation that never settles, and keeps working', async () => {
    const t = setup();
    for (let i = 0; i < 1000; i++) expect(() => traceWalletScan(WALLET, () => new Promise(() => {}))).not.toThrow();
    await settle();
    expect(await t.histogram(SCANS, ['outcome'])).toEqual({});
    expect(t.spans()).toEqual([]);
    traceWalletScan(WALLET, () => 'ok');
    expect(await t.histogram(SCANS, ['outcome'])).toEqual({ success: { count: 1, sum: 0 } });
  });

  it('stops recording everything once unsubscribed', async () => {
    const t = setup();
    t.unsubscribe();
    await traceWalletScan(WALLET, async () => reportApiCall({ api: 'clob', ok: true }));
    traceTradeExecution({ side: 'buy' }, () => ({ status: 'filled' }));
    reportDailyPnl({ pnlUsd: -1, startingBalanceUsd: 10 });
    reportComponent('main_bot', { heartbeat: true });
    const metrics = await t.collect();
    expect(metrics.get(SCANS) ?? []).toEqual([]);
    expect(metrics.get(TRADES) ?? []).toEqual([]);
    expect(metrics.get(API_REQUESTS) ?? []).toEqual([]);
    expect(t.spans()).toEqual([]);
    expect([t.state.pnl, t.state.mainBot, t.state.lastSuccessfulScanAt]).toEqual([null, null, null]);
    expect(t.trades).toEqual([]);
  });

  it('can be unsubscribed twice', () => {
    const t = setup();
    t.unsubscribe();
    expect(() => t.unsubscribe()).not.toThrow();
  });
});

describe('cardinality', () => {
  it('keeps 10 000 distinct wallets to one scan series per outcome', async () => {
    const t = setup();
    const results = [{ status: 'ok' }, { status: 'failed' }, { status: 'skipped' }, { status: 'rejected' }, { status: 'invalid' }, { status: '???' }];
    for (let i = 0; i < 10_000; i++) {
      const wallet = `0x${i.toString(16).padStart(40, '0')}`;
      await run(() =>
        traceWalletScan(wallet, () => {
          if (i % 7 === 6) throw new Error(`scan of ${wallet} failed`);
          return results[i % 7];
        }),
      );
    }
    const points = (await t.collect()).get(SCANS) ?? [];
    expect(points.length).toBeLessThanOrEqual(OUTCOMES.length);
    expect(points.map((p) => p.attributes.outcome).sort()).toEqual(['error', 'failed', 'invalid', 'other', 'rejected', 'skipped', 'success']);
    expect(points.every((p) => Object.keys(p.attributes).join() === 'outcome')).toBe(true);
  });

  it(`keeps 10 000 distinct api names to ${MAX_APIS} api labels plus other`, async () => {
    const t = setup({ tracer: undefined });
    for (let i = 0; i < 10_000; i++) reportApiCall({ api: `api_${i}`, ok: i % 2 === 0 });
    const points = (await t.collect()).get(API_REQUESTS) ?? [];
    const apis = new Set(points.map((p) => p.attributes.api));
    expect(apis.size).toBeLessThanOrEqual(MAX_APIS + 1);
    expect(apis).toContain('other');
    // Folded, not dropped.
    expect(points.reduce((sum, p) => sum + (p.value as number), 0)).toBe(10_000);
  });

  it("the plugin's kept meter caps a counter at MAX_SERIES_PER_INSTRUMENT series, the excess folded into one", async () => {
    // The safety net telemetry.ts sets under the bounded label sets, reproduced here.
    const kept = createKeptMeter({ scope: { name: 'polymarket-bot-monitoring' }, cardinalityLimit: MAX_SERIES_PER_INSTRUMENT });
    const reader = new TestReader({ metricProducers: [kept.producer()] });
    const provider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => provider.shutdown());
    const capped = kept.meter.createCounter('capped_total');
    const other = provider.getMeter('someone-else').createCounter('uncapped_total');
    for (let i = 0; i < 10_000; i++) {
      capped.add(1, { label: `v${i}` });
      other.add(1, { label: `v${i}` });
    }
    const { resourceMetrics } = await reader.collect();
    const series = Object.fromEntries(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m.dataPoints as Point[]]));
    expect(series.capped_total!.length).toBe(MAX_SERIES_PER_INSTRUMENT);
    expect(series.capped_total!.reduce((sum, p) => sum + (p.value as number), 0)).toBe(10_000);
    // Only the plugin's instruments are capped this tightly.
    expect(series.uncapped_total!.length).toBeGreaterThan(MAX_SERIES_PER_INSTRUMENT);
  });
});

describe('secrets', () => {
  const SECRETS = { privateKey: PRIVATE_KEY, apiSecret: API_SECRET, telegramToken: TELEGRAM_TOKEN };
  const leaked = (texts: string[]) =>
    Object.entries(SECRETS).flatMap(([name, secret]) =>
      // Any 12-character piece counts: a partial key is a leak too. `…` + 6 characters is not.
      texts.filter((text) => Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12)).some((piece) => text.includes(piece))).map((text) => `${name} in ${text}`),
    );

  function everyString(spans: ReadableSpan[], metrics: Map<string, Point[]>): string[] {
    const out: string[] = [];
    for (const s of spans) {
      out.push(s.name, s.status.message ?? '', ...Object.entries(s.attributes).flat().map(String));
      for (const e of s.events) out.push(e.name, ...Object.entries(e.attributes ?? {}).flat().map(String));
    }
    for (const points of metrics.values()) for (const p of points) out.push(...Object.entries(p.attributes).flat().map(String));
    return out;
  }

  it('keeps a private key, an API secret and a bot token out of every span and label', async () => {
    // As the preload does for secret-named environment variables: an API secret has no shape.
    registerSecrets([API_SECRET]);
    const t = setup();
    const prose = `signing with 0x${PRIVATE_KEY} and ${API_SECRET} failed; alert bot ${TELEGRAM_TOKEN}`;
    const order = {
      market: API_SECRET,
      side: `0x${PRIVATE_KEY}`,
      size: TELEGRAM_TOKEN as unknown as number,
      price: API_SECRET as unknown as number,
      sourceWallet: `0x${PRIVATE_KEY}`,
      privateKey: PRIVATE_KEY,
      apiSecret: API_SECRET,
      telegramToken: TELEGRAM_TOKEN,
    };
    for (const wallet of [`0x${PRIVATE_KEY}`, API_SECRET, TELEGRAM_TOKEN, prose]) {
      await run(() =>
        traceWalletScan(wallet, () => {
          reportApiCall({ api: PRIVATE_KEY, ok: false, status: 401 });
          reportApiCall({ api: TELEGRAM_TOKEN, ok: false });
          throw new Error(prose);
        }),
      );
      await run(() => traceWalletScan(wallet, () => Promise.reject(new Error(`private_key=${PRIVATE_KEY} secret=${API_SECRET} token=${TELEGRAM_TOKEN}`))));
      await run(() => traceWalletScan(wallet, () => ({ status: prose })));
    }
    traceTradeExecution(order, () => ({ status: 'filled' }));
    await run(() =>
      traceTradeExecution(order, () => {
        throw new Error(prose);
      }),
    );
    await run(() => traceTradeExecution(order, () => Promise.reject(new Error(prose))));

    const texts = everyString(t.spans(), await t.collect());
    expect(t.spans().length).toBe(15);
    expect(leaked(texts)).toEqual([]);
    expect(leaked(t.trades.map((e) => e.error ?? ''))).toEqual([]);
  });

  it('masks a registered secret used as a market id', () => {
    registerSecrets([API_SECRET]);
    const t = setup();
    traceTradeExecution({ market: API_SECRET }, () => 'ok');
    expect(t.span('trade.execute').attributes['polymarket.market_id']).toBe(REDACTED);
  });

  it('keeps a condition id readable as a market id, though it is shaped like a key', () => {
    const t = setup();
    traceTradeExecution({ market: CONDITION_ID }, () => 'ok');
    expect(t.span('trade.execute').attributes['polymarket.market_id']).toBe(CONDITION_ID);
  });

  // BUG (src/telemetry/subscribers.ts:114, errorText): the first line is cut to 300 characters
  // before redactText runs, so a key straddling the cut is no longer 64 hex digits and escapes
  // LONG_HEX: here 62 of its 64 digits reach the span status, the exception event and onTrade
  // (8 unknown bits). Redact first, then truncate.
  it('masks a private key that straddles the 300-character cut of an error message', async () => {
    const t = setup();
    const message = `${'x'.repeat(228)} 0x${PRIVATE_KEY}`; // after "Error: ", 62 hex digits fit before the cut
    await run(() => traceWalletScan(WALLET, () => Promise.reject(new Error(message))));
    expect(leaked([t.span('wallet.scan').status.message ?? ''])).toEqual([]);
  });

  // BUG (src/telemetry/subscribers.ts:227): the market id is cut to 120 characters before
  // maskKnownSecrets runs, so a registered secret straddling the cut is no longer matched and
  // its first 40 of 60 characters reach the polymarket.market_id attribute. Mask first, then truncate.
  it('masks a registered secret that straddles the 120-character cut of a market id', () => {
    registerSecrets([API_SECRET]);
    const t = setup();
    traceTradeExecution({ market: `${'m'.repeat(80)}${API_SECRET}` }, () => 'ok');
    expect(leaked([String(t.span('trade.execute').attributes['polymarket.market_id'])])).toEqual([]);
  });
});

describe('fetch calls seen through undici', () => {
  let server: http.Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    // Answers with the status its path names: /503 → 503.
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(Number(req.url?.slice(1)) || 200, { 'content-type': 'text/plain' });
      res.end('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const apiHosts = parseApiHosts('127.0.0.1=clob').hosts;

  /** Fetches and reads the body: undici's events trail the response, the body comes after them. */
  async function get(host: string, path: string): Promise<number> {
    const response = await fetch(`http://${host}:${port}${path}`);
    await response.text();
    return response.status;
  }

  it.each([
    ['/200', 200, 'success'],
    ['/503', 503, 'failure'],
    ['/429', 429, 'failure'],
    // About the bot's own request, not the API's health.
    ['/404', 404, 'success'],
  ])('counts a fetch answered at %s as %s', async (path, status, outcome) => {
    const t = setup({ apiHosts });
    expect(await get('127.0.0.1', path)).toBe(status);
    const other = outcome === 'success' ? 'failure' : 'success';
    expect(await t.apiCounts()).toEqual({ [`clob/${outcome}`]: 1, [`clob/${other}`]: 0 });
  });

  it('counts a refused connection as a failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const t = setup({ apiHosts });
    await expect(fetch(`http://127.0.0.1:${closedPort}/`)).rejects.toThrow();
    await settle();
    expect(await t.apiCounts()).toEqual({ 'clob/success': 0, 'clob/failure': 1 });
  });

  it('feeds fetch outcomes into the api health', async () => {
    const t = setup({ apiHosts });
    await get('127.0.0.1', '/503');
    await get('127.0.0.1', '/503');
    expect(t.state.apis.consecutiveFailures('clob')).toBe(2);
  });

  it('ignores a host that is not mapped to an api', async () => {
    const t = setup({ apiHosts });
    const before = hits.length;
    expect(await get('localhost', '/503')).toBe(503);
    // The request did reach the server: only the mapping kept it from being counted.
    expect(hits.length).toBe(before + 1);
    expect(await t.apiCounts()).toEqual({});
  });

  it('ignores fetch calls to an api once the probe has reported that api itself', async () => {
    const t = setup({ apiHosts });
    reportApiCall({ api: 'clob', ok: true });
    await get('127.0.0.1', '/503');
    await get('127.0.0.1', '/200');
    expect(await t.apiCounts()).toEqual({ 'clob/success': 1, 'clob/failure': 0 });
  });

  it('still counts fetch calls to other apis after the probe reported one', async () => {
    const t = setup({ apiHosts: parseApiHosts('127.0.0.1=gamma').hosts });
    reportApiCall({ api: 'clob', ok: true });
    await get('127.0.0.1', '/200');
    expect(await t.apiCounts()).toMatchObject({ 'gamma/success': 1 });
  });

  it('counts nothing once unsubscribed', async () => {
    const t = setup({ apiHosts });
    t.unsubscribe();
    await get('127.0.0.1', '/200');
    expect(await t.apiCounts()).toEqual({});
  });
});
