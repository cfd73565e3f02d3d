// Which notification Telegram gets first when it cannot keep up, and which it loses. The order is
// the operator's: a condition of the bot (a daily loss, its trade breaker, stalled scans, an API
// down) before any per-event notice, the plugin's own breaker notices included, and a routine
// "trade executed" last. A resolved message ranks as the condition it resolves (it carries that
// condition's severity), so an all-clear is not stuck behind the noise either.

import type { Notification } from './types.js';

/** Ranks for DeliveryQueue, 0 the most urgent. */
export const DELIVERY_RANK = {
  /** A critical rule condition: DailyLoss at its critical limit, ApiConsecutiveFailures, scans stalled critically. */
  critical: 0,
  /** A warning rule condition: DailyLoss nearing its limit, TradeCircuitBreakerOpen, ApiSuccessRatioLow, TradeFailures. */
  warning: 1,
  /** A critical or warning per-event notice: a failed trade (first or digest), the monitoring breaker tripping. */
  notice: 2,
  /** Anything else that is not routine: info conditions and events, the monitoring breaker recovering, drop summaries. */
  info: 3,
  /** At the bot's pace (a trade executed): the first to go when the queue is full. */
  routine: 4,
} as const;

/**
 * Most routine notices waiting for Telegram. At one message a second a full queue of them would be
 * minutes stale before the last went out; past this the oldest go, summarised in one message.
 */
export const MAX_ROUTINE_WAITING = 20;

export function deliveryRank(n: Pick<Notification, 'kind' | 'severity' | 'routine'>): number {
  if (n.routine) return DELIVERY_RANK.routine;
  const urgent = n.severity === 'critical' || n.severity === 'warning';
  if (!urgent) return DELIVERY_RANK.info;
  if (n.kind === 'event') return DELIVERY_RANK.notice;
  return n.severity === 'critical' ? DELIVERY_RANK.critical : DELIVERY_RANK.warning;
}
