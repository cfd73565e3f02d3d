/**
 * Zero-code instrumentation of the official CLOB client, the client nearly every TypeScript
 * Polymarket bot places its orders through: `@polymarket/clob-client` 5.x and its successor
 * `@polymarket/clob-client-v2` 1.x (same class, order methods and response shapes; an options
 * object for a constructor, an ESM and a CommonJS build).
 *
 * How the plugin gets hold of the class the bot itself uses, without a line of bot code:
 * - `import` (ES module bots, TypeScript under tsx in ESM mode): a synchronous resolve hook
 *   (`module.registerHooks`, in-thread) resolves the package as usual, then hands the importer a
 *   small module instead that re-exports the package's entry and, as it is evaluated — before
 *   any importer's code runs — hands the `ClobClient` class to the plugin. Only a resolve hook:
 *   a load hook, even one that passes everything through, breaks CommonJS loading from ES
 *   modules in Node 22.15–22.20 and 24.0 ("request for './index.js' is not in cache").
 * - `require()` (CommonJS bots, require of the ESM 5.x, v2's CommonJS build, tsx compiling the
 *   client to CommonJS itself): Node's `module.require` TracingChannel, whose end event carries
 *   the exports of each `require()`.
 * Both reach the one class object a package's module defines, instrumented once.
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
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TradeOrder } from '../core/channels.js';
import { traceTradeExecution } from './probe.js';
import { clobCancelOutcome, clobOrderOutcome } from './outcome.js';
import { apiScope, inTrade, wantTradeScope } from './scopes.js';

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

/**
 * The module an `import` of a supported package gets while instrumentation runs: the package's own
 * entry re-exported (both supported packages have named exports only), and its ClobClient handed
 * over. A namespace import, so an entry without the class still links; a throw stays inside.
 */
function entryWrapper(entry: string, packageJson: string): string {
  const url = JSON.stringify(entry);
  const source =
    `export * from ${url};import * as m from ${url};` +
    `try{const h=globalThis[Symbol.for('polymarket-bot-monitoring.clob-client')];if(typeof h==='function')h(m.ClobClient,${JSON.stringify(packageJson)})}catch{}`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

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

/** The package.json of the package whose entry file this is: the nearest one up, at most a few levels. */
function packageJsonOf(file: string): string | undefined {
  let dir = path.dirname(file);
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** `import`, not `require()`: the conditions are an array or a Set, depending on the Node version. */
function isImport(context: unknown): boolean {
  const conditions = (context as { conditions?: unknown } | null)?.conditions;
  if (Array.isArray(conditions)) return conditions.includes('import') && !conditions.includes('require');
  if (conditions instanceof Set) return conditions.has('import') && !conditions.has('require');
  return false;
}

function isSupported(from: ClobClientPackage): boolean {
  return Object.hasOwn(SUPPORTED_CLOB_CLIENTS, from.name) && Number.parseInt(from.version, 10) === SUPPORTED_CLOB_CLIENTS[from.name];
}

/**
 * The package.json of the package a supported specifier resolved to, when its major version is
 * the supported one. Read once per entry: a version we do not support keeps its own module (a
 * default export, whatever else it may have changed), and is handed over without its class, so
 * the bot learns it in one line.
 */
const supportedEntries = new Map<string, string | null>();
function supportedPackageJson(specifier: string, entry: string, handoff: Handoff): string | undefined {
  let packageJson = supportedEntries.get(entry);
  if (packageJson === undefined) {
    const file = packageJsonOf(fileURLToPath(entry));
    const from = file === undefined ? undefined : readPackage(file);
    packageJson = from?.name === specifier && isSupported(from) ? file! : null;
    supportedEntries.set(entry, packageJson);
    if (packageJson === null && file !== undefined) handoff(undefined, file);
  }
  return packageJson ?? undefined;
}

let hooksRegistered = false;

/**
 * The resolve hook, registered once per process (registered hooks stay on the Node versions we
 * support): it redirects only while an instrumentation runs, and never throws into an import.
 */
function registerModuleHook(): boolean {
  if (hooksRegistered) return true;
  const register = (nodeModule as { registerHooks?: (hooks: object) => unknown }).registerHooks;
  if (typeof register !== 'function') return false;
  type Resolved = { url?: unknown; format?: unknown; shortCircuit?: boolean };
  register({
    resolve(specifier: string, context: unknown, nextResolve: (specifier: string, context: unknown) => Resolved): Resolved {
      const resolved = nextResolve(specifier, context);
      try {
        const handoff = (globalThis as Global)[HANDOFF];
        if (!Object.hasOwn(SUPPORTED_CLOB_CLIENTS, specifier) || typeof handoff !== 'function') return resolved;
        if (!isImport(context) || typeof resolved.url !== 'string' || !resolved.url.startsWith('file:')) return resolved;
        const packageJson = supportedPackageJson(specifier, resolved.url, handoff);
        return packageJson === undefined ? resolved : { url: entryWrapper(resolved.url, packageJson), format: 'module', shortCircuit: true };
      } catch {
        return resolved;
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
      // The client's answers are read strictly (a shape the table does not name is `other`).
      return traceTradeExecution(order, () => original.apply(this, args), { outcome: operation === 'cancel' ? clobCancelOutcome : clobOrderOutcome });
    };

  const instrument = (clobClient: unknown, from?: ClobClientPackage): void => {
    const name = from ? `${from.name} ${from.version}` : 'ClobClient';
    try {
      const proto = (typeof clobClient === 'function' ? (clobClient as { prototype?: unknown }).prototype : undefined) as Prototype | undefined;
      if (proto?.[INSTRUMENTED]) return;
      // A class handed over in code comes without a package: then its shape alone decides.
      const versionOk = !from || isSupported(from);
      const methods = [...Object.keys(PLACE), ...Object.keys(CANCEL), ...HTTP_METHODS];
      const missing = proto ? methods.filter((method) => typeof proto[method] !== 'function') : [];
      if (!versionOk || !proto || missing.length > 0) {
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
      wantTradeScope();
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
