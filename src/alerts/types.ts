// The contract between the evaluators (which decide what to say) and the sinks (which say it).
// Evaluators call `deliver` on their own stack, so a sink's `deliver` must be cheap, synchronous
// and unable to throw: anything slow or fallible happens later, behind a queue.

import type { Severity } from '../core/model.js';

export interface Notification {
  /** 'firing' | 'resolved' for rule conditions; 'event' for per-event notices (a trade executed, a breaker tripped). */
  kind: 'firing' | 'resolved' | 'event';
  /** The rule catalog's name (src/rules/catalog.ts), e.g. 'PolymarketBotDailyLossCritical', 'PolymarketBotTradeExecuted'. */
  rule: string;
  /** e.g. 'trade_executor'. */
  component: string;
  severity: Severity;
  /** Short and static per rule. */
  title: string;
  /** Detail in plain text; may contain <, > and &: every sink escapes it for its own medium. */
  description: string;
  /**
   * One of many, at the bot's pace (a trade executed): the log keeps it at debug level, since the
   * bot logs its own trades; Telegram still receives it per its ALERT_ON_* setting.
   */
  routine?: boolean;
  /** Telegram without sound (ALERT_ON_* = silent). */
  silent: boolean;
  /** Wall-clock ms when the evaluator decided to notify (delivery may be later: retries, rate limits). */
  at: number;
  /** The sampled span of the operation the notice stems from (a failed trade), to find its trace. */
  trace?: { readonly traceId: string; readonly spanId: string };
}

export interface AlertSink {
  readonly name: string;
  /** Enqueues or writes; returns at once and never throws. */
  deliver(n: Notification): void;
  /** Resolves when nothing is pending or in flight, or after `timeoutMs`, whichever comes first. Never rejects. */
  drain(timeoutMs: number): Promise<void>;
  /** Stops delivery: pending notifications are abandoned, an in-flight request is aborted. */
  close(): void;
}

import type { FailureReason } from '../core/model.js';
export { FAILURE_REASONS, type FailureReason } from '../core/model.js';

/**
 * What a sink reports for the plugin's metrics and /health. Each notification ends in exactly
 * one of `sent`, `failed` or `dropped` (or none, when the sink is closed while it is pending).
 */
export interface DeliveryObserver {
  /** Telegram accepted every part of the notification. */
  sent(severity: Severity): void;
  /** Given up on: after the retries the reason allowed, or at once for a client error. */
  failed(reason: FailureReason): void;
  /** Pushed out of a full queue by a more urgent or newer notification, never attempted. */
  dropped(): void;
  /** Outcome of the latest notification that reached a verdict. */
  lastDelivery(ok: boolean): void;
  /** Synchronous work (formatting, serialising, parsing) spent on one notification, in ms: the plugin's self-time. */
  busy?(ms: number): void;
}

/** The two logger methods the sinks use; the plugin's winston logger fits. */
export interface SinkLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
}
