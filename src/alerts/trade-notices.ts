// Per-trade notices, off the bot's call path: a routine one (a fill) per trade up to a rate, and
// failures coalesced. During an exchange outage every order fails within milliseconds; one message
// each would bury the chat and the money alerts behind it. So the first failure is told at once,
// then the failures of each window come as one digest (counts by outcome, the commonest errors),
// and a window without failures ends the outage: the next failure is again told at once.

import type { NotifyMode, TradeNotifyMode } from '../core/config.js';
import { deferred, type Deferred } from '../core/defer.js';
import { isFailure } from '../core/model.js';
import { shortAddress } from '../core/redact.js';
import type { TradeEvent } from '../ingest/subscribers.js';
import type { RuleName } from '../rules/catalog.js';
import type { Draft } from './notifier.js';

/** Failed trades after the first are summed up over this window, one digest per window. */
export const FAILED_TRADE_DIGEST_WINDOW_MS = 30_000;
/** Routine notices beyond this rate are counted as suppressed instead of logged and sent. */
export const MAX_TRADE_NOTICES_PER_SECOND = 10;
/** Errors quoted in a digest, the most frequent first. */
export const DIGEST_TOP_ERRORS = 3;
/** A quoted error is cut to this many characters (it was redacted when the trade ended). */
export const DIGEST_ERROR_CHARS = 120;
// Distinct error texts counted per window: a bot failing with a new text each time must not grow
// the digest's memory; the rest are counted together.
const MAX_DISTINCT_ERRORS = 50;
// Trades buffered between two turns of the event loop (beyond it the oldest are dropped, counted).
const BUFFERED_TRADES = 1_000;

/** Trade outcomes worth a routine notice (a debug line, Telegram per ALERT_ON_TRADE), by title; a failure is always one. */
const ROUTINE_TITLES: Readonly<Record<string, string>> = {
  filled: 'Copied trade filled',
  success: 'Copied trade executed',
  resting: 'Copied order resting on the book',
  delayed: 'Copied order delayed by the exchange',
  unfilled: 'Copied order not filled',
};

export function isRoutineOutcome(outcome: string): boolean {
  return Object.hasOwn(ROUTINE_TITLES, outcome);
}

/** Telegram's mode for a fill and for a failure under ALERT_ON_TRADE. */
export function tradeModes(mode: TradeNotifyMode): { routine: NotifyMode; failure: NotifyMode } {
  return mode === 'failures' ? { routine: 'off', failure: 'on' } : { routine: mode, failure: mode };
}

/** A copied trade: executed, resting, unfilled or failed; skipped and unclassified ones are not news, nor a cancel that went through. */
export function tradeDraft(trade: TradeEvent): Draft | undefined {
  const { order, operation, side, outcome, seconds } = trade;
  const failed = isFailure(outcome);
  if (!failed && (operation === 'cancel' || !isRoutineOutcome(outcome))) return undefined;
  const parts = [
    typeof order.market === 'string' ? `market ${shortAddress(order.market)}` : undefined,
    `${operation === 'cancel' ? 'cancel' : side.toUpperCase()}${typeof order.size === 'number' ? ` ${order.size}` : ''}${typeof order.price === 'number' ? ` @ ${order.price}` : ''}`,
    typeof order.sourceWallet === 'string' ? `copied from ${shortAddress(order.sourceWallet)}` : undefined,
    `${Math.round(seconds * 1000)} ms`,
  ].filter(Boolean);
  return {
    kind: 'event',
    ...(failed ? {} : { routine: true }),
    rule: failed ? ('PolymarketBotTradeFailed' satisfies RuleName) : ('PolymarketBotTradeExecuted' satisfies RuleName),
    component: 'trade_executor',
    severity: failed ? 'warning' : 'info',
    title: failed ? `${operation === 'cancel' ? 'Cancel' : 'Copied trade'} ${outcome}` : ROUTINE_TITLES[outcome]!,
    description: `${parts.join(', ')}${trade.error ? `; ${trade.error}` : ''}`,
    ...(trade.trace ? { trace: trade.trace } : {}),
  };
}

export interface TradeNoticesOptions {
  notify: (draft: Draft, mode: NotifyMode) => void;
  /** ALERT_ON_TRADE. */
  mode: TradeNotifyMode;
  /** True while the monitoring breaker sheds per-event notices. */
  shed: () => boolean;
  /** A routine notice over the rate limit. */
  onSuppressed: () => void;
  /** A trade lost from the buffer before its notice was considered. */
  onBufferDrop: () => void;
  onError: (error: unknown) => void;
  /** Milliseconds, monotonic. */
  monotonic: () => number;
  windowMs?: number;
}

class FailureDigest {
  count = 0;
  readonly byOutcome = new Map<string, number>();
  readonly byError = new Map<string, number>();
  otherErrors = 0;

  add(trade: TradeEvent): void {
    this.count++;
    const label = trade.operation === 'cancel' ? `cancel ${trade.outcome}` : trade.outcome;
    this.byOutcome.set(label, (this.byOutcome.get(label) ?? 0) + 1);
    if (trade.error === undefined) return;
    const error = trade.error.length > DIGEST_ERROR_CHARS ? `${trade.error.slice(0, DIGEST_ERROR_CHARS - 1)}\u2026` : trade.error;
    const seen = this.byError.get(error);
    if (seen !== undefined) this.byError.set(error, seen + 1);
    else if (this.byError.size < MAX_DISTINCT_ERRORS) this.byError.set(error, 1);
    else this.otherErrors++;
  }

  draft(windowMs: number): Draft {
    const outcomes = [...this.byOutcome].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `${outcome} ${n}`);
    const errors = [...this.byError]
      .sort((a, b) => b[1] - a[1])
      .slice(0, DIGEST_TOP_ERRORS)
      .map(([error, n]) => `${n}\u00D7 ${error}`);
    const quoted = errors.length;
    const unquoted = this.byError.size - quoted + this.otherErrors;
    const lines = [`by outcome: ${outcomes.join(', ')}`];
    if (quoted > 0) lines.push('most frequent errors:', ...errors);
    if (unquoted > 0) lines.push(`and ${unquoted} other error text${unquoted === 1 ? '' : 's'}`);
    return {
      kind: 'event',
      rule: 'PolymarketBotTradeFailed' satisfies RuleName,
      component: 'trade_executor',
      severity: 'warning',
      title: `${this.count} more copied trade${this.count === 1 ? '' : 's'} failed in the last ${Math.round(windowMs / 1000)} s`,
      description: lines.join('\n'),
    };
  }
}

/**
 * Takes trades on the bot's call path (`push` only buffers) and turns them into notices on the
 * next turn of the loop. `flush` (at shutdown) also sends the pending digest.
 */
export function createTradeNotices(opts: TradeNoticesOptions): Deferred<TradeEvent> {
  const windowMs = opts.windowMs ?? FAILED_TRADE_DIGEST_WINDOW_MS;
  const modes = tradeModes(opts.mode);
  let noticeWindow = 0;
  let noticesInWindow = 0;
  let digest: FailureDigest | undefined;
  let windowTimer: NodeJS.Timeout | undefined;

  const sendDigest = (): void => {
    if (digest === undefined || digest.count === 0) return;
    const draft = digest.draft(windowMs);
    digest = new FailureDigest();
    opts.notify(draft, modes.failure);
  };
  const closeWindow = (): void => {
    windowTimer = undefined;
    try {
      if (digest === undefined || digest.count === 0) {
        digest = undefined; // a quiet window: the outage is over
        return;
      }
      sendDigest();
      openWindow();
    } catch (error) {
      opts.onError(error);
    }
  };
  const openWindow = (): void => {
    digest ??= new FailureDigest();
    // Unref'd: a pending digest must not keep the bot alive; shutdown flushes it.
    windowTimer = setTimeout(closeWindow, windowMs);
    windowTimer.unref();
  };

  const handle = (trade: TradeEvent): void => {
    if (opts.shed()) return; // shedding: per-event notices are monitoring's own work
    if (isFailure(trade.outcome)) {
      if (digest !== undefined) {
        digest.add(trade);
        return;
      }
      const draft = tradeDraft(trade);
      if (draft === undefined) return;
      openWindow();
      opts.notify(draft, modes.failure);
      return;
    }
    // A bot in a tight loop must not turn into thousands of log lines and messages a second.
    const second = Math.floor(opts.monotonic() / 1000);
    if (second !== noticeWindow) {
      noticeWindow = second;
      noticesInWindow = 0;
    }
    if (++noticesInWindow > MAX_TRADE_NOTICES_PER_SECOND) {
      opts.onSuppressed();
      return;
    }
    const draft = tradeDraft(trade);
    if (draft) opts.notify(draft, modes.routine);
  };

  const trades = deferred<TradeEvent>(handle, BUFFERED_TRADES, opts.onBufferDrop, opts.onError);
  return {
    push: trades.push,
    flush: () => {
      trades.flush();
      try {
        sendDigest();
      } catch (error) {
        opts.onError(error);
      }
    },
  };
}
