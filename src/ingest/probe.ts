/**
 * The bot-side probe: `import { traceWalletScan } from 'polymarket-bot-monitoring/probe'`.
 *
 * It depends on nothing but node:diagnostics_channel (and node:util's type checks). Channels are created once, here, and every
 * publish is guarded by `hasSubscribers`: a bot started without the plugin pays one property
 * read per call and allocates nothing. With the plugin, its subscribers turn the messages into
 * spans and metrics. Values, thrown errors and rejections pass through unchanged.
 */
import diagnostics from 'node:diagnostics_channel';
import { types } from 'node:util';
import {
  CHANNELS,
  TRACING_CHANNELS,
  type ApiCallReport,
  type ComponentStates,
  type DailyPnlReport,
  type ReportedComponent,
  type TradeExecutionContext,
  type TradeOrder,
  type WalletScanContext,
} from '../core/channels.js';

export type * from '../core/channels.js';
export { CHANNELS, TRACING_CHANNELS } from '../core/channels.js';

const walletScan = diagnostics.tracingChannel(TRACING_CHANNELS.walletScan);
const tradeExecution = diagnostics.tracingChannel(TRACING_CHANNELS.tradeExecution);
const apiCall = diagnostics.channel(CHANNELS.apiCall);
const dailyPnl = diagnostics.channel(CHANNELS.dailyPnl);
const component = diagnostics.channel(CHANNELS.component);

type Traced = diagnostics.TracingChannel<object, { result?: unknown; error?: unknown }>;

// Taken once, before any bot code can replace it: the probe observes a promise with the engine's
// own `then`, never with one a bot or a library put on the prototype or the object.
const promiseThen = Promise.prototype.then;

/**
 * A promise the engine made with the plain Promise constructor (an async function's, a client's
 * `await`able): the only results the probe observes beyond the call. `isPromise` reads no
 * property and runs no trap, so a Proxy, a getter or a revoked Proxy cannot throw here; a
 * subclass (a cancelable promise with methods of its own) is returned untouched, as is every
 * other thenable, whose `then` monitoring never calls.
 */
function isPlainPromise(value: unknown): value is Promise<unknown> {
  return types.isPromise(value) && Object.getPrototypeOf(value) === Promise.prototype;
}

/**
 * Like TracingChannel's traceSync/tracePromise, for a function that may be either: sync results
 * and throws end at `end`; a plain promise ends at `asyncEnd`, and the caller gets a promise that
 * settles exactly as the original did (same value, same rejection, still unhandled if the bot
 * leaves it unhandled). Any other result — a thenable, a Proxy, an object whose getters throw —
 * is handed back as it is and its trace ends at return: the probe reads nothing of it, and never
 * throws what `fn` did not.
 */
function trace<T, C extends { result?: unknown; error?: unknown }>(channel: Traced, context: C, fn: () => T): T {
  const { start, end, asyncStart, asyncEnd, error } = channel;
  return start.runStores(context, () => {
    let result: T;
    try {
      result = fn();
    } catch (thrown) {
      context.error = thrown;
      error.publish(context);
      end.publish(context);
      throw thrown;
    }
    if (!isPlainPromise(result)) {
      context.result = result;
      end.publish(context);
      return result;
    }
    end.publish(context);
    try {
      return promiseThen.call(
        result,
        (value) => {
          context.result = value;
          asyncStart.publish(context);
          asyncEnd.publish(context);
          return value;
        },
        (rejection: unknown) => {
          context.error = rejection;
          error.publish(context);
          asyncStart.publish(context);
          asyncEnd.publish(context);
          throw rejection;
        },
      ) as T;
    } catch {
      // A promise whose own `constructor` was replaced can make `then` throw (species lookup):
      // the bot gets its promise back, and the trace ends without a result.
      asyncStart.publish(context);
      asyncEnd.publish(context);
      return result;
    }
  });
}

/** Runs one wallet scan (sync or async) as a traced operation. */
export function traceWalletScan<T>(wallet: string, fn: () => T): T {
  if (!walletScan.hasSubscribers) return fn();
  return trace(walletScan as Traced, { wallet } as WalletScanContext, fn);
}

export interface TradeExecutionOptions<T> {
  /**
   * Reads the outcome from a result shape of the bot's own: returns an outcome word (`filled`,
   * `resting`, `delayed`, `unfilled`, `success`, `skipped`, `rejected`, `invalid`, `failed`,
   * `error`). Without it the plugin reads the CLOB client's response shapes and a `status` or
   * `outcome` word (the README's outcome table).
   */
  outcome?: (result: Awaited<T>) => string;
}

/**
 * Runs one trade execution (sync or async) as a traced operation. The outcome is read from the
 * result (the README's outcome table: a CLOB client response, a `status` or `outcome` word, or
 * `options.outcome`); a throw or rejection is `rejected` or `failed` by the HTTP status it carries,
 * else `error`.
 */
export function traceTradeExecution<T>(order: TradeOrder, fn: () => T, options?: TradeExecutionOptions<T>): T {
  if (!tradeExecution.hasSubscribers) return fn();
  const context: TradeExecutionContext = { order };
  if (options?.outcome) context.mapOutcome = options.outcome as (result: unknown) => string;
  return trace(tradeExecution as Traced, context, fn);
}

export function reportApiCall(report: ApiCallReport): void {
  if (apiCall.hasSubscribers) apiCall.publish(report);
}

export function reportDailyPnl(report: DailyPnlReport): void {
  if (dailyPnl.hasSubscribers) dailyPnl.publish(report);
}

export function reportComponent<C extends ReportedComponent>(name: C, state: ComponentStates[C]): void {
  if (component.hasSubscribers) component.publish({ component: name, state });
}
