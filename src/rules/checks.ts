/**
 * Health checks, one per component: pure functions of what the plugin already holds in memory.
 * None does I/O and none reads a secret, so a cycle is cheap and cannot leak.
 *
 * Each check returns the component's status and its findings: the reasons it is not healthy,
 * as alert conditions. The alert rules for components are exactly these findings, so /health,
 * `monitoring_component_status` and the notifications never disagree.
 */
import type { BreakerView, Component, HealthStatus, Severity } from '../core/model.js';
import { TRADES, type BotState } from '../state/bot-state.js';
import type { Condition } from './alert-history.js';
import type { CheckResult } from '../state/health-board.js';

export type { BreakerView } from '../core/model.js';

export interface AlertDeliveryView {
  readonly telegramConfigured: boolean;
  /** Outcome of the most recent delivery attempt to Telegram, if any was made. */
  readonly lastDelivery: 'ok' | 'failed' | null;
  /** Notifications dropped (full queue) since the previous cycle. */
  readonly droppedSinceLastCycle?: number;
}

export interface Limits {
  readonly memoryThresholdMb: { readonly wallet_monitor: number; readonly trade_executor: number; readonly total_system: number };
  readonly dailyLossWarning: number;
  readonly dailyLossCritical: number;
  readonly staleAfterMs: number;
}

/** What the checks read; each field is a cheap in-memory view. */
export interface CheckInputs {
  readonly breaker: BreakerView;
  readonly alerts: AlertDeliveryView;
  readonly bot: BotState;
  /** Resident set of the whole process, MB. */
  readonly rssMb: number;
  readonly limits: Limits;
  /** Wall clock, ms. */
  readonly now: number;
  /** When monitoring started, ms: the reference for "no scan yet". */
  readonly startedAt: number;
}

export interface CheckOutcome extends CheckResult {
  readonly findings: readonly Condition[];
}

export type HealthCheck = (inputs: CheckInputs) => CheckOutcome;

/** How much older than `staleAfter` is critical. */
export const STALE_CRITICAL_FACTOR = 4;
/** Share of a memory threshold that is already degraded (the seed's 80 %). */
export const MEMORY_WARNING_SHARE = 0.8;

const STATUS_OF: Record<Severity, HealthStatus> = { critical: 'critical', warning: 'degraded', info: 'healthy' };
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

const seconds = (ms: number): string => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`;

/** The status the findings add up to, and the message of the worst one (or `ok`). */
function outcome(findings: Condition[], ok: string): CheckOutcome {
  if (findings.length === 0) return { status: 'healthy', message: ok, findings };
  const worst = findings.reduce((a, b) => (RANK[b.severity] > RANK[a.severity] ? b : a));
  return { status: STATUS_OF[worst.severity], message: worst.description, findings };
}

function memoryFinding(component: Component, label: string, usedMb: number | null | undefined, limitMb: number): Condition[] {
  if (usedMb === null || usedMb === undefined) return [];
  const severity: Severity | null = usedMb >= limitMb ? 'critical' : usedMb >= MEMORY_WARNING_SHARE * limitMb ? 'warning' : null;
  if (severity === null) return [];
  return [
    {
      rule: 'MemoryHigh',
      component,
      severity,
      title: `${label} memory high`,
      description: `${label} uses ${Math.round(usedMb)} MB of its ${limitMb} MB threshold`,
    },
  ];
}

function staleFinding(component: Component, rule: string, title: string, what: string, ageMs: number, staleAfterMs: number): Condition[] {
  if (ageMs <= staleAfterMs) return [];
  return [
    {
      rule,
      component,
      severity: ageMs > STALE_CRITICAL_FACTOR * staleAfterMs ? 'critical' : 'warning',
      title,
      description: `${what} ${seconds(ageMs)} ago (degraded after ${seconds(staleAfterMs)}, critical after ${seconds(STALE_CRITICAL_FACTOR * staleAfterMs)})`,
    },
  ];
}

export const checkMainBot: HealthCheck = ({ bot, rssMb, limits, now }) => {
  const findings: Condition[] = [];
  const main = bot.mainBot;
  for (const [flag, value] of Object.entries(main?.flags ?? {})) {
    if (!value) {
      findings.push({ rule: 'BotConfigFlagOff', component: 'main_bot', severity: 'warning', title: 'Bot configuration incomplete', description: `the bot reports ${flag} = false` });
    }
  }
  if (main?.lastHeartbeatAt != null) {
    findings.push(...staleFinding('main_bot', 'MainLoopStalled', 'Main loop stalled', 'last main-loop heartbeat', now - main.lastHeartbeatAt, limits.staleAfterMs));
  }
  findings.push(...memoryFinding('main_bot', 'The bot process', rssMb, limits.memoryThresholdMb.total_system));
  // Process memory alone is the plugin's own reading, not a report from the bot.
  if (main === null && findings.length === 0) return { status: 'unknown', message: 'not reported yet', findings };
  return outcome(findings, 'configuration ok, main loop running');
};

export const checkWalletMonitor: HealthCheck = ({ bot, limits, now, startedAt }) => {
  const monitor = bot.walletMonitor;
  const lastScan = bot.lastSuccessfulScanAt;
  if (monitor === null && lastScan === null) return { status: 'unknown', message: 'not reported yet', findings: [] };
  const findings = [
    ...memoryFinding('wallet_monitor', 'The wallet monitor', monitor?.memoryMb, limits.memoryThresholdMb.wallet_monitor),
    ...staleFinding(
      'wallet_monitor',
      'WalletScansStale',
      'Wallet scans stale',
      lastScan === null ? 'no successful wallet scan since monitoring started' : 'last successful wallet scan',
      now - (lastScan ?? startedAt),
      limits.staleAfterMs,
    ),
  ];
  const watched = monitor?.walletsWatched;
  return outcome(findings, `${watched ?? '?'} wallets watched, last scan ${lastScan === null ? 'never' : `${seconds(now - lastScan)} ago`}`);
};

export const checkTradeExecutor: HealthCheck = ({ bot, limits }) => {
  const executor = bot.tradeExecutor;
  const pnl = bot.pnl;
  if (executor === null && pnl === null) return { status: 'unknown', message: 'not reported yet', findings: [] };
  const findings: Condition[] = [];
  if (executor?.circuitBreakerOpen) {
    findings.push({
      rule: 'TradeCircuitBreakerOpen',
      component: 'trade_executor',
      severity: 'warning',
      title: "Bot's trading circuit breaker open",
      description: `trading halted by the bot's own circuit breaker${executor.reason ? `: ${executor.reason}` : ''}`,
    });
  }
  if (pnl && pnl.lossRatio >= limits.dailyLossWarning) {
    const critical = pnl.lossRatio >= limits.dailyLossCritical;
    findings.push({
      rule: 'DailyLoss',
      component: 'trade_executor',
      severity: critical ? 'critical' : 'warning',
      title: critical ? 'Daily loss limit reached' : 'Daily loss nearing its limit',
      description: `daily loss ${percent(pnl.lossRatio)} of the starting balance (${pnl.pnlUsd.toFixed(2)} USD of ${pnl.startingBalanceUsd.toFixed(2)} USD); warning at ${percent(limits.dailyLossWarning)}, critical at ${percent(limits.dailyLossCritical)}`,
    });
  }
  findings.push(...memoryFinding('trade_executor', 'The trade executor', executor?.memoryMb, limits.memoryThresholdMb.trade_executor));
  const loss = pnl ? `daily loss ${percent(pnl.lossRatio)}` : 'no PnL reported';
  return outcome(findings, `circuit breaker closed, ${loss}`);
};

export const checkCircuitBreaker: HealthCheck = ({ breaker }) =>
  breaker.tripped
    ? { status: 'degraded', message: `monitoring circuit breaker tripped: ${breaker.reason ?? 'host under stress'}`, findings: [] }
    : { status: 'healthy', message: 'monitoring circuit breaker closed', findings: [] };

export const checkAlertSystem: HealthCheck = ({ alerts }) => {
  // No finding: an alert about alert delivery failing would go out through the failing channel.
  if (!alerts.telegramConfigured) return { status: 'healthy', message: 'log only (Telegram not configured)', findings: [] };
  if (alerts.lastDelivery === 'failed') return { status: 'degraded', message: 'last Telegram delivery failed', findings: [] };
  const dropped = alerts.droppedSinceLastCycle ?? 0;
  if (dropped > 0) {
    return { status: 'degraded', message: `${dropped} alerts dropped since the last check: Telegram cannot keep up (queue full)`, findings: [] };
  }
  return {
    status: 'healthy',
    message: alerts.lastDelivery === 'ok' ? 'last Telegram delivery ok' : 'Telegram configured, nothing sent yet',
    findings: [],
  };
};

/** The checks a cycle runs, keyed by the component they judge. */
export const HEALTH_CHECKS: ReadonlyArray<readonly [Component, HealthCheck]> = [
  ['main_bot', checkMainBot],
  ['wallet_monitor', checkWalletMonitor],
  ['trade_executor', checkTradeExecutor],
  ['circuit_breaker', checkCircuitBreaker],
  ['alert_system', checkAlertSystem],
];

/** Below this many trade operations in the window a failure share says little: each failure already has its own notice. */
export const TRADE_FAILURES_MIN_OPERATIONS = 3;
/** The share of failed trade operations over 5 minutes above which TradeFailures fires (the Prometheus rule's 0.5). */
export const TRADE_FAILURES_SHARE = 0.5;

/**
 * Most trade operations failing: the CLOB down or refusing the bot's orders. Its own component,
 * `trades`, so its cooldown is not shared with the daily-loss and breaker alerts of trade_executor.
 */
export function tradeConditions(bot: BotState): Condition[] {
  const { ok, failed } = bot.trades.counts(TRADES);
  const total = ok + failed;
  if (total < TRADE_FAILURES_MIN_OPERATIONS || failed / total <= TRADE_FAILURES_SHARE) return [];
  return [
    {
      rule: 'TradeFailures',
      component: 'trades',
      severity: 'warning',
      title: 'Most trades are failing',
      description: `${failed} of the last ${total} trade operations in 5 minutes failed (rejected, invalid, failed or error)`,
    },
  ];
}

/** API rules: not a component of their own, so their conditions carry `api:<name>`. */
export function apiConditions(bot: BotState, successThreshold: number, failureCountThreshold: number): Condition[] {
  const conditions: Condition[] = [];
  for (const api of bot.apis.apis()) {
    const ratio = bot.apis.successRatio(api);
    if (ratio !== undefined && ratio < successThreshold) {
      conditions.push({
        rule: 'ApiSuccessRatioLow',
        component: `api:${api}`,
        severity: 'warning',
        title: `${api} API degraded`,
        description: `${api} success ratio ${percent(ratio)} over the last 5 minutes, below ${percent(successThreshold)}`,
      });
    }
    const failures = bot.apis.consecutiveFailures(api);
    if (failures >= failureCountThreshold) {
      conditions.push({
        rule: 'ApiConsecutiveFailures',
        component: `api:${api}`,
        severity: 'critical',
        title: `${api} API failing`,
        description: `${failures} ${api} calls failed in a row (threshold ${failureCountThreshold})`,
      });
    }
  }
  return conditions;
}
