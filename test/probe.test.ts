import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHANNELS, TRACING_CHANNELS } from '../src/core/channels.js';
import { reportApiCall, reportComponent, reportDailyPnl, traceTradeExecution, traceWalletScan } from '../src/ingest/probe.js';

const WALLET = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const ORDER = { market: '0xmarket', side: 'BUY', size: 10, price: 0.42 };

type Message = { wallet?: string; order?: unknown; result?: unknown; error?: unknown };
type EventName = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
const EVENT_NAMES: readonly EventName[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];

// Every test removes what it subscribed, so the "no subscriber" tests hold whatever the order.
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Records each event of a TracingChannel with a copy of the message as it was at that moment. */
function recordTracing(name: string) {
  const channel = diagnostics.tracingChannel<object, Message>(name);
  const events: { event: EventName; message: Message; same: Message }[] = [];
  const on = (event: EventName) => (message: Message) => events.push({ event, message: { ...message }, same: message });
  const handlers = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error'),
  };
  channel.subscribe(handlers);
  cleanups.push(() => channel.unsubscribe(handlers));
  return { events, names: () => events.map((e) => e.event), at: (event: EventName) => events.find((e) => e.event === event)!.message };
}

function recordPlain(name: string): unknown[] {
  const messages: unknown[] = [];
  const onMessage = (message: unknown) => void messages.push(message);
  diagnostics.subscribe(name, onMessage);
  cleanups.push(() => diagnostics.unsubscribe(name, onMessage));
  return messages;
}

/** Swaps the process's listeners for `event` (vitest's own included) for one of the test's. */
function captureProcessEvent(event: 'unhandledRejection'): unknown[][] {
  const seen: unknown[][] = [];
  const saved = process.listeners(event);
  process.removeAllListeners(event);
  const listener = (...args: unknown[]) => void seen.push(args);
  process.on(event, listener);
  cleanups.push(() => {
    process.removeListener(event, listener);
    for (const l of saved) process.on(event, l);
  });
  return seen;
}

/**
 * diagnostics_channel rethrows a subscriber's error on the next tick as an uncaught exception;
 * the capture callback takes it instead of vitest (which would fail the run).
 */
function captureUncaught(): unknown[] {
  const seen: unknown[] = [];
  process.setUncaughtExceptionCaptureCallback((error) => void seen.push(error));
  cleanups.push(() => process.setUncaughtExceptionCaptureCallback(null));
  return seen;
}

/** What `fn` threw (identity matters here, so not toThrow, which compares messages). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (thrown) {
    return thrown;
  }
  throw new Error('did not throw');
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const probes = [
  ['traceWalletScan', <T>(fn: () => T) => traceWalletScan(WALLET, fn), TRACING_CHANNELS.walletScan],
  ['traceTradeExecution', <T>(fn: () => T) => traceTradeExecution(ORDER, fn), TRACING_CHANNELS.tradeExecution],
] as const;

describe.each(probes)('%s without a subscriber', (_name, traced, channelName) => {
  it('has nobody listening on its channel (precondition of this block)', () => {
    expect(diagnostics.tracingChannel(channelName).hasSubscribers).toBe(false);
  });

  it('returns the sync value itself', () => {
    const value = { filled: true };
    const fn = vi.fn(() => value);
    expect(traced(fn)).toBe(value);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('rethrows the very error the function threw', () => {
    const error = new Error('order book gone');
    expect(
      thrownBy(() =>
        traced(() => {
          throw error;
        }),
      ),
    ).toBe(error);
  });

  it('returns the very promise the function returned, so it resolves to the same value', async () => {
    const value = { filled: true };
    const promise = Promise.resolve(value);
    const returned = traced(() => promise);
    // Same identity: the probe did not even wrap it.
    expect(returned).toBe(promise);
    await expect(returned).resolves.toBe(value);
  });

  it('returns a promise that rejects with the very error', async () => {
    const error = new Error('rpc timeout');
    await expect(traced(() => Promise.reject(error))).rejects.toBe(error);
  });
});

describe('report functions without a subscriber', () => {
  it.each([
    ['reportApiCall', CHANNELS.apiCall, () => reportApiCall({ api: 'clob', ok: true })],
    ['reportDailyPnl', CHANNELS.dailyPnl, () => reportDailyPnl({ pnlUsd: -5, startingBalanceUsd: 100 })],
    ['reportComponent', CHANNELS.component, () => reportComponent('main_bot', { heartbeat: true })],
  ])('%s publishes nothing', (_name, channelName, report) => {
    const channel = diagnostics.channel(channelName);
    const publish = vi.spyOn(channel, 'publish');
    cleanups.push(() => publish.mockRestore());
    expect(report()).toBeUndefined();
    expect(publish).not.toHaveBeenCalled();
  });
});

describe.each(probes)('%s with a subscriber', (_name, traced, channelName) => {
  it('publishes start then end, with the result on end, for a sync return', () => {
    const rec = recordTracing(channelName);
    const value = { status: 'filled' };
    traced(() => value);
    expect(rec.names()).toEqual(['start', 'end']);
    expect(rec.at('start')).not.toHaveProperty('result');
    expect(rec.at('end').result).toBe(value);
  });

  it('publishes start, error, end, with the error on the message, for a sync throw', () => {
    const rec = recordTracing(channelName);
    const error = new Error('insufficient balance');
    expect(
      thrownBy(() =>
        traced(() => {
          throw error;
        }),
      ),
    ).toBe(error);
    expect(rec.names()).toEqual(['start', 'error', 'end']);
    expect(rec.at('error').error).toBe(error);
  });

  it('publishes start, end, asyncStart, asyncEnd, with the result only from asyncStart on, for a resolved promise', async () => {
    const rec = recordTracing(channelName);
    const value = { status: 'filled' };
    await traced(async () => value);
    expect(rec.names()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    // `end` comes when the function returns its promise: no result yet.
    expect(rec.at('end')).not.toHaveProperty('result');
    expect(rec.at('asyncEnd').result).toBe(value);
  });

  it('publishes start, end, error, asyncStart, asyncEnd for a rejected promise', async () => {
    const rec = recordTracing(channelName);
    const error = new Error('rpc timeout');
    await expect(traced(() => Promise.reject(error))).rejects.toBe(error);
    expect(rec.names()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(rec.at('error').error).toBe(error);
    expect(rec.at('asyncEnd').error).toBe(error);
  });

  it('publishes one message object for the whole operation', async () => {
    const rec = recordTracing(channelName);
    await traced(async () => 1);
    expect(new Set(rec.events.map((e) => e.same)).size).toBe(1);
  });

  it('still returns the sync value itself', () => {
    recordTracing(channelName);
    const value = { filled: true };
    expect(traced(() => value)).toBe(value);
  });

  it('still rethrows the very error', () => {
    recordTracing(channelName);
    const error = new Error('nonce too low');
    expect(
      thrownBy(() =>
        traced(() => {
          throw error;
        }),
      ),
    ).toBe(error);
  });

  it('still resolves to the very value', async () => {
    recordTracing(channelName);
    const value = { filled: true };
    await expect(traced(async () => value)).resolves.toBe(value);
  });

  it('still rejects with the very error, a non-Error included', async () => {
    recordTracing(channelName);
    const reason = { code: 'RATE_LIMITED' };
    await expect(traced(() => Promise.reject(reason))).rejects.toBe(reason);
  });

  it('leaves a rejection the bot never handles unhandled, exactly once', async () => {
    recordTracing(channelName);
    const unhandled = captureProcessEvent('unhandledRejection');
    const error = new Error('nobody awaits this');
    const returned = traced(() => Promise.reject(error));
    await settle();
    await settle();
    // Once: the probe's own chain on the bot's promise handles that one; only the returned one is left.
    expect(unhandled).toHaveLength(1);
    expect(unhandled[0]![0]).toBe(error);
    expect(unhandled[0]![1]).toBe(returned);
  });

  it('does not let a throwing subscriber change what the bot gets back', async () => {
    const uncaught = captureUncaught();
    const boom = new Error('subscriber bug');
    const throwing = () => {
      throw boom;
    };
    const handlers = { start: throwing, end: throwing, asyncStart: throwing, asyncEnd: throwing, error: throwing };
    const channel = diagnostics.tracingChannel(channelName);
    channel.subscribe(handlers);
    cleanups.push(() => channel.unsubscribe(handlers));

    const value = { filled: true };
    const thrown = new Error('bot error');
    expect(traced(() => value)).toBe(value);
    expect(
      thrownBy(() =>
        traced(() => {
          throw thrown;
        }),
      ),
    ).toBe(thrown);
    await expect(traced(async () => value)).resolves.toBe(value);
    await expect(traced(() => Promise.reject(thrown))).rejects.toBe(thrown);
    await settle();
    // Node reports each subscriber error as an uncaught exception on the next tick, not to the bot.
    expect(uncaught.length).toBeGreaterThan(0);
    expect(uncaught.every((e) => e === boom)).toBe(true);
  });
});

describe('plain channel reports with a subscriber', () => {
  it('reportApiCall publishes the report object itself', () => {
    const messages = recordPlain(CHANNELS.apiCall);
    const report = { api: 'clob', ok: false, status: 503, durationMs: 120, attempt: 2 };
    reportApiCall(report);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toBe(report);
  });

  it('reportDailyPnl publishes the report object itself', () => {
    const messages = recordPlain(CHANNELS.dailyPnl);
    const report = { pnlUsd: -42.5, startingBalanceUsd: 1000 };
    reportDailyPnl(report);
    expect(messages).toEqual([report]);
    expect(messages[0]).toBe(report);
  });

  it('reportComponent publishes the component name with its state', () => {
    const messages = recordPlain(CHANNELS.component);
    const state = { circuitBreakerOpen: true, reason: 'three losses in a row', consecutiveLosses: 3 };
    reportComponent('trade_executor', state);
    expect(messages).toEqual([{ component: 'trade_executor', state }]);
    expect((messages[0] as { state: unknown }).state).toBe(state);
  });

  it('does not let a throwing subscriber reach the bot', async () => {
    const uncaught = captureUncaught();
    const boom = new Error('subscriber bug');
    const throwing = () => {
      throw boom;
    };
    diagnostics.subscribe(CHANNELS.apiCall, throwing);
    cleanups.push(() => diagnostics.unsubscribe(CHANNELS.apiCall, throwing));
    expect(() => reportApiCall({ api: 'clob', ok: true })).not.toThrow();
    await settle();
    expect(uncaught).toHaveLength(1);
    expect(uncaught[0]).toBe(boom);
  });
});

describe('channel names', () => {
  it.each(EVENT_NAMES)('the probe publishes %s on the documented tracing:<name>:<event> channel', async (event) => {
    // A bot may subscribe without the package: the names are the contract, not the probe's objects.
    const seen: string[] = [];
    const onMessage = () => void seen.push(event);
    const name = `tracing:${TRACING_CHANNELS.walletScan}:${event}`;
    diagnostics.subscribe(name, onMessage);
    cleanups.push(() => diagnostics.unsubscribe(name, onMessage));
    await traceWalletScan(WALLET, () => Promise.reject(new Error('x'))).catch(() => {});
    expect(seen).toEqual([event]);
  });
});
