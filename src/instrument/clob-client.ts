/**
 * Zero-code instrumentation of the official CLOB client, the client nearly every TypeScript
 * Polymarket bot places its orders through: `@polymarket/clob-client` 5.x and its successor
 * `@polymarket/clob-client-v2` 1.x (same class, order methods and response shapes; an options
 * object for a constructor, an ESM and a CommonJS build).
 *
 * How the plugin gets hold of the class the bot itself uses, without a line of bot code:
 * - ESM (the client is an ES module since 5.0), and CommonJS bots that `require()` it (Node's
 *   require of ESM): a synchronous module hook (`module.registerHooks`, in-thread, Node ≥ 22.15)
 *   appends one guarded line to the client's `dist/client.js` that hands its `ClobClient` class
 *   to the plugin as the module is evaluated, before any bot code can use it. Nothing else of the
 *   source changes; every other module passes through untouched.
 * - Loaders that compile the client themselves instead of going through Node's loader (tsx
 *   running a CommonJS TypeScript bot turns the client into CommonJS with esbuild): Node's
 *   `module.require` TracingChannel, whose end event carries the exports of each `require()`.
 * Both hand over the same class object, instrumented once.
 *
 * What is instrumented: the order methods on `ClobClient.prototype` run inside the probe's
 * traceTradeExecution, so each order call is a `trade.execute` span and a trade histogram
 * sample whose outcome is read from the client's response (telemetry/outcome.ts); the HTTP
 * methods every request goes through (`get`, `post`, `put`, `del`) run in an api scope, so API
 * health counts the client's requests as `api="clob"` wherever it points. What each
 * method returns, throws and does is unchanged: the wrappers call the original with the same
 * `this` and arguments, and monitoring's own reads are guarded.
 */
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TradeOrder } from '../channels.js';
import { traceTradeExecution } from '../probe.js';
import { apiScope, inTrade } from '../telemetry/scopes.js';

/** Each supported package, and the major version whose methods and response shapes the outcome table is written for. */
export const SUPPORTED_CLOB_CLIENTS: Readonly<Record<string, number>> = {
  '@polymarket/clob-client': 5,
  '@polymarket/clob-client-v2': 1,
};

/** Methods that place orders, and what each one's arguments say about the order. */
const PLACE: Readonly<Record<string, (args: readonly unknown[]) => TradeOrder>> = {
  postOrder: ([order]) => signedOrder(order),
  postOrders: ([batch]) => batchOrder(batch),
  createAndPostOrder: ([userOrder]) => userOrderOf(userOrder, true),
  createAndPostMarketOrder: ([userOrder]) => userOrderOf(userOrder, false),
};
const CANCEL: Readonly<Record<string, (args: readonly unknown[]) => TradeOrder>> = {
  cancelOrder: () => ({ operation: 'cancel' }),
  cancelOrders: () => ({ operation: 'cancel' }),
  cancelAll: () => ({ operation: 'cancel' }),
  cancelMarketOrders: ([payload]) => ({ operation: 'cancel', ...market(field(payload, 'asset_id') ?? field(payload, 'market')) }),
};
/** Every request of the client goes through one of these (v2 has no `put`). */
const HTTP_METHODS = ['get', 'post', 'del'] as const;
const OPTIONAL_HTTP_METHODS = ['put'] as const;

const HANDOFF = Symbol.for('polymarket-bot-monitoring.clob-client');
const INSTRUMENTED = Symbol.for('polymarket-bot-monitoring.clob-client.instrumented');
/** What the hook appends to the client's class module: hands the class over, and cannot throw. */
const appendix = (packageJson: string): string =>
  // `ClobClient` is the class's module-scope binding in every supported build (ESM and CommonJS).
  `\n;try{const h=globalThis[Symbol.for('polymarket-bot-monitoring.clob-client')];` +
  `if(typeof h==='function'&&typeof ClobClient==='function')h(ClobClient,${JSON.stringify(packageJson)})}catch{}\n`;

type Handoff = (clobClient: unknown, packageJson?: string) => void;
type Global = typeof globalThis & { [HANDOFF]?: Handoff };
type Method = (this: unknown, ...args: unknown[]) => unknown;
type Prototype = Record<string | symbol, unknown>;

/** The api label the client's requests count under. */
export const CLOB_API = 'clob';

export interface ClobInstrumentationDeps {
  info(message: string): void;
  warn(message: string): void;
}

/** The package a ClobClient class came from, as its package.json says; unknown when handed over in code. */
export interface ClobClientPackage {
  readonly name: string;
  readonly version: string;
}

export interface ClobInstrumentation {
  /** Hands over a ClobClient class loaded some other way (a bundle, a start after the import). */
  instrument(clobClient: unknown, from?: ClobClientPackage): void;
  /** Puts every wrapped method back and stops watching for the client. */
  stop(): void;
}

// -- reading the bot's arguments (all guarded by the caller: these may throw on odd input) -------

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function market(token: unknown): Pick<TradeOrder, 'market'> {
  return typeof token === 'string' || typeof token === 'number' ? { market: String(token) } : {};
}

function finite(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A signed order: side 0 buy / 1 sell, amounts in 1e6 units (USDC for the maker of a buy). */
function signedOrder(order: unknown): TradeOrder {
  const side = field(order, 'side');
  const buy = side === 0 || side === 'BUY';
  const sell = side === 1 || side === 'SELL';
  const maker = finite(field(order, 'makerAmount'));
  const taker = finite(field(order, 'takerAmount'));
  const shares = buy ? taker : sell ? maker : undefined;
  const usdc = buy ? maker : sell ? taker : undefined;
  return {
    ...market(field(order, 'tokenId')),
    ...(buy ? { side: 'buy' } : sell ? { side: 'sell' } : {}),
    ...(shares !== undefined && shares > 0 ? { size: shares / 1e6 } : {}),
    ...(shares !== undefined && usdc !== undefined && shares > 0 ? { price: usdc / shares } : {}),
  };
}

/** `[{ order, orderType }]`: one operation for the batch (one request, one latency). */
function batchOrder(batch: unknown): TradeOrder {
  if (!Array.isArray(batch) || batch.length === 0) return {};
  const orders = batch.slice(0, 64).map((entry) => signedOrder(field(entry, 'order')));
  const same = <K extends 'side' | 'market'>(key: K): TradeOrder[K] | undefined =>
    orders.every((o) => o[key] !== undefined && o[key] === orders[0]![key]) ? orders[0]![key] : undefined;
  const side = same('side');
  const token = same('market');
  return { ...(side !== undefined ? { side } : {}), ...(token !== undefined ? { market: token } : {}) };
}

/** A user order `{ tokenID, price, size, side: 'BUY' }`, or a market order `{ tokenID, amount, side }`. */
function userOrderOf(order: unknown, limit: boolean): TradeOrder {
  const side = field(order, 'side');
  const price = finite(field(order, 'price'));
  const size = limit ? finite(field(order, 'size')) : undefined;
  return {
    ...market(field(order, 'tokenID')),
    ...(typeof side === 'string' ? { side } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(price !== undefined ? { price } : {}),
  };
}

// -- finding the client ------------------------------------------------------------------------

function readPackage(packageJson: string): ClobClientPackage | undefined {
  try {
    const { name, version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: unknown; version?: unknown };
    return typeof name === 'string' && typeof version === 'string' ? { name, version } : undefined;
  } catch {
    return undefined;
  }
}

/** The class module of either package, ESM or CommonJS build, as a file URL (pnpm keeps that tail). */
const CLIENT_MODULE = /\/@polymarket\/clob-client(?:-v2)?\/dist\/client\.c?js$/;

let hooksRegistered = false;

/**
 * The module hook, registered once per process (hooks cannot all be removed on the Node versions
 * we support): with no instrumentation running, the appended line finds no handoff and does
 * nothing.
 */
function registerModuleHook(): boolean {
  if (hooksRegistered) return true;
  const register = (nodeModule as { registerHooks?: (hooks: object) => unknown }).registerHooks;
  if (typeof register !== 'function') return false;
  register({
    load(url: string, context: unknown, nextLoad: (url: string, context: unknown) => { format?: string; source?: unknown }) {
      const result = nextLoad(url, context);
      if (!CLIENT_MODULE.test(url) || result.source === undefined || result.source === null) return result;
      try {
        const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
        const packageJson = path.join(path.dirname(fileURLToPath(url)), '..', 'package.json');
        return { ...result, source: source + appendix(packageJson) };
      } catch {
        return result;
      }
    },
  });
  hooksRegistered = true;
  return true;
}

/**
 * Hands a ClobClient class to the running plugin, for a bot whose bundler inlined the client (so
 * no module of it is ever loaded): its shape decides whether it is instrumented. False when no
 * instrumentation is running (monitoring off, or MONITORING_INSTRUMENT_CLOB=false). Never throws.
 */
export function handOverClobClient(clobClient: unknown): boolean {
  try {
    const handoff = (globalThis as Global)[HANDOFF];
    if (typeof handoff !== 'function') return false;
    handoff(clobClient);
    return true;
  } catch {
    return false;
  }
}

export function instrumentClobClient(deps: ClobInstrumentationDeps): ClobInstrumentation {
  const restores: (() => void)[] = [];
  let refused = false;

  const replace = (proto: Prototype, name: string, wrap: (original: Method) => Method): void => {
    const original = proto[name] as Method;
    const wrapped = wrap(original);
    Object.defineProperty(wrapped, 'name', { value: original.name });
    Object.defineProperty(wrapped, 'length', { value: original.length });
    proto[name] = wrapped;
    restores.push(() => {
      if (proto[name] === wrapped) proto[name] = original;
    });
  };

  const traded = (orderOf: (args: readonly unknown[]) => TradeOrder, operation: 'place' | 'cancel') => (original: Method): Method =>
    function (this: unknown, ...args: unknown[]): unknown {
      // Inside a trade already (the bot's own traceTradeExecution, or createAndPostOrder calling
      // postOrder): part of that one.
      if (inTrade()) return original.apply(this, args);
      let order: TradeOrder;
      try {
        order = orderOf(args);
      } catch {
        order = {};
      }
      if (operation === 'cancel') order.operation = 'cancel';
      return traceTradeExecution(order, () => original.apply(this, args));
    };

  const instrument = (clobClient: unknown, from?: ClobClientPackage): void => {
    const name = from ? `${from.name} ${from.version}` : 'ClobClient';
    try {
      const proto = (typeof clobClient === 'function' ? (clobClient as { prototype?: unknown }).prototype : undefined) as Prototype | undefined;
      if (!proto || proto[INSTRUMENTED]) return;
      const methods = [...Object.keys(PLACE), ...Object.keys(CANCEL), ...HTTP_METHODS];
      const missing = methods.filter((method) => typeof proto[method] !== 'function');
      // A class handed over in code comes without a package: then its shape alone decides.
      const supportedMajor = from ? SUPPORTED_CLOB_CLIENTS[from.name] : undefined;
      const versionOk = !from || (supportedMajor !== undefined && Number.parseInt(from.version, 10) === supportedMajor);
      if (!versionOk || missing.length > 0) {
        if (!refused) {
          refused = true;
          const supported = Object.entries(SUPPORTED_CLOB_CLIENTS)
            .map(([pkg, major]) => `${pkg} ${major}.x`)
            .join(', ');
          deps.warn(
            `${name} is not a supported CLOB client (supported: ${supported})` +
              `${missing.length > 0 ? `: no ${missing.slice(0, 3).join(', ')}` : ''}; its orders are not instrumented (the probe still works)`,
          );
        }
        return;
      }
      proto[INSTRUMENTED] = true;
      restores.push(() => delete proto[INSTRUMENTED]);
      for (const [method, orderOf] of Object.entries(PLACE)) replace(proto, method, traded(orderOf, 'place'));
      for (const [method, orderOf] of Object.entries(CANCEL)) replace(proto, method, traded(orderOf, 'cancel'));
      for (const method of [...HTTP_METHODS, ...OPTIONAL_HTTP_METHODS]) {
        if (typeof proto[method] !== 'function') continue;
        replace(proto, method, (original) =>
          function (this: unknown, ...args: unknown[]): unknown {
            return apiScope.run(CLOB_API, () => original.apply(this, args));
          },
        );
      }
      deps.info(`${name} instrumented: orders, cancels and its requests are monitored`);
    } catch (error) {
      deps.warn(`${name} could not be instrumented: ${String(error)}`);
    }
  };

  const global = globalThis as Global;
  global[HANDOFF] = (clobClient, packageJson) =>
    instrument(clobClient, packageJson === undefined ? undefined : (readPackage(packageJson) ?? { name: 'ClobClient', version: 'unknown' }));
  const hooked = registerModuleHook();
  if (!hooked) deps.warn('the CLOB client is not instrumented for ES module bots: module.registerHooks needs Node.js 22.15 or later');

  // require() of a client compiled by someone else's loader: the exports arrive at the end event.
  const onRequire = (message: unknown): void => {
    try {
      const m = message as { id?: unknown; parentFilename?: unknown; result?: { ClobClient?: unknown } };
      if (typeof m.id !== 'string' || !Object.hasOwn(SUPPORTED_CLOB_CLIENTS, m.id)) return;
      const clobClient = m.result?.ClobClient;
      if (typeof clobClient !== 'function' || (clobClient.prototype as Prototype)?.[INSTRUMENTED]) return;
      let from: ClobClientPackage | undefined;
      try {
        const parent = typeof m.parentFilename === 'string' ? m.parentFilename : path.join(process.cwd(), 'index.js');
        // No `exports` map hides package.json in either package: it resolves like any file.
        from = readPackage(path.join(path.dirname(createRequire(parent).resolve(m.id)), '..', 'package.json'));
      } catch {
        // Resolved some other way.
      }
      instrument(clobClient, from ?? { name: m.id, version: 'unknown' });
    } catch {
      // Never into the bot's require().
    }
  };
  const requireEnd = 'tracing:module.require:end';
  diagnostics.subscribe(requireEnd, onRequire);

  return {
    instrument,
    stop() {
      diagnostics.unsubscribe(requireEnd, onRequire);
      if (global[HANDOFF]) delete global[HANDOFF];
      for (const restore of restores.splice(0).reverse()) restore();
    },
  };
}
