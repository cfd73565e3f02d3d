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
