/**
 * The instrument catalog: every series the plugin exports, defined once. Nothing else in the
 * code base spells a metric name; the README series table is tested against this list.
 *
 * `name` is the exact name Prometheus sees. The OTel Prometheus exporter appends `_total` to a
 * monotonic sum only when it is missing and never appends unit suffixes, so instrument names
 * are written here exactly as exposed.
 */
import { FAILURE_REASONS, HEALTH_STATUSES, SELF_ACTIVITIES, SEVERITIES } from '../core/model.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  /** UCUM unit for OTLP consumers; '' when dimensionless. */
  readonly unit: string;
  readonly help: string;
  readonly labels: readonly string[];
  /**
   * Label values known before any event. Counters get a 0 sample for each, so `rate()` and alert
   * rules see the series from the first scrape instead of from the first event.
   */
  readonly initial?: Readonly<Record<string, readonly string[]>>;
  /** Seconds-scaled buckets (the SDK's defaults are millisecond-scaled). */
  readonly buckets?: readonly number[];
  /** One of the eight series the Python predecessor published; names frozen for existing dashboards. */
  readonly seed?: boolean;
}

/*
 * Bucket sets sized to what reads them: the dashboards' p50/p95/p99 panels (no rule reads a
 * bucket). Each bound is a line per series at every scrape and a slot the SDK copies at every
 * collection; 14 bounds for everything had made the trade histogram alone 68 of a scrape's 250
 * lines.
 */
/** A wallet scan or an order: API round trips, 5 ms (a loopback or co-located API) to 10 s (a timeout). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** An evaluation cycle: in-memory work, under a millisecond when well (measured: 0.8 ms), a second when very ill. */
const CYCLE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

export const METRICS = {
  healthChecks: {
    name: 'monitoring_health_checks_total',
    type: 'counter',
    unit: '',
    help: 'Evaluation cycles completed, by the overall status they found.',
    labels: ['status'],
    initial: { status: HEALTH_STATUSES },
    seed: true,
  },
  alertsSent: {
    name: 'monitoring_alerts_sent_total',
    type: 'counter',
    unit: '',
    help: 'Alerts delivered (Telegram accepted the message), by severity.',
    labels: ['severity'],
    initial: { severity: SEVERITIES },
    seed: true,
  },
  alertsSuppressed: {
    name: 'monitoring_alerts_suppressed_total',
    type: 'counter',
    unit: '',
    help: 'Alerts not sent because the same alert was sent within the duplicate window or the component was in cooldown.',
    labels: [],
    seed: true,
  },
  alertsFailed: {
    name: 'monitoring_alerts_failed_total',
    type: 'counter',
    unit: '',
    help: 'Alerts Telegram did not accept after the retries their failure allowed, by reason.',
    labels: ['reason'],
    initial: { reason: FAILURE_REASONS },
  },
  alertsDropped: {
    name: 'monitoring_alerts_dropped_total',
    type: 'counter',
    unit: '',
    help: 'Alerts pushed out of the full delivery queue (oldest first) before any attempt.',
    labels: [],
  },
  cpuUsage: {
    name: 'monitoring_cpu_usage_percent',
    type: 'gauge',
    unit: '%',
    help: 'System-wide CPU utilisation in percent (all cores), sampled once per evaluation cycle.',
    labels: [],
    seed: true,
  },
  memoryUsage: {
    name: 'monitoring_memory_usage_mb',
    type: 'gauge',
    unit: 'MiBy',
    help: 'Resident set size of the bot process (bot and plugin together) in MiB.',
    labels: [],
    seed: true,
  },
  componentStatus: {
    name: 'monitoring_component_status',
    type: 'gauge',
    unit: '',
    help: 'Health of each component: 1 healthy, 0 degraded, -1 critical. Absent until the component is known.',
    labels: ['component'],
    seed: true,
  },
  circuitBreaker: {
    name: 'monitoring_circuit_breaker',
    type: 'gauge',
    unit: '',
    help: "The monitoring circuit breaker: 1 tripped (monitoring's own work shed), 0 active.",
    labels: [],
    seed: true,
  },
  healthCheckDuration: {
    name: 'monitoring_health_check_duration_seconds',
    type: 'histogram',
    unit: 's',
    help: 'Duration of one evaluation cycle (breaker, health checks, alert rules).',
    labels: [],
    buckets: CYCLE_BUCKETS,
    seed: true,
  },

  // The bot's two hot paths, from the probe's TracingChannels.
  walletScanDuration: {
    name: 'monitoring_wallet_scan_duration_seconds',
    type: 'histogram',
    unit: 's',
    help: 'Duration of one wallet scan, by outcome (success, skipped, rejected, invalid, failed, error, other).',
    labels: ['outcome'],
    buckets: LATENCY_BUCKETS,
  },
  tradeExecutionDuration: {
    name: 'monitoring_trade_execution_duration_seconds',
    type: 'histogram',
    unit: 's',
    help:
      'Duration of one trade operation (an order placed or a cancel), by operation (place, cancel), side (buy, sell, other) and outcome (filled, resting, delayed, unfilled, success, skipped, rejected, invalid, failed, error, other).',
    labels: ['operation', 'side', 'outcome'],
    buckets: LATENCY_BUCKETS,
  },
  lastWalletScan: {
    name: 'monitoring_last_wallet_scan_timestamp_seconds',
    type: 'gauge',
    unit: 's',
    help: 'Unix time of the last successful wallet scan; `time() - this` is how stale the scans are.',
    labels: [],
  },
  walletsWatched: {
    name: 'monitoring_wallets_watched',
    type: 'gauge',
    unit: '',
    help: 'Wallets the bot watches, as it last reported.',
    labels: [],
  },

  // API health, from the probe or from fetch (undici) calls to known hosts.
  apiRequests: {
    name: 'monitoring_api_requests_total',
    type: 'counter',
    unit: '',
    help: 'Calls to the APIs the bot depends on, by api and outcome (success, failure).',
    labels: ['api', 'outcome'],
  },
  apiSuccessRatio: {
    name: 'monitoring_api_success_ratio',
    type: 'gauge',
    unit: '1',
    help: 'Share of successful calls per api over the last 5 minutes (absent when there were none).',
    labels: ['api'],
  },
  apiConsecutiveFailures: {
    name: 'monitoring_api_consecutive_failures',
    type: 'gauge',
    unit: '',
    help: 'Failed calls in a row per api since its last success.',
    labels: ['api'],
  },

  // Money and the bot's own risk controls.
  dailyPnl: {
    name: 'monitoring_daily_pnl_usd',
    type: 'gauge',
    unit: 'USD',
    help: "The day's profit and loss in USD, as the bot last reported it.",
    labels: [],
  },
  dailyLossRatio: {
    name: 'monitoring_daily_loss_ratio',
    type: 'gauge',
    unit: '1',
    help: "The day's loss as a share of the starting balance (0.15 = 15 %); 0 when in profit.",
    labels: [],
  },
  tradeExecutorBreaker: {
    name: 'monitoring_trade_executor_circuit_breaker',
    type: 'gauge',
    unit: '',
    help: "The bot's own trading circuit breaker, read-only: 1 open (trading halted), 0 closed.",
    labels: [],
  },

  // What the plugin costs the bot.
  eventLoopDelayP50: {
    name: 'monitoring_eventloop_delay_p50_seconds',
    type: 'gauge',
    unit: 's',
    help: "Median event-loop delay of the bot's process over the last evaluation interval (how late a 1 s timer ran).",
    labels: [],
  },
  eventLoopDelayP99: {
    name: 'monitoring_eventloop_delay_p99_seconds',
    type: 'gauge',
    unit: 's',
    help: "99th percentile event-loop delay of the bot's process over the last evaluation interval (how late a 1 s timer ran).",
    labels: [],
  },
  eventLoopDelayMax: {
    name: 'monitoring_eventloop_delay_max_seconds',
    type: 'gauge',
    unit: 's',
    help: "Longest event-loop delay of the bot's process over the last evaluation interval (how late a 1 s timer ran).",
    labels: [],
  },
  alertRoute: {
    name: 'monitoring_alert_route',
    type: 'gauge',
    unit: '',
    help: 'Who notifies Telegram of the conditions both the plugin and Prometheus evaluate (ALERT_ROUTE, or alertmanager while the plugin has no Telegram): 1 on that route.',
    labels: ['route'],
  },
  selfTime: {
    name: 'monitoring_self_time_seconds_total',
    type: 'counter',
    unit: 's',
    help: "Time the plugin itself spent, by activity (collection, evaluation, alert_delivery): its own overhead.",
    labels: ['activity'],
    initial: { activity: SELF_ACTIVITIES },
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;
export const METRIC_LIST: readonly MetricDef[] = Object.values(METRICS);
