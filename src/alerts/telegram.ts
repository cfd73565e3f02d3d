// Telegram delivery: sendMessage behind a bounded queue, with retry-or-give-up decided by the
// answer (as Alertmanager's notify/telegram does): 429 waits what Telegram asks, 5xx and network
// trouble back off exponentially, any other 4xx is final because repeating it cannot succeed.
//
// The bot token is part of the request URL, so the URL is built once here and never leaves this
// module: no log line, observer call or error carries it, nor any text derived from a fetch error
// (whose message or cause may quote the URL).

import { unrefFetch } from './unref-fetch.js';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { log } from '../core/log.js';
import { redactText, registerSecrets } from '../core/redact.js';
import { formatTelegram } from './format.js';
import { DELIVERY_RANK, MAX_ROUTINE_WAITING, deliveryRank } from './priority.js';
import { DeliveryQueue } from './queue.js';
import type { AlertSink, DeliveryObserver, FailureReason, Notification, SinkLogger } from './types.js';
import type { RuleName } from '../rules/catalog.js';

export interface TelegramSinkOptions {
  token: string;
  chatId: string | number;
  /** Without trailing slash or path; for a local Bot API server or a test double. */
  apiUrl?: string;
  staging?: boolean;
  observer?: DeliveryObserver;
  logger?: SinkLogger;
  /** Notifications waiting (beyond it the least urgent, oldest first, is dropped). */
  capacity?: number;
  requestTimeoutMs?: number;
  /** Attempts per message part, the first included, whatever the reason for retrying. */
  maxAttempts?: number;
  /** First backoff after a 5xx, network error or timeout; doubles per attempt, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest 429 `retry_after` honoured as given; a longer one is waited this long. */
  maxRetryAfterMs?: number;
  fetchImpl?: typeof fetch;
  /** Resolves after `ms`, or early when `signal` aborts. Must not keep the process alive. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Milliseconds clock for the self-time measurement. */
  now?: () => number;
  /** [0, 1) source for backoff jitter. */
  random?: () => number;
}

export const TELEGRAM_DEFAULTS = {
  apiUrl: 'https://api.telegram.org',
  capacity: 100,
  requestTimeoutMs: 5_000,
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
} as const;

// Telegram tokens are `<bot id>:<secret>`; anything else (a slash, a query) would change the URL.
const TOKEN_SHAPE = /^[A-Za-z0-9:_-]+$/;
/**
 * While notices are being dropped and more are waiting, at most one "N notices dropped" message
 * per this interval; once nothing urgent waits, the summary goes after the current message.
 */
export const DROP_SUMMARY_INTERVAL_MS = 30_000;
const MAX_DETAIL_CHARS = 200;
const MAX_RESPONSE_CHARS = 64 * 1024;

type Attempt =
  | { readonly kind: 'ok' }
  | { readonly kind: 'retry'; readonly reason: FailureReason; readonly waitMs?: number; readonly detail?: string }
  | { readonly kind: 'fail'; readonly reason: FailureReason; readonly detail?: string }
  | { readonly kind: 'aborted' };

type Verdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'fail'; readonly reason: FailureReason; readonly attempts: number; readonly detail?: string }
  | { readonly kind: 'aborted' };

const noopObserver: DeliveryObserver = {
  sent() {},
  failed() {},
  dropped() {},
  lastDelivery() {},
};

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  // Unref'd: a sink waiting out a rate limit must not keep the bot from exiting.
  return sleepTimer(ms, undefined, { ref: false, signal }).catch(() => undefined);
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Telegram's own error text, bounded and redacted; it never holds the URL, but costs nothing to check. */
function telegramDescription(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const description = (payload as { description?: unknown }).description;
  if (typeof description !== 'string' || description === '') return undefined;
  return redactText(description.slice(0, MAX_DETAIL_CHARS));
}

/** A system error code such as ECONNREFUSED: the only part of a fetch error safe to repeat. */
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function retryAfterMs(payload: unknown, headers: Headers): number | undefined {
  const params = (payload as { parameters?: { retry_after?: unknown } } | null)?.parameters;
  const fromBody = Number(params?.retry_after);
  if (Number.isFinite(fromBody) && fromBody >= 0) return fromBody * 1000;
  const fromHeader = Number(headers.get('retry-after'));
  if (Number.isFinite(fromHeader) && fromHeader >= 0) return fromHeader * 1000;
  return undefined;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

class TelegramSink implements AlertSink {
  readonly name = 'telegram';

  private readonly url: string;
  private readonly chatId: string | number;
  private readonly staging: boolean;
  private readonly observer: DeliveryObserver;
  private readonly logger: SinkLogger;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly queue: DeliveryQueue<Notification>;
  private readonly stopped = new AbortController();
  // Log lines describe changes of state (failing, recovered, overflowing), not every notification:
  // the log sink already has one line per alert.
  private failingSince: FailureReason | null = null;
  private overflowing = false;
  // Dropped since the last summary message, and when the first of them was.
  private droppedRoutine = 0;
  private droppedOther = 0;
  private droppingSince = 0;

  constructor(opts: TelegramSinkOptions) {
    const token = String(opts.token ?? '').trim();
    // Messages built without the value, so that even a wrong token is never printed.
    if (token === '') throw new TypeError('Telegram sink: the bot token is empty');
    if (!TOKEN_SHAPE.test(token)) throw new TypeError('Telegram sink: the bot token has an unexpected shape');
    if (opts.chatId === undefined || opts.chatId === null || String(opts.chatId).trim() === '') {
      throw new TypeError('Telegram sink: the chat id is empty');
    }
    registerSecrets([token]);
    const apiUrl = String(opts.apiUrl ?? TELEGRAM_DEFAULTS.apiUrl).replace(/\/+$/, '');
    this.url = `${apiUrl}/bot${token}/sendMessage`;
    this.chatId = typeof opts.chatId === 'number' ? opts.chatId : String(opts.chatId).trim();
    this.staging = opts.staging ?? false;
    this.observer = opts.observer ?? noopObserver;
    this.logger = opts.logger ?? log();
    this.requestTimeoutMs = positive(opts.requestTimeoutMs, TELEGRAM_DEFAULTS.requestTimeoutMs);
    this.maxAttempts = Math.max(1, Math.floor(positive(opts.maxAttempts, TELEGRAM_DEFAULTS.maxAttempts)));
    this.baseDelayMs = positive(opts.baseDelayMs, TELEGRAM_DEFAULTS.baseDelayMs);
    this.maxDelayMs = positive(opts.maxDelayMs, TELEGRAM_DEFAULTS.maxDelayMs);
    this.maxRetryAfterMs = positive(opts.maxRetryAfterMs, TELEGRAM_DEFAULTS.maxRetryAfterMs);
    this.fetchImpl = opts.fetchImpl ?? unrefFetch;
    this.sleep = opts.sleep ?? defaultSleep;
    this.now = opts.now ?? (() => performance.now());
    this.random = opts.random ?? Math.random;
    this.queue = new DeliveryQueue<Notification>({
      capacity: positive(opts.capacity, TELEGRAM_DEFAULTS.capacity),
      rank: deliveryRank,
      rankCapacity: (rank) => (rank === DELIVERY_RANK.routine ? MAX_ROUTINE_WAITING : Number.POSITIVE_INFINITY),
      send: (n) => this.deliverThenSummarise(n),
      onDrop: (n) => this.onDrop(n),
    });
  }

  deliver(n: Notification): void {
    try {
      this.queue.push(n);
    } catch {
      // Unreachable by design; `deliver` runs on an evaluator's stack and must not throw.
    }
  }

  drain(timeoutMs: number): Promise<void> {
    return this.queue.drain(timeoutMs).catch(() => undefined);
  }

  close(): void {
    try {
      const discarded = this.queue.close();
      this.stopped.abort();
      if (discarded > 0) {
        this.report(() =>
          this.logger.warn(`${discarded} alert(s) not sent to Telegram: monitoring stopped first`, {
            component: 'alert_system',
          }),
        );
      }
    } catch {
      // Shutdown path: nothing left to tell.
    }
  }

  private onDrop(n: Notification): void {
    this.report(() => this.observer.dropped());
    if (this.droppedRoutine + this.droppedOther === 0) this.droppingSince = this.now();
    if (n.routine) this.droppedRoutine++;
    else this.droppedOther++;
    if (!this.overflowing) {
      this.overflowing = true;
      this.report(() =>
        this.logger.warn('Telegram alert queue full: dropping the least urgent alerts, routine notices first (counted in metrics)', {
          component: 'alert_system',
        }),
      );
    }
  }

  private async deliverThenSummarise(n: Notification): Promise<void> {
    await this.deliverNow(n);
    const summary = this.dropSummary();
    if (summary) await this.deliverNow(summary);
  }

  /** The "N notices dropped" message, when it is due: never ahead of anything above info. */
  private dropSummary(): Notification | undefined {
    const dropped = this.droppedRoutine + this.droppedOther;
    if (dropped === 0) return undefined;
    const next = this.queue.nextRank();
    if (next !== undefined && (next < DELIVERY_RANK.info || this.now() - this.droppingSince < DROP_SUMMARY_INTERVAL_MS)) {
      return undefined;
    }
    const routine = this.droppedRoutine;
    const other = this.droppedOther;
    this.droppedRoutine = 0;
    this.droppedOther = 0;
    const what = [
      routine > 0 ? `${routine} trade notice${routine === 1 ? '' : 's'}` : undefined,
      other > 0 ? `${other} alert${other === 1 ? '' : 's'}` : undefined,
    ].filter(Boolean);
    return {
      kind: 'event',
      rule: 'PolymarketBotAlertsDropped' satisfies RuleName,
      component: 'alert_system',
      severity: 'info',
      title: `${what.join(' and ')} dropped`,
      description:
        'Telegram could not keep up, so the least urgent notices were not sent (alerts of the bot’s conditions go first). Each went to the plugin’s log, trade notices at debug level.',
      silent: true,
      at: Date.now(),
    };
  }

  private async deliverNow(n: Notification): Promise<void> {
    let busyMs = 0;
    const timed = <R>(fn: () => R): R => {
      const start = this.now();
      try {
        return fn();
      } finally {
        busyMs += this.now() - start;
      }
    };
    let verdict: Verdict = { kind: 'ok' };
    try {
      const parts = timed(() => formatTelegram(n, { staging: this.staging }));
      for (const text of parts) {
        const body = timed(() =>
          JSON.stringify({
            chat_id: this.chatId,
            text,
            parse_mode: 'HTML',
            disable_notification: n.silent === true,
            link_preview_options: { is_disabled: true },
          }),
        );
        verdict = await this.sendPart(body, deliveryRank(n), (ms) => (busyMs += ms));
        // A later part after a failed one would read as a message with its start missing.
        if (verdict.kind !== 'ok') break;
      }
    } catch {
      verdict = { kind: 'fail', reason: 'rejected', attempts: 0, detail: 'could not build the message' };
    }
    if (this.queue.size === 0) this.overflowing = false;
    this.conclude(n, verdict);
    if (busyMs > 0) this.report(() => this.observer.busy?.(busyMs));
  }

  private conclude(n: Notification, verdict: Verdict): void {
    // Closed mid-flight: the notification was neither delivered nor refused.
    if (verdict.kind === 'aborted') return;
    if (verdict.kind === 'ok') {
      this.report(() => this.observer.sent(n.severity));
      this.report(() => this.observer.lastDelivery(true));
      if (this.failingSince !== null) {
        this.failingSince = null;
        this.report(() => this.logger.info('Telegram alert delivery recovered', { component: 'alert_system' }));
      }
      return;
    }
    this.report(() => this.observer.failed(verdict.reason));
    // Unconfirmed is a 2xx: the channel works, whatever became of the body.
    this.report(() => this.observer.lastDelivery(verdict.reason === 'unconfirmed'));
    if (this.failingSince !== verdict.reason) {
      this.failingSince = verdict.reason;
      const meta: Record<string, unknown> = {
        component: 'alert_system',
        reason: verdict.reason,
        attempts: verdict.attempts,
        rule: n.rule,
      };
      if (verdict.detail !== undefined) meta.detail = verdict.detail;
      const text =
        verdict.reason === 'unconfirmed'
          ? 'Telegram answered 2xx, then its answer broke off (unconfirmed): the alert was most likely posted and is not sent again'
          : `Telegram did not accept an alert (${verdict.reason}); alerts still go to the log`;
      this.report(() => this.logger.warn(text, meta));
    }
  }

  private async sendPart(body: string, rank: number, addBusy: (ms: number) => void): Promise<Verdict> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(body, addBusy);
      if (result.kind === 'ok' || result.kind === 'aborted') return result;
      // Retrying a routine notice (backoffs, timeouts: up to minutes) would hold a more urgent
      // message behind it: the routine one gives way instead.
      const outranked = rank === DELIVERY_RANK.routine && (this.queue.nextRank() ?? rank) < rank;
      if (result.kind === 'fail' || attempt >= this.maxAttempts || outranked) {
        return { kind: 'fail', reason: result.reason, attempts: attempt, ...(result.detail ? { detail: result.detail } : {}) };
      }
      const wait = result.waitMs ?? this.backoff(attempt);
      await this.sleep(wait, this.stopped.signal);
      if (this.stopped.signal.aborted) return { kind: 'aborted' };
    }
  }

  /** Exponential, capped, with jitter in its upper half so retries from a restart do not align. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  private async attempt(body: string, addBusy: (ms: number) => void): Promise<Attempt> {
    if (this.stopped.signal.aborted) return { kind: 'aborted' };
    const request = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort();
    }, this.requestTimeoutMs);
    timer.unref();
    const onStop = (): void => request.abort();
    this.stopped.signal.addEventListener('abort', onStop, { once: true });
    try {
      let response: Response | undefined;
      let text: string;
      try {
        response = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: request.signal,
          // A redirect would be followed with the token's request; Telegram never sends one.
          redirect: 'manual',
        });
        // Inside the timeout too: a server can answer the headers and then stall the body.
        text = await response.text();
      } catch (error) {
        if (this.stopped.signal.aborted) return { kind: 'aborted' };
        // Telegram said 2xx before the body broke off: the message was most likely posted, and
        // sending it again would post it twice. At most once.
        if (response !== undefined && isSuccess(response.status)) {
          return { kind: 'fail', reason: 'unconfirmed', detail: `HTTP ${response.status}, then the answer ${timedOut ? 'stalled' : 'broke off'}` };
        }
        if (timedOut) return { kind: 'retry', reason: 'timeout', detail: `no answer within ${this.requestTimeoutMs} ms` };
        const code = errorCode(error);
        return { kind: 'retry', reason: 'network', ...(code ? { detail: code } : {}) };
      }
      const start = this.now();
      let payload: unknown;
      let parsed = true;
      try {
        payload = text.length <= MAX_RESPONSE_CHARS ? JSON.parse(text) : undefined;
      } catch {
        parsed = false;
      }
      addBusy(this.now() - start);
      if (!parsed && isSuccess(response.status)) {
        return { kind: 'fail', reason: 'unconfirmed', detail: `HTTP ${response.status} with an answer that is not JSON` };
      }
      return this.classify(response.status, payload, response.headers);
    } finally {
      clearTimeout(timer);
      this.stopped.signal.removeEventListener('abort', onStop);
    }
  }

  private classify(status: number, payload: unknown, headers: Headers): Attempt {
    const detail = telegramDescription(payload) ?? `HTTP ${status}`;
    if (isSuccess(status)) {
      // Accepted means Telegram said so; a 2xx from anything else (a proxy page) is not delivery.
      const ok = typeof payload === 'object' && payload !== null && (payload as { ok?: unknown }).ok === true;
      return ok ? { kind: 'ok' } : { kind: 'fail', reason: 'rejected', detail };
    }
    if (status === 429) {
      const asked = retryAfterMs(payload, headers);
      // Waiting less than asked only earns another 429; waiting longer than the cap would stall
      // every alert behind this one, so the cap wins and the attempt budget bounds the rest.
      const waitMs = asked === undefined ? undefined : Math.min(asked, this.maxRetryAfterMs);
      return { kind: 'retry', reason: 'rate_limited', detail, ...(waitMs !== undefined ? { waitMs } : {}) };
    }
    if (status >= 500 && status < 600) return { kind: 'retry', reason: 'http_5xx', detail };
    if (status >= 400 && status < 500) return { kind: 'fail', reason: 'http_4xx', detail };
    return { kind: 'fail', reason: 'rejected', detail };
  }

  private report(fn: () => unknown): void {
    try {
      fn();
    } catch {
      // Observer and logger are someone else's code (metrics, health, transports); their failure
      // is not a delivery failure and must not stop the queue.
    }
  }
}

/**
 * A sink that sends each notification to one Telegram chat. `deliver` only enqueues; delivery
 * happens in the background, one notification at a time. Throws a TypeError (never quoting the
 * token) only when the token or chat id is missing or malformed.
 */
export function createTelegramSink(opts: TelegramSinkOptions): AlertSink {
  return new TelegramSink(opts);
}
