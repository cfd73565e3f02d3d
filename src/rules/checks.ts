/**
 * Component health, one status per component, from the cycle's findings: a component is as bad as
 * the worst in-process rule that names it (src/rules/catalog.ts), so /health,
 * `monitoring_component_status` and the notifications never disagree. Pure functions of what
 * the plugin already holds; none does I/O and none reads a secret.
 */
import type { BreakerView, Component, HealthStatus, Severity } from '../core/model.js';
import type { BotState } from '../state/bot-state.js';
import type { CheckResult } from '../state/health-board.js';
import type { Condition } from './alert-history.js';

export type { BreakerView } from '../core/model.js';

export interface AlertDeliveryView {
  readonly telegramConfigured: boolean;
  /** Outcome of the most recent delivery attempt to Telegram, if any was made. */
  readonly lastDelivery: 'ok' | 'failed' | null;
  /** Notifications dropped (full queue) since the previous cycle. */
  readonly droppedSinceLastCycle?: number;
}

/** What the component checks read besides the findings; each field is a cheap in-memory view. */
export interface ComponentInputs {
  readonly breaker: BreakerView;
  readonly alerts: AlertDeliveryView;
  readonly bot: BotState;
  /** Wall clock, ms. */
  readonly now: number;
}

/** A component's check: its status and message from its findings (the conditions naming it). */
export type ComponentCheck = (findings: readonly Condition[], inputs: ComponentInputs) => CheckResult;

const STATUS_OF: Record<Severity, HealthStatus> = { critical: 'critical', warning: 'degraded', info: 'healthy' };
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

const seconds = (ms: number): string => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`;

/** The status the findings add up to, and the description of the worst one (or `ok`). */
function outcome(findings: readonly Condition[], ok: string): CheckResult {
  if (findings.length === 0) return { status: 'healthy', message: ok };
  const worst = findings.reduce((a, b) => (RANK[b.severity] > RANK[a.severity] ? b : a));
  return { status: STATUS_OF[worst.severity], message: worst.description };
}

export const checkMainBot: ComponentCheck = (findings, { bot }) => {
  // Process memory alone is the plugin's own reading, not a report from the bot.
  if (bot.mainBot === null && findings.length === 0) return { status: 'unknown', message: 'not reported yet' };
  return outcome(findings, 'configuration ok, main loop running');
};

export const checkWalletMonitor: ComponentCheck = (findings, { bot, now }) => {
  const lastScan = bot.lastSuccessfulScanAt;
  if (bot.walletMonitor === null && lastScan === null) return { status: 'unknown', message: 'not reported yet' };
  const watched = bot.walletMonitor?.walletsWatched;
  return outcome(findings, `${watched ?? '?'} wallets watched, last scan ${lastScan === null ? 'never' : `${seconds(now - lastScan)} ago`}`);
};

export const checkTradeExecutor: ComponentCheck = (findings, { bot }) => {
  if (bot.tradeExecutor === null && bot.pnl === null) return { status: 'unknown', message: 'not reported yet' };
  const loss = bot.pnl ? `daily loss ${percent(bot.pnl.lossRatio)}` : 'no PnL reported';
  return outcome(findings, `circuit breaker closed, ${loss}`);
};

export const checkCircuitBreaker: ComponentCheck = (_findings, { breaker }) =>
  breaker.tripped
    ? { status: 'degraded', message: `monitoring circuit breaker tripped: ${breaker.reason ?? 'host under stress'}` }
    : { status: 'healthy', message: 'monitoring circuit breaker closed' };

export const checkAlertSystem: ComponentCheck = (_findings, { alerts }) => {
  // No rule: an alert about alert delivery failing would go out through the failing channel
  // (Prometheus has PolymarketBotAlertDeliveryFailing).
  if (!alerts.telegramConfigured) return { status: 'healthy', message: 'log only (Telegram not configured)' };
  if (alerts.lastDelivery === 'failed') return { status: 'degraded', message: 'last Telegram delivery failed' };
  const dropped = alerts.droppedSinceLastCycle ?? 0;
  if (dropped > 0) {
    return { status: 'degraded', message: `${dropped} alerts dropped since the last check: Telegram cannot keep up (queue full)` };
  }
  return {
    status: 'healthy',
    message: alerts.lastDelivery === 'ok' ? 'last Telegram delivery ok' : 'Telegram configured, nothing sent yet',
  };
};

/** The checks a cycle runs, keyed by the component they judge. */
export const HEALTH_CHECKS: ReadonlyArray<readonly [Component, ComponentCheck]> = [
  ['main_bot', checkMainBot],
  ['wallet_monitor', checkWalletMonitor],
  ['trade_executor', checkTradeExecutor],
  ['circuit_breaker', checkCircuitBreaker],
  ['alert_system', checkAlertSystem],
];
