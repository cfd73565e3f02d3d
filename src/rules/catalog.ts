/**
 * The rule catalog: every alert condition, defined once. From it come the plugin's in-process
 * evaluation, the Prometheus rules file (scripts/prometheus-rules.mjs writes
 * prometheus/rules/polymarket-bot.yml), the alert reference and runbook (docs/alerts.md) and the
 * dashboards' threshold lines. One name per condition everywhere: the Telegram message the
 * plugin sends and the one Alertmanager sends for the same loss both say
 * PolymarketBotDailyLossCritical.
 *
 * A rule is evaluated in process (on the collected metric data the evaluating reader is handed,
 * plus what only the process knows), by Prometheus, or both. The in-process evaluation tells at
 * the first cycle that sees the condition; Prometheus waits the rule's `for`. Where both evaluate,
 * ALERT_ROUTE decides who notifies (see `notifiesInProcess`).
 *
 * Thresholds come from the configuration (`RuleSettings`); the generated rules file carries the
 * defaults, and `npm run rules` regenerates it for a deployment's own values.
 */
import type { AlertRoute } from '../core/config.js';
import type { Severity } from '../core/model.js';
import { isFailure, type Outcome } from '../core/model.js';
import { METRICS } from '../metrics/catalog.js';
import type { BotState } from '../state/bot-state.js';
import type { CollectedMetrics } from './collected.js';

/** The thresholds the rules read, from the configuration. */
export interface RuleSettings {
  readonly dailyLossWarning: number;
  readonly dailyLossCritical: number;
  readonly apiSuccessThreshold: number;
  readonly apiFailureCountThreshold: number;
  readonly staleAfterSeconds: number;
  readonly memoryThresholdMb: { readonly wallet_monitor: number; readonly trade_executor: number; readonly total_system: number };
}

/** The configuration fields the rules read, by their MonitoringConfig names. */
export interface RuleConfig {
  readonly dailyLossWarningPercent: number;
  readonly dailyLossCriticalPercent: number;
  readonly apiSuccessThreshold: number;
  readonly apiFailureCountThreshold: number;
  readonly staleAfterSeconds: number;
  readonly memoryThresholdMb: RuleSettings['memoryThresholdMb'];
}

export function ruleSettings(config: RuleConfig): RuleSettings {
  return {
    dailyLossWarning: config.dailyLossWarningPercent,
    dailyLossCritical: config.dailyLossCriticalPercent,
    apiSuccessThreshold: config.apiSuccessThreshold,
    apiFailureCountThreshold: config.apiFailureCountThreshold,
    staleAfterSeconds: config.staleAfterSeconds,
    memoryThresholdMb: config.memoryThresholdMb,
  };
}

/** How much older than STALE_AFTER_SECONDS a heartbeat or scan is critical. */
export const STALE_CRITICAL_FACTOR = 4;
/** Share of a memory threshold that is already a warning (the seed's 80 %). */
export const MEMORY_WARNING_SHARE = 0.8;
/** The window of the trade-failure share, as Prometheus's [5m]. */
export const TRADE_FAILURES_WINDOW_MS = 5 * 60_000;
/** Below this many trade operations in the window a failure share says little: each failure has its own notice. */
export const TRADE_FAILURES_MIN_OPERATIONS = 3;
/** The share of failed trade operations over the window above which PolymarketBotTradeFailures fires. */
export const TRADE_FAILURES_SHARE = 0.5;
/** Event-loop p99 delay above which the loop is lagging, seconds. */
export const EVENT_LOOP_LAG_SECONDS = 0.1;
/** The Prometheus job the shipped scrape configuration gives the bot. */
export const JOB = 'polymarket-bot';
/** Labels every monitoring_* sample carries that an alert aggregates away (two versions side by side during an upgrade). */
const SCOPE = 'otel_scope_name, otel_scope_version';

/** What the in-process rules read besides the collected data. */
export interface ProcessFacts {
  readonly bot: BotState;
  /** Resident set of the whole process, MB (the cycle's own reading). */
  readonly rssMb: number;
  /** When monitoring started, ms: the reference for "no scan yet". */
  readonly startedAt: number;
}

export interface RuleInput {
  readonly metrics: CollectedMetrics;
  readonly process: ProcessFacts;
  readonly settings: RuleSettings;
  /** Wall clock, ms. */
  readonly now: number;
}

/** One place a rule holds: the component (or `api:<name>`, `trades`) and what to say. */
export interface Finding {
  readonly component: string;
  readonly description: string;
}

export type RuleGroup = 'trading' | 'wallet-scans' | 'bot' | 'apis' | 'health' | 'availability' | 'meta';

/** Which ALERT_ON_* setting lets the plugin's notice of a rule through to Telegram. */
export type NoticeSetting = 'error' | 'circuit_breaker' | 'trade';

/** A text that may name a threshold. */
export type Text = string | ((s: RuleSettings) => string);

export interface PrometheusRule {
  readonly expr: (s: RuleSettings) => string;
  readonly for?: string;
  /** Alertmanager's text: Go template over $labels and $value. */
  readonly description: Text;
  /** Why the expression is what it is, written above it in the rules file. */
  readonly comment?: string;
}

export interface InProcessRule {
  /** Components whose /health status this rule's findings set (documentation; findings carry their own). */
  readonly component: string;
  readonly evaluate: (input: RuleInput) => readonly Finding[];
}

export interface RuleDef {
  /** The one name: Prometheus alertname, Telegram and log notices, runbook anchor. */
  readonly name: string;
  readonly severity: Severity | 'none';
  /** Rules of one family and instance: the more severe inhibits the less (Alertmanager), escalates it (the plugin). */
  readonly family: string;
  readonly group: RuleGroup;
  /** One static sentence: the Telegram title and Alertmanager's summary. */
  readonly summary: Text;
  readonly notice: NoticeSetting;
  readonly prometheus?: PrometheusRule;
  readonly inProcess?: InProcessRule;
  /** A notice the plugin sends per event (a trade, a breaker transition): no condition to evaluate. */
  readonly event?: true;
  /** The line a dashboard draws for it: the metric and the threshold value. */
  readonly threshold?: { readonly metric: string; readonly value: (s: RuleSettings) => number };
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`;
const promPercent = (ratio: number): string => `${+(ratio * 100).toFixed(4)}%`;
const duration = (ms: number): string => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);
const promDuration = (seconds: number): string =>
  seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;
const gauge = (metric: string): string => `max without (${SCOPE}) (${metric})`;
const FAILURE_OUTCOMES = 'error|failed|rejected|invalid';

function dailyLoss(input: RuleInput, atLeast: number): Finding[] {
  const ratio = input.metrics.value(METRICS.dailyLossRatio.name);
  if (ratio === undefined || !(ratio >= atLeast)) return [];
  const { dailyLossWarning, dailyLossCritical } = input.settings;
  const pnl = input.process.bot.pnl;
  const amounts = pnl ? ` (${pnl.pnlUsd.toFixed(2)} USD of ${pnl.startingBalanceUsd.toFixed(2)} USD)` : '';
  return [
    {
      component: 'trade_executor',
      description: `daily loss ${percent(ratio)} of the starting balance${amounts}; warning at ${percent(dailyLossWarning)}, critical at ${percent(dailyLossCritical)}`,
    },
  ];
}

/** Age of the last successful scan, ms; from monitoring's start when the bot reports scanning but none succeeded yet. */
function scanAge(input: RuleInput): { ageMs: number; never: boolean } | undefined {
  const last = input.metrics.value(METRICS.lastWalletScan.name);
  if (last !== undefined) return { ageMs: input.now - last * 1000, never: false };
  if (input.process.bot.walletMonitor === null) return undefined;
  return { ageMs: input.now - input.process.startedAt, never: true };
}

function staleScans(input: RuleInput, factor: number): Finding[] {
  const age = scanAge(input);
  const staleMs = input.settings.staleAfterSeconds * 1000;
  if (!age || age.ageMs <= factor * staleMs) return [];
  const what = age.never ? 'no successful wallet scan since monitoring started' : 'last successful wallet scan';
  return [
    {
      component: 'wallet_monitor',
      description: `${what} ${duration(age.ageMs)} ago (degraded after ${duration(staleMs)}, critical after ${duration(STALE_CRITICAL_FACTOR * staleMs)})`,
    },
  ];
}

function staleHeartbeat(input: RuleInput, factor: number): Finding[] {
  const at = input.process.bot.mainBot?.lastHeartbeatAt;
  const staleMs = input.settings.staleAfterSeconds * 1000;
  if (at == null || input.now - at <= factor * staleMs) return [];
  return [
    {
      component: 'main_bot',
      description: `last main-loop heartbeat ${duration(input.now - at)} ago (degraded after ${duration(staleMs)}, critical after ${duration(STALE_CRITICAL_FACTOR * staleMs)})`,
    },
  ];
}

type MemoryComponent = 'main_bot' | 'wallet_monitor' | 'trade_executor';

function memory(input: RuleInput, share: number, below: number): Finding[] {
  const { bot, rssMb } = input.process;
  const { memoryThresholdMb } = input.settings;
  const readings: [MemoryComponent, string, number | null | undefined, number][] = [
    ['main_bot', 'The bot process', rssMb, memoryThresholdMb.total_system],
    ['wallet_monitor', 'The wallet monitor', bot.walletMonitor?.memoryMb, memoryThresholdMb.wallet_monitor],
    ['trade_executor', 'The trade executor', bot.tradeExecutor?.memoryMb, memoryThresholdMb.trade_executor],
  ];
  const findings: Finding[] = [];
  for (const [component, label, used, limit] of readings) {
    if (used === null || used === undefined || used < share * limit || used >= below * limit) continue;
    findings.push({ component, description: `${label} uses ${Math.round(used)} MB of its ${limit} MB threshold` });
  }
  return findings;
}

/** Trade operations that ended in a failure, and all of them, over the window (the histogram's count). */
function tradeCounts(input: RuleInput): { failed: number; total: number } {
  const name = METRICS.tradeExecutionDuration.name;
  const total = input.metrics.increase(name, TRADE_FAILURES_WINDOW_MS);
  const failed = input.metrics.increase(name, TRADE_FAILURES_WINDOW_MS, (labels) => isFailure(labels.outcome as Outcome));
  return { failed, total };
}

const runbookBase = 'https://github.com/polymarket-bot-monitoring/polymarket-bot-monitoring/blob/main/docs/alerts.md';
/** Where a rule's runbook section is: docs/alerts.md, anchor runbook-<name in lower case>. */
export const runbookUrl = (name: string): string => `${runbookBase}#runbook-${name.toLowerCase()}`;

export const RULES = [
  {
    name: 'PolymarketBotDailyLossWarning',
    severity: 'warning',
    family: 'daily_loss',
    group: 'trading',
    summary: "The bot's daily loss has reached the warning level.",
    notice: 'error',
    threshold: { metric: METRICS.dailyLossRatio.name, value: (s) => s.dailyLossWarning },
    prometheus: {
      expr: (s) => `${gauge(METRICS.dailyLossRatio.name)} >= ${s.dailyLossWarning}`,
      for: '1m',
      description: (s) =>
        `The bot on {{ $labels.instance }} has lost {{ $value | humanizePercentage }} of its starting balance today (warning from ${promPercent(s.dailyLossWarning)}, critical from ${promPercent(s.dailyLossCritical)}).`,
    },
    inProcess: { component: 'trade_executor', evaluate: (input) => dailyLoss(input, input.settings.dailyLossWarning) },
  },
  {
    name: 'PolymarketBotDailyLossCritical',
    severity: 'critical',
    family: 'daily_loss',
    group: 'trading',
    summary: "The bot's daily loss has reached the critical level.",
    notice: 'error',
    threshold: { metric: METRICS.dailyLossRatio.name, value: (s) => s.dailyLossCritical },
    prometheus: {
      expr: (s) => `${gauge(METRICS.dailyLossRatio.name)} >= ${s.dailyLossCritical}`,
      for: '1m',
      description: (s) =>
        `The bot on {{ $labels.instance }} has lost {{ $value | humanizePercentage }} of its starting balance today, at or past the ${promPercent(s.dailyLossCritical)} limit.`,
    },
    inProcess: { component: 'trade_executor', evaluate: (input) => dailyLoss(input, input.settings.dailyLossCritical) },
  },
  {
    name: 'PolymarketBotTradeCircuitBreakerOpen',
    severity: 'warning',
    family: 'trade_circuit_breaker',
    group: 'trading',
    summary: "The bot's own trading circuit breaker is open; it copies no trades.",
    notice: 'circuit_breaker',
    prometheus: {
      expr: () => `${gauge(METRICS.tradeExecutorBreaker.name)} == 1`,
      for: '1m',
      description:
        'The trade executor of the bot on {{ $labels.instance }} reports its circuit breaker open (value {{ $value }}); no trade is being copied until it closes.',
    },
    inProcess: {
      component: 'trade_executor',
      evaluate: (input) => {
        if (input.metrics.value(METRICS.tradeExecutorBreaker.name) !== 1) return [];
        const reason = input.process.bot.tradeExecutor?.reason;
        return [{ component: 'trade_executor', description: `trading halted by the bot's own circuit breaker${reason ? `: ${reason}` : ''}` }];
      },
    },
  },
  {
    name: 'PolymarketBotTradeFailures',
    severity: 'warning',
    family: 'trade_failures',
    group: 'trading',
    summary: 'Most copied trades are failing.',
    notice: 'error',
    threshold: { metric: METRICS.tradeExecutionDuration.name, value: () => TRADE_FAILURES_SHARE },
    prometheus: {
      expr: () => {
        const count = `${METRICS.tradeExecutionDuration.name}_count`;
        return [
          '(',
          `  sum by (job, instance) (rate(${count}{outcome=~"${FAILURE_OUTCOMES}"}[5m]))`,
          '  /',
          `  sum by (job, instance) (rate(${count}[5m]))`,
          `) > ${TRADE_FAILURES_SHARE}`,
          `and on (job, instance) sum by (job, instance) (increase(${count}[5m])) >= ${TRADE_FAILURES_MIN_OPERATIONS}`,
        ].join('\n');
      },
      for: '1m',
      description:
        '{{ $value | humanizePercentage }} of the trades the bot on {{ $labels.instance }} tried to copy in the last 5 minutes ended in error, failed, rejected or invalid.',
      comment: `At least ${TRADE_FAILURES_MIN_OPERATIONS} operations in the window: below that each failure has its own notice.`,
    },
    inProcess: {
      component: 'trades',
      // Its own component, so its cooldown is not shared with the daily-loss and breaker alerts of trade_executor.
      evaluate: (input) => {
        const { failed, total } = tradeCounts(input);
        if (total < TRADE_FAILURES_MIN_OPERATIONS || failed / total <= TRADE_FAILURES_SHARE) return [];
        return [
          {
            component: 'trades',
            description: `${Math.round(failed)} of the last ${Math.round(total)} trade operations in 5 minutes failed (rejected, invalid, failed or error)`,
          },
        ];
      },
    },
  },
  {
    name: 'PolymarketBotWalletScansStale',
    severity: 'warning',
    family: 'wallet_scans',
    group: 'wallet-scans',
    summary: (s) => `No successful wallet scan for more than ${promDuration(s.staleAfterSeconds)}.`,
    notice: 'error',
    threshold: { metric: METRICS.lastWalletScan.name, value: (s) => s.staleAfterSeconds },
    prometheus: {
      expr: (s) => `time() - ${gauge(METRICS.lastWalletScan.name)} > ${s.staleAfterSeconds}`,
      for: '2m',
      description:
        'The last successful wallet scan of the bot on {{ $labels.instance }} was {{ $value | humanizeDuration }} ago.',
      comment: "The plugin's own evaluation says the same from inside; this one still works when it has stopped.",
    },
    inProcess: { component: 'wallet_monitor', evaluate: (input) => staleScans(input, 1) },
  },
  {
    name: 'PolymarketBotWalletScansStalled',
    severity: 'critical',
    family: 'wallet_scans',
    group: 'wallet-scans',
    summary: (s) => `No successful wallet scan for more than ${promDuration(STALE_CRITICAL_FACTOR * s.staleAfterSeconds)}.`,
    notice: 'error',
    threshold: { metric: METRICS.lastWalletScan.name, value: (s) => STALE_CRITICAL_FACTOR * s.staleAfterSeconds },
    prometheus: {
      expr: (s) => {
        const count = `${METRICS.walletScanDuration.name}_count`;
        const windowMinutes = Math.max(1, Math.ceil((STALE_CRITICAL_FACTOR * s.staleAfterSeconds) / 60));
        return [
          `time() - ${gauge(METRICS.lastWalletScan.name)} > ${STALE_CRITICAL_FACTOR * s.staleAfterSeconds}`,
          'or on (job, instance)',
          '(',
          '  (',
          `      sum by (job, instance) (rate(${count}{outcome="success"}[${windowMinutes}m]))`,
          '    or',
          `      0 * group by (job, instance) (${count})`,
          '  ) == 0',
          `  and on (job, instance) up{job="${JOB}"} == 1`,
          ')',
        ].join('\n');
      },
      for: '1m',
      description:
        'The bot on {{ $labels.instance }} is up but none of its wallet scans has succeeded for a long time; it copies nothing it would have found by scanning.',
      comment:
        'The timestamp form is the plugin\'s own condition; the second form covers a bot whose scans have failed from the start, which never publishes a last-scan timestamp. A bot that never scans at all has no scan series and is not flagged.',
    },
    inProcess: { component: 'wallet_monitor', evaluate: (input) => staleScans(input, STALE_CRITICAL_FACTOR) },
  },
  {
    name: 'PolymarketBotMainLoopStale',
    severity: 'warning',
    family: 'main_loop',
    group: 'bot',
    summary: "The bot's main loop has not reported a heartbeat for a while.",
    notice: 'error',
    inProcess: { component: 'main_bot', evaluate: (input) => staleHeartbeat(input, 1) },
  },
  {
    name: 'PolymarketBotMainLoopStalled',
    severity: 'critical',
    family: 'main_loop',
    group: 'bot',
    summary: "The bot's main loop has stalled.",
    notice: 'error',
    inProcess: { component: 'main_bot', evaluate: (input) => staleHeartbeat(input, STALE_CRITICAL_FACTOR) },
  },
  {
    name: 'PolymarketBotConfigFlagOff',
    severity: 'warning',
    family: 'bot_config',
    group: 'bot',
    summary: "The bot's configuration is incomplete.",
    notice: 'error',
    inProcess: {
      component: 'main_bot',
      evaluate: (input) =>
        Object.entries(input.process.bot.mainBot?.flags ?? {})
          .filter(([, value]) => !value)
          .map(([flag]) => ({ component: 'main_bot', description: `the bot reports ${flag} = false` })),
    },
  },
  {
    name: 'PolymarketBotMemoryHigh',
    severity: 'warning',
    family: 'memory',
    group: 'bot',
    summary: 'A component of the bot is using most of its memory threshold.',
    notice: 'error',
    inProcess: { component: 'main_bot, wallet_monitor, trade_executor', evaluate: (input) => memory(input, MEMORY_WARNING_SHARE, 1) },
  },
  {
    name: 'PolymarketBotMemoryCritical',
    severity: 'critical',
    family: 'memory',
    group: 'bot',
    summary: 'A component of the bot is at or over its memory threshold.',
    notice: 'error',
    inProcess: { component: 'main_bot, wallet_monitor, trade_executor', evaluate: (input) => memory(input, 1, Infinity) },
  },
  {
    name: 'PolymarketBotApiSuccessRatioLow',
    severity: 'warning',
    family: 'api',
    group: 'apis',
    summary: 'An API the bot depends on is failing often.',
    notice: 'error',
    threshold: { metric: METRICS.apiSuccessRatio.name, value: (s) => s.apiSuccessThreshold },
    prometheus: {
      expr: (s) => `${gauge(METRICS.apiSuccessRatio.name)} < ${s.apiSuccessThreshold}`,
      for: '2m',
      description: (s) =>
        `Only {{ $value | humanizePercentage }} of the calls of the bot on {{ $labels.instance }} to the {{ $labels.api }} API succeeded over the last 5 minutes (threshold ${promPercent(s.apiSuccessThreshold)}).`,
    },
    inProcess: {
      component: 'api:<name>',
      evaluate: (input) =>
        input.metrics
          .gauge(METRICS.apiSuccessRatio.name)
          .filter((sample) => sample.value < input.settings.apiSuccessThreshold)
          .map(({ labels, value }) => ({
            component: `api:${labels.api}`,
            description: `${labels.api} success ratio ${percent(value)} over the last 5 minutes, below ${percent(input.settings.apiSuccessThreshold)}`,
          })),
    },
  },
  {
    name: 'PolymarketBotApiConsecutiveFailures',
    severity: 'critical',
    family: 'api',
    group: 'apis',
    summary: 'Calls to an API the bot depends on keep failing.',
    notice: 'error',
    threshold: { metric: METRICS.apiConsecutiveFailures.name, value: (s) => s.apiFailureCountThreshold },
    prometheus: {
      expr: (s) => `${gauge(METRICS.apiConsecutiveFailures.name)} >= ${s.apiFailureCountThreshold}`,
      for: '1m',
      description:
        'The last {{ $value | humanize }} calls of the bot on {{ $labels.instance }} to the {{ $labels.api }} API failed in a row.',
    },
    inProcess: {
      component: 'api:<name>',
      evaluate: (input) =>
        input.metrics
          .gauge(METRICS.apiConsecutiveFailures.name)
          .filter((sample) => sample.value >= input.settings.apiFailureCountThreshold)
          .map(({ labels, value }) => ({
            component: `api:${labels.api}`,
            description: `${value} ${labels.api} calls failed in a row (threshold ${input.settings.apiFailureCountThreshold})`,
          })),
    },
  },
  {
    name: 'PolymarketBotComponentCritical',
    severity: 'critical',
    family: 'component',
    group: 'health',
    summary: 'A component of the bot reports critical.',
    notice: 'error',
    prometheus: {
      expr: () => `${gauge(METRICS.componentStatus.name)} == -1`,
      for: '1m',
      description:
        'Component {{ $labels.component }} of the bot on {{ $labels.instance }} reports critical (status {{ $value }}); GET /health on the bot says why.',
      comment: 'The plugin notifies the findings behind a status (the rules above), not the status itself.',
    },
  },
  {
    name: 'PolymarketBotComponentDegraded',
    severity: 'warning',
    family: 'component',
    group: 'health',
    summary: 'A component of the bot has been degraded for 10 minutes.',
    notice: 'error',
    prometheus: {
      expr: () => `${gauge(METRICS.componentStatus.name)} == 0`,
      for: '10m',
      description:
        'Component {{ $labels.component }} of the bot on {{ $labels.instance }} has reported degraded (status {{ $value }}) for 10 minutes; GET /health on the bot says why.',
    },
  },
  {
    name: 'PolymarketBotMonitoringCircuitBreakerTripped',
    severity: 'warning',
    family: 'monitoring_circuit_breaker',
    group: 'health',
    summary: 'The monitoring circuit breaker has tripped; the plugin has shed its own extra work.',
    notice: 'circuit_breaker',
    event: true,
    prometheus: {
      expr: () => `${gauge(METRICS.circuitBreaker.name)} == 1`,
      for: '1m',
      description:
        'The monitoring circuit breaker of the bot on {{ $labels.instance }} is tripped (value {{ $value }}) because the plugin went over its own CPU or memory budget or the host is short of CPU or memory; spans and per-trade notices are off until it recovers, in-process health checks and alerts go on.',
    },
  },
  {
    name: 'PolymarketBotMonitoringCircuitBreakerGaveUp',
    severity: 'warning',
    family: 'monitoring_circuit_breaker',
    group: 'health',
    summary: 'The monitoring circuit breaker gave up recovering.',
    notice: 'circuit_breaker',
    event: true,
  },
  {
    name: 'PolymarketBotMonitoringCircuitBreakerRecovered',
    severity: 'info',
    family: 'monitoring_circuit_breaker',
    group: 'health',
    summary: 'The monitoring circuit breaker recovered.',
    notice: 'circuit_breaker',
    event: true,
  },
  {
    name: 'PolymarketBotMonitoringCircuitBreakerReset',
    severity: 'info',
    family: 'monitoring_circuit_breaker',
    group: 'health',
    summary: 'The monitoring circuit breaker was reset.',
    notice: 'circuit_breaker',
    event: true,
  },
  {
    name: 'PolymarketBotTradeFailed',
    severity: 'warning',
    family: 'trade_notice',
    group: 'trading',
    summary: 'A copied trade failed.',
    notice: 'trade',
    event: true,
  },
  {
    name: 'PolymarketBotTradeExecuted',
    severity: 'info',
    family: 'trade_notice',
    group: 'trading',
    summary: 'A trade was copied.',
    notice: 'trade',
    event: true,
  },
  {
    name: 'PolymarketBotAlertsDropped',
    severity: 'info',
    family: 'alert_delivery',
    group: 'health',
    summary: 'Telegram could not keep up: routine notices were dropped.',
    notice: 'error',
    event: true,
  },
  {
    name: 'PolymarketBotAlertDeliveryFailing',
    severity: 'warning',
    family: 'alert_delivery',
    group: 'health',
    summary: "The plugin's Telegram alerts are not being delivered.",
    notice: 'error',
    prometheus: {
      expr: () =>
        [
          'sum by (job, instance) (',
          `  increase(${METRICS.alertsFailed.name}[15m]) or increase(${METRICS.alertsDropped.name}[15m])`,
          ') > 0',
        ].join('\n'),
      for: '5m',
      description:
        '{{ $value | humanize }} alerts of the bot on {{ $labels.instance }} were not delivered in the last 15 minutes: not accepted by Telegram, or dropped from a full queue.',
      comment:
        'Dropped from a full queue or refused by Telegram: either way the alert never arrived. `or` keeps both (their label sets differ: only failed has `reason`) and the sum adds them.',
    },
  },
  {
    name: 'PolymarketBotEventLoopLagHigh',
    severity: 'warning',
    family: 'event_loop',
    group: 'health',
    summary: "The bot's event loop is lagging.",
    notice: 'error',
    threshold: { metric: METRICS.eventLoopDelayP99.name, value: () => EVENT_LOOP_LAG_SECONDS },
    prometheus: {
      expr: () => `${gauge(METRICS.eventLoopDelayP99.name)} > ${EVENT_LOOP_LAG_SECONDS}`,
      for: '5m',
      description:
        'The 99th percentile event-loop delay of the bot on {{ $labels.instance }} is {{ $value | humanizeDuration }}; every timer, request and trade waits that long.',
    },
  },
  {
    name: 'PolymarketBotHealthChecksStopped',
    severity: 'warning',
    family: 'health_checks',
    group: 'health',
    summary: 'The plugin has stopped running its health checks.',
    notice: 'error',
    prometheus: {
      expr: () =>
        [
          `sum by (job, instance) (increase(${METRICS.healthChecks.name}[10m])) == 0`,
          `and on (job, instance) up{job="${JOB}"} == 1`,
          `unless on (job, instance) ${gauge(METRICS.circuitBreaker.name)} == 1`,
        ].join('\n'),
      for: '5m',
      description:
        'The bot on {{ $labels.instance }} is up but has completed {{ $value | humanize }} health-check cycles in the last 10 minutes; its in-process checks and Telegram alerts are not running.',
      comment:
        "The plugin's evaluation cycles stopped while /metrics still answers: the in-process checks and Telegram alerts are blind.",
    },
  },
  {
    name: 'PolymarketBotDown',
    severity: 'critical',
    family: 'availability',
    group: 'availability',
    summary: 'Prometheus cannot scrape the bot.',
    notice: 'error',
    prometheus: {
      expr: () => `up{job="${JOB}"} == 0`,
      for: '1m',
      description:
        'The metrics endpoint {{ $labels.instance }} of job {{ $labels.job }} has not answered a scrape for a minute (up {{ $value }}); the bot is down, or its metrics server is not listening there.',
    },
  },
  {
    name: 'PolymarketBotAbsent',
    severity: 'critical',
    family: 'availability',
    group: 'availability',
    summary: 'Prometheus has no scrape target for the bot.',
    notice: 'error',
    prometheus: {
      expr: () => `absent(up{job="${JOB}"})`,
      for: '5m',
      description:
        'No target of job {{ $labels.job }} has been scraped for 5 minutes; the scrape configuration or service discovery has lost the bot.',
    },
  },
  {
    name: 'PolymarketBotAlertsRoutedToPlugin',
    severity: 'none',
    family: 'alert_route',
    group: 'meta',
    summary: 'The plugin notifies Telegram itself for the conditions it evaluates (ALERT_ROUTE=plugin).',
    notice: 'error',
    prometheus: {
      expr: () => `${gauge(`${METRICS.alertRoute.name}{route="plugin"}`)} == 1`,
      description:
        'The plugin on {{ $labels.instance }} sends its own alerts to Telegram (ALERT_ROUTE=plugin); Alertmanager inhibits its copy of every alert labelled in_process="true" for this instance, so nobody gets two messages for one condition.',
      comment: 'Always firing while the plugin routes alerts itself: the source of the inhibit rule in deploy/alertmanager/alertmanager.yml.',
    },
  },
  {
    name: 'PolymarketBotWatchdog',
    severity: 'none',
    family: 'watchdog',
    group: 'meta',
    summary: 'Always firing, to prove the alerting pipeline works.',
    notice: 'error',
    prometheus: {
      expr: () => 'vector(1)',
      description:
        "This alert fires for as long as Prometheus evaluates the polymarket-bot rules (value {{ $value }}); if a dead man's switch stops receiving it, alerting is broken.",
      comment:
        "Always firing: proves that rule evaluation, Alertmanager and the route work. Alertmanager sends it to a dead man's switch (or nowhere); its absence there is the alert.",
    },
  },
] as const satisfies readonly RuleDef[];

export type RuleName = (typeof RULES)[number]['name'];

/** A text of the catalog, for these thresholds. */
export function textFor(text: Text, settings: RuleSettings): string {
  return typeof text === 'function' ? text(settings) : text;
}

export function ruleNamed(name: RuleName): RuleDef {
  return RULES.find((rule) => rule.name === name)!;
}


/**
 * Whether the plugin's own notice of this rule goes to Telegram under the route: what only the
 * plugin sees (per-trade notices, process-only conditions) always does; what Prometheus evaluates
 * too (the monitoring breaker's trip among them) goes from the plugin under `plugin` and `both`,
 * from Alertmanager only under `alertmanager`. (Under `plugin`, Alertmanager inhibits its copy: PolymarketBotAlertsRoutedToPlugin.)
 */
export function notifiesInProcess(rule: RuleDef, route: AlertRoute): boolean {
  return route !== 'alertmanager' || rule.prometheus === undefined;
}
