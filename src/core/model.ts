/**
 * The plugin's vocabulary: component names, health statuses and alert severities.
 * Metric labels, /health, alert rules and the probe all draw from these lists, so a value
 * that is not here can never become a label (bounded cardinality by construction).
 * Dependency-free: the probe imports it too.
 */

export const COMPONENTS = [
  'main_bot',
  'wallet_monitor',
  'trade_executor',
  'circuit_breaker',
  'alert_system',
] as const;
export type Component = (typeof COMPONENTS)[number];

/** Statuses a check can produce, from best to worst. */
export const HEALTH_STATUSES = ['healthy', 'degraded', 'critical'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];
/** A component nobody has reported on yet: shown in /health, never counted, never graphed. */
export type ComponentStatus = HealthStatus | 'unknown';

/** `monitoring_component_status` values, as the predecessor defined them. */
export const STATUS_GAUGE_VALUE: Record<HealthStatus, number> = {
  healthy: 1,
  degraded: 0,
  critical: -1,
};

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isComponent(value: unknown): value is Component {
  return typeof value === 'string' && (COMPONENTS as readonly string[]).includes(value);
}

/**
 * Outcome of a wallet scan or a trade operation: a bounded label set, in a trader's words. What
 * each response shape of the CLOB client (and each word a bot may return) maps to is the table in
 * src/telemetry/outcome.ts and the README. An order the exchange accepted is `filled`, `resting`
 * (on the book), `delayed` or `unfilled` (a marketable order that found no match), never
 * `success`; `success` is a completed operation with nothing more to say (a scan, a cancel, a
 * bot's own result without a status).
 */
export const OUTCOMES = [
  'success',
  'filled',
  'resting',
  'delayed',
  'unfilled',
  'skipped',
  'rejected',
  'invalid',
  'failed',
  'error',
  'other',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * The outcomes that count as a failed operation (the TradeFailures rule, the failure notices,
 * the dashboards' red): refused by the exchange or the bot, the API failing, or a throw.
 */
export const FAILURE_OUTCOMES = ['rejected', 'invalid', 'failed', 'error'] as const satisfies readonly Outcome[];

export function isFailure(outcome: Outcome): boolean {
  return (FAILURE_OUTCOMES as readonly Outcome[]).includes(outcome);
}

/** What a trade operation does: place an order (or a batch), or cancel orders. */
export const TRADE_OPERATIONS = ['place', 'cancel'] as const;
export type TradeOperation = (typeof TRADE_OPERATIONS)[number];

export const SIDES = ['buy', 'sell', 'other'] as const;
export type Side = (typeof SIDES)[number];

/** The APIs a copy-trading bot depends on; anything else reports as `other`. */
export const KNOWN_APIS = ['clob', 'data_api', 'gamma', 'polygon_rpc'] as const;

export const API_OUTCOMES = ['success', 'failure'] as const;

/** Where the plugin's own time goes (`monitoring_self_time_seconds_total`). */
export const SELF_ACTIVITIES = ['collection', 'evaluation', 'alert_delivery'] as const;
export type SelfActivity = (typeof SELF_ACTIVITIES)[number];

/**
 * Why Telegram did not accept a notification; one value per `failed` call (a metric label: keep it
 * bounded). `unconfirmed`: Telegram answered 2xx but its body could not be read or parsed; the
 * message was probably delivered, so it is not sent again.
 */
export const FAILURE_REASONS = ['timeout', 'network', 'rate_limited', 'http_4xx', 'http_5xx', 'rejected', 'unconfirmed'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** What the monitoring circuit breaker shows the rest of the plugin. */
export interface BreakerView {
  readonly tripped: boolean;
  readonly reason: string | null;
}
