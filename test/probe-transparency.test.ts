/**
 * The probe is transparent (issue 15, finding 7): with the plugin's subscribers listening, no
 * return value, thrown value, getter or Proxy can make traceTradeExecution / traceWalletScan
 * throw what the bot's function did not, hand back anything but what the function returned, run
 * the function more than once, or drive a thenable that is not a plain promise. Before the fix a
 * result whose `then` getter threw, or a revoked Proxy, made the probe throw into the bot, and a
 * lazy thenable the bot never awaited was run by monitoring.
 */
import fc from 'fast-check';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceTradeExecution, traceWalletScan } from '../src/ingest/probe.js';
import { BotState } from '../src/state/bot-state.js';
import { createInstruments } from '../src/metrics/instruments.js';
import { subscribe, type TradeEvent } from '../src/ingest/subscribers.js';
import { TestReader } from './support/metrics.js';

const errors: [string, unknown][] = [];
const trades: TradeEvent[] = [];
let stop: () => void = () => {};

beforeAll(() => {
  const meterProvider = new MeterProvider({ readers: [new TestReader()] });
  const { counters, histograms } = createInstruments(meterProvider.getMeter('test'));
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })] });
  stop = subscribe({
    scanDuration: histograms.walletScanDuration,
    tradeDuration: histograms.tradeExecutionDuration,
    apiRequests: counters.apiRequests,
    state: new BotState(Date.now),
    tracer: tracerProvider.getTracer('test'),
    apiHosts: new Map(),
    onTrade: (event) => trades.push(event),
    // The plugin's own handler: String() of whatever was thrown, as monitor.ts does.
    onError: (where, error) => errors.push([where, String(error)]),
    now: Date.now,
    monotonic: () => performance.now(),
  });
});
afterAll(() => stop());

const ORDER = { market: '0x' + 'ab'.repeat(32), side: 'BUY', size: 1, price: 0.5 };

/** Values a bot's function may return or throw, each built fresh (Proxies get revoked, getters count). */
type Hostile = { name: string; make: () => { value: unknown; touched: () => number } };

function counting<T extends object>(target: T, trap: 'throw' | 'count'): { value: T; touched: () => number } {
  let touched = 0;
  const handler: ProxyHandler<T> = {};
  for (const key of ['get', 'has', 'getPrototypeOf', 'ownKeys', 'getOwnPropertyDescriptor', 'apply'] as const) {
    (handler as Record<string, unknown>)[key] = () => {
      touched++;
      if (trap === 'throw') throw new Error(`trap ${key}`);
      return undefined;
    };
  }
  return { value: new Proxy(target, handler), touched: () => touched };
}

const HOSTILE: Hostile[] = [
  {
    name: 'an object whose then getter throws',
    make: () => ({ value: Object.defineProperty({}, 'then', { get() { throw new Error('then getter'); } }), touched: () => 0 }),
  },
  {
    name: 'an object whose every getter throws',
    make: () => ({
      value: new Proxy({}, { get() { throw new Error('get'); } }),
      touched: () => 0,
    }),
  },
  {
    name: 'a revoked Proxy',
    make: () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return { value: proxy, touched: () => 0 };
    },
  },
  { name: 'a Proxy with throwing traps', make: () => counting({}, 'throw') },
  {
    name: 'a lazy thenable (runs its work only when then is called)',
    make: () => {
      let ran = 0;
      return { value: { then: (resolve: (v: unknown) => void) => { ran++; resolve('done'); } }, touched: () => ran };
    },
  },
  { name: 'a frozen object', make: () => ({ value: Object.freeze({ status: 'matched', success: true }), touched: () => 0 }) },
  {
    name: 'a null-prototype object with a throwing toString',
    make: () => ({ value: Object.assign(Object.create(null), { toString: () => { throw new Error('toString'); } }), touched: () => 0 }),
  },
  { name: 'a function', make: () => ({ value: () => 'f', touched: () => 0 }) },
  { name: 'a symbol', make: () => ({ value: Symbol('s'), touched: () => 0 }) },
  { name: 'a bigint', make: () => ({ value: 10n ** 30n, touched: () => 0 }) },
  { name: 'undefined', make: () => ({ value: undefined, touched: () => 0 }) },
  { name: 'a 1 MB string', make: () => ({ value: 'x'.repeat(1 << 20), touched: () => 0 }) },
];

const probes = [
  ['traceTradeExecution', <T>(fn: () => T): T => traceTradeExecution(ORDER, fn)],
  ['traceWalletScan', <T>(fn: () => T): T => traceWalletScan('0x' + 'cd'.repeat(20), fn)],
] as const;

/** Lets every queued event and microtask run, so a subscriber's deferred failure would show. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe.each(probes)('%s is transparent', (_, probe) => {
  it('returns exactly what the function returned, calls it once and throws nothing of its own, whatever the value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HOSTILE), async (hostile) => {
        const { value, touched } = hostile.make();
        let calls = 0;
        const returned = probe(() => {
          calls++;
          return value;
        });
        expect(Object.is(returned, value), hostile.name).toBe(true);
        expect(calls).toBe(1);
        await settle();
        // A thenable the bot never awaited was not driven by monitoring.
        if (hostile.name.startsWith('a lazy thenable')) expect(touched(), 'monitoring ran the thenable').toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('rethrows exactly what the function threw, whatever it is', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HOSTILE), async (hostile) => {
        const { value } = hostile.make();
        let caught: unknown = 'nothing';
        try {
          probe(() => {
            throw value;
          });
        } catch (error) {
          caught = error;
        }
        expect(Object.is(caught, value), hostile.name).toBe(true);
        await settle();
      }),
      { numRuns: 60 },
    );
  });

  it('settles a plain promise with the very value or rejection of the original', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HOSTILE), fc.boolean(), async (hostile, reject) => {
        const { value } = hostile.make();
        const returned = probe(() => (reject ? Promise.reject(value) : Promise.resolve(0).then(() => [value])));
        const settled = await (returned as Promise<unknown[]>).then(
          (v) => ({ ok: true, v: v[0] }),
          (e: unknown) => ({ ok: false, v: e }),
        );
        expect(settled.ok).toBe(!reject);
        expect(Object.is(settled.v, value)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('hands back a promise subclass untouched (its own methods kept)', () => {
    class Cancelable<T> extends Promise<T> {
      cancel(): string {
        return 'cancelled';
      }
    }
    const original = new Cancelable<number>((resolve) => resolve(1));
    const returned = probe(() => original);
    expect(returned).toBe(original);
    expect(returned.cancel()).toBe('cancelled');
  });
});

describe('the subscribers behind the probe', () => {
  it('never let a hostile value become an uncaught exception', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (const hostile of HOSTILE) {
        for (const [, probe] of probes) {
          probe(() => hostile.make().value);
          try {
            probe(() => {
              throw hostile.make().value;
            });
          } catch {
            // The bot's own throw, handed back.
          }
        }
      }
      await settle();
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('counts an unreadable result as other, never as a success', async () => {
    trades.length = 0;
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    traceTradeExecution(ORDER, () => proxy);
    await settle();
    expect(trades.at(-1)?.outcome).toBe('other');
  });
});

describe('an error message of megabytes', () => {
  it('is read no further than its first 1,024 characters: its first line, cut at 300, is the error shown', async () => {
    trades.length = 0;
    const huge = `boom ${'x'.repeat(400)}\n${'\n'.repeat(10_000_000)}`;
    try {
      traceTradeExecution(ORDER, () => {
        throw new Error(huge);
      });
    } catch {
      // the bot's own error
    }
    await settle();
    expect(trades.at(-1)?.error).toBe(`Error: boom ${'x'.repeat(400)}`.slice(0, 300));
  });

  it('keeps a one-line message longer than the scanned head bounded', async () => {
    trades.length = 0;
    try {
      traceTradeExecution(ORDER, () => {
        throw new Error('y'.repeat(60_000));
      });
    } catch {
      // the bot's own error
    }
    await settle();
    expect(trades.at(-1)?.error?.length).toBeLessThanOrEqual(300);
  });
});
