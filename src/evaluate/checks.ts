/**
 * Health checks, one per component: pure functions of what the plugin already holds in memory.
 * None does I/O and none reads a secret, so a cycle is cheap and cannot leak.
 */
import type { Component } from '../model.js';
import type { CheckResult } from './health.js';

export interface BreakerView {
  readonly tripped: boolean;
  readonly reason: string | null;
}

export interface AlertDeliveryView {
  readonly telegramConfigured: boolean;
  /** Outcome of the most recent delivery attempt to Telegram, if any was made. */
  readonly lastDelivery: 'ok' | 'failed' | null;
}

/** What the checks read; each field is a cheap in-memory view. */
export interface CheckInputs {
  readonly breaker: BreakerView;
  readonly alerts: AlertDeliveryView;
}

export type HealthCheck = (inputs: CheckInputs) => CheckResult;

export const checkCircuitBreaker: HealthCheck = ({ breaker }) =>
  breaker.tripped
    ? { status: 'degraded', message: `monitoring circuit breaker tripped: ${breaker.reason ?? 'host under stress'}` }
    : { status: 'healthy', message: 'monitoring circuit breaker closed' };

export const checkAlertSystem: HealthCheck = ({ alerts }) => {
  if (!alerts.telegramConfigured) return { status: 'healthy', message: 'log only (Telegram not configured)' };
  if (alerts.lastDelivery === 'failed') return { status: 'degraded', message: 'last Telegram delivery failed' };
  return {
    status: 'healthy',
    message: alerts.lastDelivery === 'ok' ? 'last Telegram delivery ok' : 'Telegram configured, nothing sent yet',
  };
};

/** The checks a cycle runs, keyed by the component they judge. */
export const HEALTH_CHECKS: ReadonlyArray<readonly [Component, HealthCheck]> = [
  ['circuit_breaker', checkCircuitBreaker],
  ['alert_system', checkAlertSystem],
];
