/**
 * The instrument catalog: every series the plugin exports, defined once. Nothing else in the
 * code base spells a metric name; the README series table is tested against this list.
 *
 * `name` is the exact name Prometheus sees. The OTel Prometheus exporter appends `_total` to a
 * monotonic sum only when it is missing and never appends unit suffixes, so instrument names
 * are written here exactly as exposed.
 */
import { HEALTH_STATUSES, SEVERITIES } from '../model.js';

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

/** For work measured in milliseconds to seconds: evaluation cycles, scans, trades. */
const SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

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
    buckets: SECONDS_BUCKETS,
    seed: true,
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;
export const METRIC_LIST: readonly MetricDef[] = Object.values(METRICS);
