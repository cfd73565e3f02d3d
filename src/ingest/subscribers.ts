/**
 * Channel subscribers: turn the probe's messages (and fetch calls seen through undici's own
 * diagnostics channels) into spans, histograms and the bot state the gauges read.
 *
 * They run on the bot's hot path, synchronously, inside its call: no I/O, no throwing, and what
 * can wait until collection time does (measurements go through a MeasurementBatch). Per-operation
 * state rides on the channel message itself, so an operation that never settles leaks nothing.
 */
import diagnostics from 'node:diagnostics_channel';
import { SpanStatusCode, context as otelContext, trace, type Attributes, type Counter, type Histogram, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import {
  CHANNELS,
  TRACING_CHANNELS,
  type ApiCallReport,
  type ComponentReport,
  type DailyPnlReport,
  type TradeExecutionContext,
  type TradeOrder,
  type WalletScanContext,
} from '../core/channels.js';
import { API_OUTCOMES, OUTCOMES, SIDES, TRADE_OPERATIONS, isFailure, type Outcome, type Side, type TradeOperation } from '../core/model.js';
import { maskIdentifier, redactAndTruncate, shortAddress } from '../core/redact.js';
import { apiLabel } from '../state/api-health.js';
import { subscribeHttpClients, type ApiHostMap } from './http-clients.js';
import type { MeasurementBatch, Sink } from '../metrics/batch.js';
import { METRICS } from '../metrics/catalog.js';
import { sampledSpan, type Exemplars } from '../metrics/exemplars.js';
import type { BotState } from '../state/bot-state.js';
import { mappedOutcome, outcomeOf, outcomeOfError, scanOutcomeOf } from './outcome.js';
import { apiScope, operationScope, whenTradeScopeWanted } from './scopes.js';

export interface TradeEvent {
  readonly order: TradeOrder;
  readonly operation: TradeOperation;
  readonly side: Side;
  readonly outcome: Outcome;
  readonly seconds: number;
  /** Redacted, one line; only when the execution threw or rejected. */
  readonly error?: string;
  /** The trade's sampled span, when one was recorded: notices about it lead to its trace. */
  readonly trace?: { readonly traceId: string; readonly spanId: string };
}

export interface SubscriberDeps {
  readonly scanDuration: Histogram;
  readonly tradeDuration: Histogram;
  readonly apiRequests: Counter;
  readonly state: BotState;
  /** Undefined when no span exporter is configured: then no span is ever created. */
  readonly tracer?: Tracer;
  /** Asked at the start of each operation: false while the monitoring breaker sheds work. */
  readonly tracingAllowed?: () => boolean;
  /** Host (and port) → api name for HTTP calls (fetch, http/https); hosts not listed are ignored. */
  readonly apiHosts: ApiHostMap;
  readonly onTrade?: (event: TradeEvent) => void;
  /** When given, measurements reach the instruments through it (at collection time, hot) rather than on the bot's call. */
  readonly batch?: MeasurementBatch;
  /** Where a scan or trade measured inside a sampled span leaves its trace id (OpenMetrics exemplars). */
  readonly exemplars?: Exemplars;
  readonly onError: (where: string, error: unknown) => void;
  /** Wall clock, ms. */
  readonly now: () => number;
  /** Monotonic clock, ms. */
  readonly monotonic: () => number;
}

export function operationOf(operation: unknown): TradeOperation {
  return operation === 'cancel' ? 'cancel' : 'place';
}

export function sideOf(side: unknown): Side {
  if (typeof side !== 'string') return 'other';
  const s = side.trim().toLowerCase();
  return s === 'buy' || s === 'b' || s === 'bid' ? 'buy' : s === 'sell' || s === 's' || s === 'ask' ? 'sell' : 'other';
}

/** One traced operation; it is also what the operation's async context holds (its OperationScope). */
interface Operation {
  readonly started: number;
  readonly span: Span | undefined;
  readonly trade: boolean;
  /** Cleared when the operation ends: a timer the bot set inside a trade outlives it, and is not part of it. */
  open: boolean;
}

/**
 * Where a traced message carries its operation while it runs. The messages are the probe's own
 * objects, so a property is cheaper than a WeakMap lookup per event, and dies with the message.
 */
const OPERATION = Symbol('polymarket-bot-monitoring.operation');
type Carrier = { [OPERATION]?: Operation | undefined; result?: unknown; error?: unknown; mapOutcome?: unknown };

/**
 * One attributes object per label combination, built once and frozen: a shared object spares the
 * allocation, and the plugin's instruments find a frozen object's series without hashing it
 * (metrics/kept.ts).
 */
function byOutcome(labels: Attributes): Record<Outcome, Attributes> {
  const attributes = {} as Record<Outcome, Attributes>;
  for (const outcome of OUTCOMES) attributes[outcome] = Object.freeze({ ...labels, outcome });
  return attributes;
}
const SCAN_ATTRIBUTES = byOutcome({});
const TRADE_ATTRIBUTES = {} as Record<TradeOperation, Record<Side, Record<Outcome, Attributes>>>;
for (const operation of TRADE_OPERATIONS) {
  TRADE_ATTRIBUTES[operation] = {} as Record<Side, Record<Outcome, Attributes>>;
  for (const side of SIDES) TRADE_ATTRIBUTES[operation][side] = byOutcome({ operation, side });
}

/** Longer than any market id: something else, and not worth an attribute. */
const MAX_MARKET_ID = 128;
const numberAttr = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function errorText(error: unknown): string {
  // Cut before anything else reads it: this runs inside the bot's call, and an error's message
  // can be megabytes (10 MB of newlines cost 552 ms when split whole). Each part is cut before it
  // is joined: a slice of a joined (cons) string would copy the whole of it first.
  const cut = (text: unknown): string => String(text).slice(0, ERROR_TEXT_SCAN_CHARS);
  let head: string;
  try {
    head = error instanceof Error ? `${cut(error.name)}: ${cut(error.message)}`.slice(0, ERROR_TEXT_SCAN_CHARS) : cut(error);
  } catch {
    // A thrown value with no text form (a null-prototype object, a throwing toString) is still an error.
    head = 'unprintable thrown value';
  }
  const lineEnd = head.indexOf('\n');
  return redactAndTruncate(lineEnd === -1 ? head : head.slice(0, lineEnd), ERROR_TEXT_CHARS);
}

/** The most of an error's message that is ever read, and the most kept (README: redaction). */
const ERROR_TEXT_SCAN_CHARS = 1024;
const ERROR_TEXT_CHARS = 300;

export function subscribe(deps: SubscriberDeps): () => void {
  const { state, tracer, monotonic, now, batch } = deps;
  const recordScan: Sink = (value, attributes) => deps.scanDuration.record(value, attributes);
  const recordTrade: Sink = (value, attributes) => deps.tradeDuration.record(value, attributes);
  const countApi: Sink = (value, attributes) => deps.apiRequests.add(value, attributes);
  const measure = (sink: Sink, value: number, attributes: Attributes): void => {
    if (batch) batch.push(sink, value, attributes);
    else sink(value, attributes);
  };
  /** A counter's measurement: the batch sums it with the others of its series. */
  const count = (sink: Sink, value: number, attributes: Attributes): void => {
    if (batch) batch.add(sink, value, attributes);
    else sink(value, attributes);
  };
  const unsubscribers: (() => void)[] = [];
  // One argument, no rest parameters: these wrap every event on the bot's hot path.
  const guard =
    <M>(where: string, fn: (message: M) => void) =>
    (message: M): void => {
      try {
        fn(message);
      } catch (error) {
        try {
          deps.onError(where, error);
        } catch {
          // A thrown value that cannot even be shown (a throwing toString): a diagnostics_channel
          // subscriber that throws becomes the bot's uncaught exception, so nothing leaves here.
        }
      }
    };

  const begin = (message: Carrier, name: string, trade: boolean, attributes: () => Record<string, string | number | undefined>): Operation => {
    let op = message[OPERATION];
    if (op) return op;
    let span: Span | undefined;
    if (tracer && (deps.tracingAllowed?.() ?? true)) {
      const parent = operationScope.getStore()?.span;
      const ctx = parent ? trace.setSpan(otelContext.active(), parent) : otelContext.active();
      const attrs: Record<string, string | number> = {};
      for (const [key, value] of Object.entries(attributes())) if (value !== undefined) attrs[key] = value;
      span = tracer.startSpan(name, { attributes: attrs }, ctx);
    }
    op = { started: monotonic(), span, trade, open: true };
    message[OPERATION] = op;
    return op;
  };

  /** Ends the message's operation (once): its span, and the outcome (read by `classify`) for the caller to record. */
  const finish = (
    message: Carrier,
    classify: (result: unknown) => Outcome,
  ): { seconds: number; outcome: Outcome; error: string | undefined; span: SpanContext | undefined } | undefined => {
    const op = message[OPERATION];
    if (!op) return undefined;
    op.open = false;
    // Cleared, not deleted: a delete would turn the message into a slow dictionary object.
    message[OPERATION] = undefined;
    const seconds = Math.max(0, (monotonic() - op.started) / 1000);
    const failed = 'error' in message;
    let outcome: Outcome;
    try {
      outcome = failed
        ? outcomeOfError(message.error)
        : typeof message.mapOutcome === 'function'
          ? mappedOutcome(message.mapOutcome as (result: unknown) => unknown, message.result)
          : classify(message.result);
    } catch {
      // A result (or error) whose getters throw, a revoked Proxy: unreadable is not a success.
      outcome = 'other';
    }
    const error = failed ? errorText(message.error) : undefined;
    const { span } = op;
    if (span) {
      span.setAttribute('polymarket.outcome', outcome);
      if (failed) {
        span.recordException({ name: 'Error', message: error ?? 'error' });
        span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      } else if (isFailure(outcome)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      }
      span.end();
    }
    // The plugin's span, or the bot's own when the plugin records none: the trace to link to, if sampled.
    return { seconds, outcome, error, span: sampledSpan(span?.spanContext() ?? (deps.exemplars ? trace.getSpanContext(otelContext.active()) : undefined)) };
  };

  /**
   * Subscribes to one TracingChannel; the operation ends at `end` (sync) or `asyncEnd` (promise).
   * The scope is bound when there are spans (it carries the parent span), and a trade's too once
   * an instrumented client asks (an order call inside a trade must know it is part of it).
   */
  const traced = <M extends Carrier>(
    channelName: string,
    trade: boolean,
    start: (message: M) => Operation,
    done: (message: M) => void,
  ): void => {
    const channel = diagnostics.tracingChannel<object, M>(channelName);
    const handlers = {
      start: guard(`${channelName} start`, (message: M) => void start(message)),
      end: guard(`${channelName} end`, (message: M) => {
        // A sync operation has its result or error by now; a promise has neither until asyncEnd.
        if ('result' in message || 'error' in message) done(message);
      }),
      asyncStart: () => {},
      asyncEnd: guard(`${channelName} asyncEnd`, done),
      error: () => {},
    };
    channel.subscribe(handlers);
    let bound = false;
    const bind = (): void => {
      if (bound) return;
      bound = true;
      // Runs before the start event; must never throw (a throwing transform is an uncaught exception).
      channel.start.bindStore(operationScope, (message) => {
        try {
          return start(message);
        } catch (error) {
          deps.onError(`${channelName} bindStore`, error);
          return { trade: false };
        }
      });
    };
    if (tracer !== undefined) bind();
    // Entering a scope costs every operation an AsyncLocalStorage run (about half a microsecond):
    // a trade pays it only once an instrumented client needs to know it is inside one.
    const stopWaiting = trade ? whenTradeScopeWanted(bind) : () => {};
    unsubscribers.push(() => {
      stopWaiting();
      channel.unsubscribe(handlers);
      if (bound) channel.start.unbindStore(operationScope);
    });
  };

  traced<WalletScanContext & Carrier>(
    TRACING_CHANNELS.walletScan,
    false,
    (message) =>
      begin(message, 'wallet.scan', false, () => ({
        'polymarket.wallet': typeof message.wallet === 'string' ? shortAddress(message.wallet) : undefined,
      })),
    (message) => {
      const end = finish(message, scanOutcomeOf);
      if (!end) return;
      measure(recordScan, end.seconds, SCAN_ATTRIBUTES[end.outcome]);
      if (end.span) deps.exemplars?.offer(METRICS.walletScanDuration.name, SCAN_ATTRIBUTES[end.outcome], end.seconds, end.span, now());
      // What the scan found is the wallet's business: any scan that neither failed nor was skipped succeeded.
      if (!isFailure(end.outcome) && end.outcome !== 'skipped' && end.outcome !== 'other') state.scanSucceeded(now(), 'observed');
    },
  );

  traced<TradeExecutionContext & Carrier>(
    TRACING_CHANNELS.tradeExecution,
    true,
    (message) =>
      begin(message, 'trade.execute', true, () => {
        const order = (message.order ?? {}) as TradeOrder;
        return {
          'polymarket.operation': operationOf(order.operation),
          'polymarket.side': sideOf(order.side),
          // A condition id is public and looks like a key by shape: mask only real, registered secrets.
          'polymarket.market_id':
            typeof order.market === 'string' && order.market.length <= MAX_MARKET_ID ? maskIdentifier(order.market) : undefined,
          'polymarket.size': numberAttr(order.size),
          'polymarket.price': numberAttr(order.price),
          'polymarket.source_wallet': typeof order.sourceWallet === 'string' ? shortAddress(order.sourceWallet) : undefined,
        };
      }),
    (message) => {
      const end = finish(message, outcomeOf);
      if (!end) return;
      const { seconds, outcome, error } = end;
      const order = (message.order ?? {}) as TradeOrder;
      const operation = operationOf(order.operation);
      const side = sideOf(order.side);
      const attributes = TRADE_ATTRIBUTES[operation][side][outcome];
      measure(recordTrade, seconds, attributes);
      const { span } = end;
      if (span) deps.exemplars?.offer(METRICS.tradeExecutionDuration.name, attributes, seconds, span, now());
      deps.onTrade?.({
        order,
        operation,
        side,
        outcome,
        seconds,
        ...(error === undefined ? {} : { error }),
        ...(span ? { trace: { traceId: span.traceId, spanId: span.spanId } } : {}),
      });
    },
  );

  // APIs the probe reports on are its to report: fetch calls to them are not counted twice.
  const probeApis = new Set<string>();
  // Per api label, the attributes of each outcome, built once (the SDK only reads them).
  const apiAttributes = new Map<string, Record<(typeof API_OUTCOMES)[number], Attributes>>();
  const countApiCall = (api: string, ok: boolean): string => {
    const label = state.apis.record(api, ok);
    let attributes = apiAttributes.get(label);
    if (!attributes) {
      attributes = { success: Object.freeze({ api: label, outcome: 'success' }), failure: Object.freeze({ api: label, outcome: 'failure' }) };
      apiAttributes.set(label, attributes);
      // Both outcomes exist from the first call on, so rate() over either works at once.
      for (const outcome of API_OUTCOMES) count(countApi, 0, attributes[outcome]);
    }
    count(countApi, 1, ok ? attributes.success : attributes.failure);
    return label;
  };
  // The probe's api names are a handful of constants: each is checked and shaped once.
  const probeLabels = new Map<string, string>();
  const probeLabel = (raw: unknown): string => {
    if (typeof raw !== 'string') return apiLabel(raw);
    let label = probeLabels.get(raw);
    if (label === undefined) {
      label = apiLabel(raw);
      // Bounded: a bot that reports free text as api names gets no cache, not a growing one.
      if (probeLabels.size < 64) probeLabels.set(raw, label);
    }
    return label;
  };

  const plain = <M>(channelName: string, handler: (message: M) => void): void => {
    const wrapped = guard(channelName, (message: unknown) => handler(message as M));
    diagnostics.subscribe(channelName, wrapped);
    unsubscribers.push(() => diagnostics.unsubscribe(channelName, wrapped));
  };

  plain<ApiCallReport>(CHANNELS.apiCall, (report) => {
    if (report === null || typeof report !== 'object' || typeof report.ok !== 'boolean') return;
    const label = countApiCall(probeLabel(report.api), report.ok);
    // The label, not the raw name: bounded like the labels themselves.
    probeApis.add(label);
    const span = operationScope.getStore()?.span;
    if (span) {
      const attempt = numberAttr(report.attempt);
      const attrs: Record<string, string | number | boolean> = { 'polymarket.api': label, 'polymarket.api.ok': report.ok };
      const status = numberAttr(report.status);
      const duration = numberAttr(report.durationMs);
      if (status !== undefined) attrs['http.response.status_code'] = status;
      if (duration !== undefined) attrs['polymarket.api.duration_ms'] = duration;
      if (attempt !== undefined) attrs['polymarket.api.attempt'] = attempt;
      span.addEvent(attempt !== undefined && attempt > 1 ? 'retry' : 'api.call', attrs);
    }
  });

  plain<DailyPnlReport>(CHANNELS.dailyPnl, (report) => void state.reportPnl(report));
  plain<ComponentReport>(CHANNELS.component, (report) => {
    if (report !== null && typeof report === 'object') state.reportComponent(report);
  });

  // HTTP calls to the APIs the bot depends on, by host, whatever client makes them; the CLOB
  // client's requests are `clob` wherever they go (its instrumentation sets the scope).
  unsubscribers.push(
    subscribeHttpClients({
      hosts: deps.apiHosts,
      count: (api, ok) => void countApiCall(api, ok),
      skip: (api) => probeApis.has(api),
      apiOverride: () => apiScope.getStore(),
      onError: deps.onError,
    }),
  );

  return () => {
    for (const unsubscribe of unsubscribers.splice(0)) {
      try {
        unsubscribe();
      } catch {
        // Already gone.
      }
    }
  };
}
