import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NotifyMode, TradeNotifyMode } from '../../src/core/config.js';
import type { Draft } from '../../src/alerts/notifier.js';
import {
  DIGEST_ERROR_CHARS,
  FAILED_TRADE_DIGEST_WINDOW_MS,
  MAX_TRADE_NOTICES_PER_SECOND,
  createTradeNotices,
} from '../../src/alerts/trade-notices.js';
import type { TradeEvent } from '../../src/ingest/subscribers.js';

const MARKET = `0x${'ab'.repeat(32)}`;

function trade(outcome: TradeEvent['outcome'], error?: string): TradeEvent {
  return {
    order: { market: MARKET, side: 'BUY', size: 5, price: 0.5 },
    operation: 'place',
    side: 'buy',
    outcome,
    seconds: 0.012,
    ...(error === undefined ? {} : { error }),
  };
}

interface Sent {
  draft: Draft;
  mode: NotifyMode;
}

let sent: Sent[];
let suppressed: number;
let tripped: boolean;
let clock: number;

function notices(mode: TradeNotifyMode = 'on') {
  return createTradeNotices({
    notify: (draft, m) => void sent.push({ draft, mode: m }),
    mode,
    shed: () => tripped,
    onSuppressed: () => void suppressed++,
    onBufferDrop: () => {},
    onError: (error) => {
      throw error;
    },
    monotonic: () => clock,
  });
}

/** The deferred handler runs on the next turn of the loop (a faked setImmediate). */
function nextTurn(): void {
  vi.advanceTimersByTime(1);
  clock += 1;
}

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  suppressed = 0;
  tripped = false;
  clock = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('failed-trade notices: the first at once, then one digest per window', () => {
  it('tells the first failure at once and sums up the rest of the window in one digest', () => {
    const n = notices();
    n.push(trade('rejected', 'Error: not enough balance'));
    nextTurn();
    expect(sent.map((s) => s.draft.title)).toEqual(['Copied trade rejected']);
    for (let i = 0; i < 30; i++) n.push(trade('rejected', 'Error: not enough balance'));
    for (let i = 0; i < 12; i++) n.push(trade('error', 'Error: socket hang up'));
    n.push(trade('failed', 'Error: market closed'));
    nextTurn();
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(FAILED_TRADE_DIGEST_WINDOW_MS);
    expect(sent).toHaveLength(2);
    const digest = sent[1]!.draft;
    expect(digest).toMatchObject({ kind: 'event', rule: 'PolymarketBotTradeFailed', severity: 'warning', component: 'trade_executor' });
    expect(digest.title).toBe(`43 more copied trades failed in the last ${FAILED_TRADE_DIGEST_WINDOW_MS / 1000} s`);
    expect(digest.description).toBe(
      ['by outcome: rejected 30, error 12, failed 1', 'most frequent errors:', '30\u00D7 Error: not enough balance', '12\u00D7 Error: socket hang up', '1\u00D7 Error: market closed'].join('\n'),
    );
  });

  it('quotes the three commonest errors, cut short, and counts the other texts', () => {
    const n = notices();
    n.push(trade('error', 'first'));
    nextTurn();
    const long = `Error: ${'x'.repeat(500)}`;
    for (let i = 0; i < 4; i++) n.push(trade('error', long));
    for (const text of ['a', 'a', 'b', 'c', 'd']) n.push(trade('error', text));
    nextTurn();
    vi.advanceTimersByTime(FAILED_TRADE_DIGEST_WINDOW_MS);
    const lines = sent[1]!.draft.description.split('\n');
    expect(lines[2]).toBe(`4\u00D7 ${long.slice(0, DIGEST_ERROR_CHARS - 1)}\u2026`);
    expect(lines[3]).toBe('2\u00D7 a');
    expect(lines.at(-1)).toBe('and 2 other error texts');
  });

  it('sends a digest per window while failures go on, and after a quiet window tells the next failure at once', () => {
    const n = notices();
    n.push(trade('rejected'));
    nextTurn();
    for (let window = 0; window < 3; window++) {
      n.push(trade('rejected'));
      nextTurn();
      vi.advanceTimersByTime(FAILED_TRADE_DIGEST_WINDOW_MS);
    }
    expect(sent.map((s) => s.draft.title)).toEqual([
      'Copied trade rejected',
      ...Array.from({ length: 3 }, () => `1 more copied trade failed in the last ${FAILED_TRADE_DIGEST_WINDOW_MS / 1000} s`),
    ]);
    vi.advanceTimersByTime(FAILED_TRADE_DIGEST_WINDOW_MS); // quiet: the outage is over
    expect(sent).toHaveLength(4);
    n.push(trade('invalid'));
    nextTurn();
    expect(sent.at(-1)!.draft.title).toBe('Copied trade invalid');
  });

  it('sends no digest after a window with only the first failure', () => {
    const n = notices();
    n.push(trade('rejected'));
    nextTurn();
    vi.advanceTimersByTime(10 * FAILED_TRADE_DIGEST_WINDOW_MS);
    expect(sent).toHaveLength(1);
  });

  it('sends the pending digest on flush (shutdown), not later again', () => {
    const n = notices();
    n.push(trade('rejected'));
    n.push(trade('rejected'));
    n.flush();
    expect(sent.map((s) => s.draft.title)).toEqual(['Copied trade rejected', expect.stringMatching(/^1 more copied trade failed/)]);
    vi.advanceTimersByTime(2 * FAILED_TRADE_DIGEST_WINDOW_MS);
    expect(sent).toHaveLength(2);
  });

  it('keeps no timer that holds the process open', () => {
    vi.useRealTimers();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const n = notices();
    n.push(trade('rejected'));
    n.flush();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });
});

describe('ALERT_ON_TRADE', () => {
  it.each([
    ['on', 'on', 'on'],
    ['silent', 'silent', 'silent'],
    ['off', 'off', 'off'],
    ['failures', 'off', 'on'],
  ] as const)('%s: a fill goes out as %s, a failure as %s', (mode, fill, failure) => {
    const n = notices(mode);
    n.push(trade('filled'));
    n.push(trade('rejected'));
    nextTurn();
    expect(sent.map((s) => [s.draft.rule, s.mode])).toEqual([
      ['PolymarketBotTradeExecuted', fill],
      ['PolymarketBotTradeFailed', failure],
    ]);
  });
});

describe('routine notices', () => {
  it(`stops at ${MAX_TRADE_NOTICES_PER_SECOND} a second and counts the rest as suppressed, failures aside`, () => {
    const n = notices();
    for (let i = 0; i < MAX_TRADE_NOTICES_PER_SECOND + 5; i++) n.push(trade('filled'));
    n.push(trade('rejected'));
    nextTurn();
    expect(sent.filter((s) => s.draft.rule === 'PolymarketBotTradeExecuted')).toHaveLength(MAX_TRADE_NOTICES_PER_SECOND);
    expect(sent.filter((s) => s.draft.rule === 'PolymarketBotTradeFailed')).toHaveLength(1);
    expect(suppressed).toBe(5);
    clock += 1_000;
    n.push(trade('filled'));
    nextTurn();
    expect(sent.filter((s) => s.draft.rule === 'PolymarketBotTradeExecuted')).toHaveLength(MAX_TRADE_NOTICES_PER_SECOND + 1);
  });

  it('sheds every per-trade notice while the monitoring breaker is tripped', () => {
    const n = notices();
    tripped = true;
    n.push(trade('filled'));
    n.push(trade('rejected'));
    nextTurn();
    expect(sent).toEqual([]);
  });
});
