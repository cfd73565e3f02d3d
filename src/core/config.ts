// The plugin's configuration: schema, env parsing, validation and warnings.
// CONFIG_FIELDS is the only place a setting is defined; the README table, the
// MonitoringConfig type check and the tests are all driven from it.

export type MemoryComponent = 'wallet_monitor' | 'trade_executor' | 'total_system';

const NOTIFY_MODES = ['on', 'silent', 'off'] as const;
// `failures`: failed trades only (with sound), fills and other routine outcomes not sent.
const TRADE_NOTIFY_MODES = [...NOTIFY_MODES, 'failures'] as const;
const BOT_ENVS = ['production', 'staging', 'development'] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const LOG_FORMATS = ['auto', 'json', 'text', 'logfmt'] as const;
/**
 * Who notifies Telegram of a condition both the plugin and Prometheus evaluate: the plugin
 * (Alertmanager inhibits its copy), Alertmanager (the plugin keeps those to its log), or both.
 */
export const ALERT_ROUTES = ['plugin', 'alertmanager', 'both'] as const;

export type NotifyMode = (typeof NOTIFY_MODES)[number];
export type TradeNotifyMode = (typeof TRADE_NOTIFY_MODES)[number];
export type BotEnv = (typeof BOT_ENVS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];
export type AlertRoute = (typeof ALERT_ROUTES)[number];

// Large enough for any real host, small enough to catch a value given in bytes or KB.
const MAX_MEMORY_THRESHOLD_MB = 1_048_576;

interface FieldCommon {
  /** camelCase name in MonitoringConfig (the group name for grouped fields). */
  readonly key: string;
  readonly env: string;
  /** One line for the README table. */
  readonly description: string;
  /** Never echoed in errors or warnings. */
  readonly secret?: boolean;
  /** Set on the memory thresholds, which MonitoringConfig groups under `memoryThresholdMb`. */
  readonly component?: MemoryComponent;
  /** Values above this are accepted but warned about. */
  readonly warnAbove?: { readonly value: number; readonly text: string };
  /**
   * The standard OpenTelemetry variable for the same setting, read when `env` is unset: the
   * plugin's own name wins where both are set.
   */
  readonly otelEnv?: string;
}

export type FieldSpec = FieldCommon &
  (
    | { readonly kind: 'boolean'; readonly default: boolean }
    | {
        readonly kind: 'integer' | 'number';
        readonly default: number;
        readonly min: number;
        readonly max: number;
      }
    | {
        readonly kind: 'string';
        readonly default: string | undefined;
        /** Stricter shape than "no whitespace", with the words an error uses for it. */
        readonly pattern?: RegExp;
        readonly expected?: string;
        /** A valid value, for the docs and the tests. */
        readonly example?: string;
        /**
         * Comma-separated entries that their user checks one by one, warning about and ignoring a
         * bad one: any text passes here (spaces after the commas included), so one bad entry can
         * never make the whole configuration invalid.
         */
        readonly entries?: boolean;
      }
    | { readonly kind: 'enum'; readonly default: string; readonly values: readonly string[] }
  );

/**
 * Settings that once existed and no longer do anything: set, each is one warning saying so, so a
 * deployment that still carries one learns it instead of trusting it.
 */
export const RETIRED_SETTINGS: ReadonlyArray<{ readonly env: string; readonly why: string }> = [
  {
    env: 'MEMORY_THRESHOLD_SCANNER_MB',
    why: 'there is no scanner component; the wallet scanner is judged by MEMORY_THRESHOLD_WALLET_MONITOR_MB',
  },
];

export const CONFIG_FIELDS = [
  {
    key: 'enabled',
    env: 'MONITORING_ENABLED',
    kind: 'boolean',
    default: true,
    description: 'Master switch; false makes the preload do nothing at all.',
  },
  {
    key: 'dashboardEnabled',
    env: 'DASHBOARD_ENABLED',
    kind: 'boolean',
    default: true,
    description: 'Serve the health endpoint (/health) on DASHBOARD_PORT.',
  },
  {
    key: 'alertEnabled',
    env: 'ALERT_ENABLED',
    kind: 'boolean',
    default: true,
    description: 'Evaluate the alert rules and send notifications.',
  },
  {
    key: 'metricsEnabled',
    env: 'METRICS_ENABLED',
    kind: 'boolean',
    default: true,
    description: 'Serve Prometheus metrics (/metrics) on METRICS_PORT.',
  },
  {
    key: 'dashboardPort',
    env: 'DASHBOARD_PORT',
    kind: 'integer',
    default: 8080,
    min: 1024,
    max: 65535,
    description: 'Port of the health server; must differ from METRICS_PORT.',
  },
  {
    key: 'metricsPort',
    env: 'METRICS_PORT',
    otelEnv: 'OTEL_EXPORTER_PROMETHEUS_PORT',
    kind: 'integer',
    // The OpenTelemetry Prometheus exporter's port: 9090 is Prometheus's own.
    default: 9464,
    min: 1024,
    max: 65535,
    description: 'Port of the Prometheus endpoint (/metrics); 9464 is the OpenTelemetry Prometheus exporter\'s, 9090 the one before 0.2.',
  },
  {
    key: 'metricsHost',
    env: 'METRICS_HOST',
    otelEnv: 'OTEL_EXPORTER_PROMETHEUS_HOST',
    kind: 'string',
    default: undefined,
    example: '0.0.0.0',
    description: 'Address the metrics server binds to, when it should differ from MONITORING_HOST.',
  },
  {
    key: 'host',
    env: 'MONITORING_HOST',
    kind: 'string',
    default: '127.0.0.1',
    description: 'Address both servers bind to; 0.0.0.0 exposes them to the network.',
  },
  {
    key: 'tlsCertFile',
    env: 'MONITORING_TLS_CERT_FILE',
    kind: 'string',
    default: undefined,
    example: '/etc/polymarket-bot/tls/cert.pem',
    description: 'PEM certificate (chain) file: with MONITORING_TLS_KEY_FILE, both servers speak HTTPS; both files are re-read when they change.',
  },
  {
    key: 'tlsKeyFile',
    env: 'MONITORING_TLS_KEY_FILE',
    kind: 'string',
    default: undefined,
    example: '/etc/polymarket-bot/tls/key.pem',
    description: 'PEM private key file of MONITORING_TLS_CERT_FILE.',
  },
  {
    key: 'monitorIntervalSeconds',
    env: 'MONITOR_INTERVAL_SECONDS',
    kind: 'integer',
    default: 30,
    min: 5,
    max: 300,
    description: 'Seconds between evaluations (health checks, alert rules, circuit breaker).',
  },
  {
    key: 'maxCpuPercent',
    env: 'MONITORING_MAX_CPU_PERCENT',
    kind: 'number',
    default: 1,
    min: 0.1,
    max: 5,
    warnAbove: { value: 1, text: '1 % of one core' },
    description: "Budget for the plugin's own CPU (its measured self time), in % of one core; over it for 3 cycles trips the monitoring circuit breaker.",
  },
  {
    key: 'maxMemoryMb',
    env: 'MONITORING_MAX_MEMORY_MB',
    kind: 'integer',
    default: 100,
    min: 50,
    max: 500,
    warnAbove: { value: 100, text: '100 MB' },
    description: "Budget for the plugin's own memory (estimated from the series it holds), in MB; over it for 3 cycles trips the monitoring circuit breaker.",
  },
  {
    key: 'memoryThresholdMb',
    component: 'wallet_monitor',
    env: 'MEMORY_THRESHOLD_WALLET_MONITOR_MB',
    kind: 'integer',
    default: 500,
    min: 1,
    max: MAX_MEMORY_THRESHOLD_MB,
    description: 'Memory (MB) at which wallet_monitor is critical; degraded from 80 % of it.',
  },
  {
    key: 'memoryThresholdMb',
    component: 'trade_executor',
    env: 'MEMORY_THRESHOLD_TRADE_EXECUTOR_MB',
    kind: 'integer',
    default: 200,
    min: 1,
    max: MAX_MEMORY_THRESHOLD_MB,
    description: 'Memory (MB) at which trade_executor is critical; degraded from 80 % of it.',
  },
  {
    key: 'memoryThresholdMb',
    component: 'total_system',
    env: 'MEMORY_THRESHOLD_TOTAL_SYSTEM_MB',
    kind: 'integer',
    default: 2000,
    min: 1,
    max: MAX_MEMORY_THRESHOLD_MB,
    description: 'Memory (MB) of the whole bot at which it is critical; degraded from 80 % of it.',
  },
  {
    key: 'apiSuccessThreshold',
    env: 'API_SUCCESS_THRESHOLD',
    kind: 'number',
    default: 0.8,
    min: 0,
    max: 1,
    description: 'API success ratio below which API health is degraded.',
  },
  {
    key: 'apiFailureCountThreshold',
    env: 'API_FAILURE_COUNT_THRESHOLD',
    kind: 'integer',
    default: 5,
    min: 1,
    max: 20,
    description: 'Consecutive API failures that raise an alert.',
  },
  {
    key: 'dailyLossWarningPercent',
    env: 'DAILY_LOSS_WARNING_PERCENT',
    kind: 'number',
    default: 0.12,
    min: 0,
    max: 0.5,
    description: 'Daily loss, as a fraction of the starting balance, that raises a warning (0.12 = 12 %).',
  },
  {
    key: 'dailyLossCriticalPercent',
    env: 'DAILY_LOSS_CRITICAL_PERCENT',
    kind: 'number',
    default: 0.15,
    min: 0,
    max: 0.5,
    description: 'Daily loss, as a fraction of the starting balance, that raises a critical alert.',
  },
  {
    key: 'alertCooldownMinutes',
    env: 'ALERT_COOLDOWN_MINUTES',
    kind: 'integer',
    default: 5,
    min: 1,
    max: 60,
    description: 'Minutes between notifications about one component; escalations go at once.',
  },
  {
    key: 'duplicateAlertWindowMinutes',
    env: 'DUPLICATE_ALERT_WINDOW_MINUTES',
    kind: 'integer',
    default: 10,
    min: 5,
    max: 30,
    description: 'Minutes during which the same alert (rule, component, severity) is not sent again.',
  },
  {
    key: 'circuitBreakerEnabled',
    env: 'CIRCUIT_BREAKER_ENABLED',
    kind: 'boolean',
    default: true,
    description: "Shed the plugin's own work while the host is under stress.",
  },
  {
    key: 'circuitBreakerCpuThreshold',
    env: 'CIRCUIT_BREAKER_CPU_THRESHOLD',
    kind: 'number',
    default: 90,
    min: 80,
    max: 100,
    description: 'System CPU % above which (for 3 cycles) the monitoring circuit breaker trips.',
  },
  {
    key: 'circuitBreakerMemoryThreshold',
    env: 'CIRCUIT_BREAKER_MEMORY_THRESHOLD',
    kind: 'number',
    default: 85,
    min: 75,
    max: 100,
    description: 'System memory % above which the monitoring circuit breaker trips.',
  },
  {
    key: 'recoveryEnabled',
    env: 'RECOVERY_ENABLED',
    kind: 'boolean',
    default: true,
    description: 'Let a tripped circuit breaker try to recover on its own.',
  },
  {
    key: 'recoveryIntervalSeconds',
    env: 'RECOVERY_INTERVAL_SECONDS',
    kind: 'integer',
    default: 60,
    min: 30,
    max: 300,
    description: 'Seconds between recovery attempts of a tripped circuit breaker.',
  },
  {
    key: 'maxRecoveryAttempts',
    env: 'MAX_RECOVERY_ATTEMPTS',
    kind: 'integer',
    default: 3,
    min: 1,
    max: 10,
    description: 'Failed recovery attempts after which the breaker waits for a manual reset.',
  },
  {
    key: 'telegramBotToken',
    env: 'TELEGRAM_BOT_TOKEN',
    kind: 'string',
    default: undefined,
    secret: true,
    description: 'Telegram bot token; unset, alerts go to the log only.',
  },
  {
    key: 'telegramChatId',
    env: 'TELEGRAM_CHAT_ID',
    kind: 'string',
    default: undefined,
    description: 'Telegram chat that receives the alerts.',
  },
  {
    key: 'telegramApiUrl',
    env: 'TELEGRAM_API_URL',
    kind: 'string',
    default: 'https://api.telegram.org',
    pattern: /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/,
    expected: 'an http(s) URL without query',
    example: 'http://127.0.0.1:8081',
    description: 'Base URL of the Telegram Bot API (tests and proxies point it elsewhere).',
  },
  {
    key: 'alertOnTrade',
    env: 'ALERT_ON_TRADE',
    kind: 'enum',
    default: 'on',
    values: TRADE_NOTIFY_MODES,
    description: 'Notify on trade executions: on, silent (no sound), failures (failed trades only) or off.',
  },
  {
    key: 'alertOnError',
    env: 'ALERT_ON_ERROR',
    kind: 'enum',
    default: 'on',
    values: NOTIFY_MODES,
    description: 'Notify on errors: on, silent (no sound) or off.',
  },
  {
    key: 'alertOnCircuitBreaker',
    env: 'ALERT_ON_CIRCUIT_BREAKER',
    kind: 'enum',
    default: 'on',
    values: NOTIFY_MODES,
    description: 'Notify when the circuit breaker trips or recovers: on, silent (no sound) or off.',
  },
  {
    key: 'alertRoute',
    env: 'ALERT_ROUTE',
    kind: 'enum',
    default: 'plugin',
    values: ALERT_ROUTES,
    description:
      'Who sends a condition both the plugin and Prometheus evaluate: plugin (Alertmanager inhibits its copy), alertmanager (the plugin logs it only) or both. Per-trade and breaker notices always come from the plugin.',
  },
  {
    key: 'botEnv',
    env: 'BOT_ENV',
    kind: 'enum',
    default: 'production',
    values: BOT_ENVS,
    description: 'Deployment environment; staging prefixes every message with [STAGING].',
  },
  {
    key: 'staleAfterSeconds',
    env: 'STALE_AFTER_SECONDS',
    kind: 'integer',
    default: 120,
    min: 10,
    max: 86400,
    description: "Age at which the bot's main-loop heartbeat or last successful wallet scan is degraded; four times it is critical.",
  },
  {
    key: 'authToken',
    env: 'MONITORING_AUTH_TOKEN',
    kind: 'string',
    default: undefined,
    secret: true,
    pattern: /^[\x21-\x7e]{16,}$/,
    expected: 'at least 16 printable characters',
    example: 'scrape-token-0123456789',
    description: "Bearer token /metrics and /health require when set (Prometheus' `authorization` scrape setting sends it).",
  },
  {
    key: 'adminToken',
    env: 'MONITORING_ADMIN_TOKEN',
    kind: 'string',
    default: undefined,
    secret: true,
    pattern: /^[\x21-\x7e]{16,}$/,
    expected: 'at least 16 printable characters',
    example: 'admin-token-0123456789',
    description: 'Bearer token for POST /admin/circuit-breaker/reset; unset, the route does not exist.',
  },
  {
    key: 'apiHosts',
    env: 'MONITORING_API_HOSTS',
    kind: 'string',
    default: undefined,
    // No pattern: a bad entry is ignored with a warning (parseApiHosts), never a config error.
    entries: true,
    expected: 'host=api or host:port=api entries separated by commas; a bad entry is ignored with a warning',
    example: 'rpc.example.com=polygon_rpc,127.0.0.1:8545=polygon_rpc,[::1]:9000=clob',
    description:
      'Extra host→api names for API health, added to the built-in Polymarket and Polygon hosts (a host:port entry wins over its host); seen on fetch and on http/https clients such as axios.',
  },
  {
    key: 'instrumentClob',
    env: 'MONITORING_INSTRUMENT_CLOB',
    kind: 'boolean',
    default: true,
    description:
      'Instrument the official CLOB client the bot loads (@polymarket/clob-client 5.x, @polymarket/clob-client-v2 1.x): order and cancel calls become trades with outcomes, its requests count as api="clob".',
  },
  {
    key: 'strict',
    env: 'MONITORING_STRICT',
    kind: 'boolean',
    default: false,
    description: 'Make invalid configuration fatal (exit 78) instead of one warning and the default per bad setting.',
  },
  {
    key: 'logLevel',
    env: 'MONITORING_LOG_LEVEL',
    kind: 'enum',
    default: 'info',
    values: LOG_LEVELS,
    description: "Level of the plugin's own log.",
  },
  {
    key: 'logFormat',
    env: 'MONITORING_LOG_FORMAT',
    kind: 'enum',
    default: 'auto',
    values: LOG_FORMATS,
    description: "Format of the plugin's log lines on stderr: `auto` is `text` on a terminal and `json` otherwise; `logfmt` is key=value pairs.",
  },
  {
    key: 'shutdownTimeoutMs',
    env: 'MONITORING_SHUTDOWN_TIMEOUT_MS',
    kind: 'integer',
    default: 2000,
    min: 100,
    max: 30000,
    description: 'Upper bound, in ms, on the telemetry flush at exit.',
  },
] as const satisfies readonly FieldSpec[];

export type ConfigField = (typeof CONFIG_FIELDS)[number];

export interface MonitoringConfig {
  enabled: boolean;
  dashboardEnabled: boolean;
  alertEnabled: boolean;
  metricsEnabled: boolean;
  dashboardPort: number;
  metricsPort: number;
  metricsHost: string | undefined;
  host: string;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  monitorIntervalSeconds: number;
  maxCpuPercent: number;
  maxMemoryMb: number;
  memoryThresholdMb: {
    wallet_monitor: number;
    trade_executor: number;
    total_system: number;
  };
  apiSuccessThreshold: number;
  apiFailureCountThreshold: number;
  dailyLossWarningPercent: number;
  dailyLossCriticalPercent: number;
  alertCooldownMinutes: number;
  duplicateAlertWindowMinutes: number;
  circuitBreakerEnabled: boolean;
  circuitBreakerCpuThreshold: number;
  circuitBreakerMemoryThreshold: number;
  recoveryEnabled: boolean;
  recoveryIntervalSeconds: number;
  maxRecoveryAttempts: number;
  telegramBotToken: string | undefined;
  telegramChatId: string | undefined;
  telegramApiUrl: string;
  alertOnTrade: TradeNotifyMode;
  alertOnError: NotifyMode;
  alertOnCircuitBreaker: NotifyMode;
  alertRoute: AlertRoute;
  botEnv: BotEnv;
  apiHosts: string | undefined;
  instrumentClob: boolean;
  staleAfterSeconds: number;
  authToken: string | undefined;
  adminToken: string | undefined;
  strict: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  shutdownTimeoutMs: number;
}

// The interface above is written out for readers and editors; this derives the same type
// from CONFIG_FIELDS and fails compilation if the two drift apart.
type ValueOf<F> = F extends { kind: 'boolean' }
  ? boolean
  : F extends { kind: 'integer' | 'number' }
    ? number
    : F extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V
      : F extends { default: undefined }
        ? string | undefined
        : string;
type FlatField = Exclude<ConfigField, { component: string }>;
type GroupedField = Extract<ConfigField, { component: string }>;
type Simplify<T> = { [K in keyof T]: T[K] };
type SchemaConfig = Simplify<
  { [F in FlatField as F['key']]: ValueOf<F> } & {
    memoryThresholdMb: { [F in GroupedField as F['component']]: ValueOf<F> };
  }
>;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type _SchemaMatchesMonitoringConfig = Assert<Equal<MonitoringConfig, SchemaConfig>>;

/** What `startMonitoring(options)` may override; memory thresholds may be given one by one. */
export type ConfigOverrides = Partial<Omit<MonitoringConfig, 'memoryThresholdMb'>> & {
  memoryThresholdMb?: Partial<MonitoringConfig['memoryThresholdMb']>;
};

export class ConfigError extends Error {
  readonly code = 'PBM_CONFIG_INVALID';
  readonly problems: string[];
  /** MONITORING_STRICT as far as it could be read, so the caller knows whether to make this fatal. */
  readonly strict: boolean;

  constructor(problems: string[], strict = false) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.strict = strict;
  }
}

/** The default as the README table shows it. */
export function describeDefault(field: FieldSpec): string {
  return field.default === undefined ? 'unset' : String(field.default);
}

/** What a valid value looks like, as errors and the README table say it. */
export function describeExpected(field: FieldSpec): string {
  switch (field.kind) {
    case 'boolean':
      return 'a boolean (true/false, yes/no, on/off, 1/0)';
    case 'integer':
      return `an integer from ${field.min} to ${field.max}`;
    case 'number':
      return `a number from ${field.min} to ${field.max}`;
    case 'enum':
      return `one of ${field.values.join(', ')}`;
    case 'string':
      return ('expected' in field && field.expected) || 'a non-empty value without whitespace';
  }
}

/** `key`, or `group.component` for grouped fields: the name used as `options.<path>`. */
export function fieldPath(field: FieldSpec): string {
  return field.component === undefined ? field.key : `${field.key}.${field.component}`;
}

const BOOLEAN_WORDS = new Map<string, boolean>([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['on', true],
  ['false', false],
  ['0', false],
  ['no', false],
  ['off', false],
]);
const INTEGER_TEXT = /^[+-]?\d+$/;
// Plain decimal notation only, so "0x10", "Infinity", "NaN" and "1_000" are refused.
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const WHITESPACE = /\s/;

const INVALID: unique symbol = Symbol('invalid');
type Parsed = unknown | typeof INVALID;

function inRange(field: { min: number; max: number }, n: number): Parsed {
  return Number.isFinite(n) && n >= field.min && n <= field.max ? n : INVALID;
}

function matchesPattern(field: FieldSpec, text: string): boolean {
  return !('pattern' in field) || field.pattern === undefined || field.pattern.test(text);
}

function isToken(s: string): boolean {
  return s.length > 0 && !WHITESPACE.test(s);
}

/** `text` is already trimmed and non-empty. */
function parseEnvText(field: FieldSpec, text: string): Parsed {
  switch (field.kind) {
    case 'boolean':
      return BOOLEAN_WORDS.get(text.toLowerCase()) ?? INVALID;
    case 'integer':
      return INTEGER_TEXT.test(text) ? inRange(field, Number(text)) : INVALID;
    case 'number':
      return NUMBER_TEXT.test(text) ? inRange(field, Number(text)) : INVALID;
    case 'enum': {
      const lower = text.toLowerCase();
      return field.values.includes(lower) ? lower : INVALID;
    }
    case 'string':
      return ('entries' in field && field.entries) || (isToken(text) && matchesPattern(field, text)) ? text : INVALID;
  }
}

// Overrides come from code, so they must already have the right type: no string coercion.
function checkOption(field: FieldSpec, value: unknown): Parsed {
  switch (field.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : INVALID;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? inRange(field, value) : INVALID;
    case 'number':
      return typeof value === 'number' ? inRange(field, value) : INVALID;
    case 'enum':
      return typeof value === 'string' && field.values.includes(value) ? value : INVALID;
    case 'string':
      if (typeof value !== 'string') return INVALID;
      // Blank is no entries, as a blank variable is unset.
      if ('entries' in field && field.entries) return value;
      return isToken(value) && matchesPattern(field, value) ? value : INVALID;
  }
}

const MAX_SHOWN_CHARS = 64;
// Control, format (bidi overrides), unassigned and line/paragraph separators: escaped so a value
// can neither break the one-line message nor disguise itself.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/gu;

const escapeUnprintable = (c: string): string => {
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * `text` JSON-quoted for a one-line message: cut to 64 characters (then `…`), and every
 * unprintable character shown as its `\u` escape (JSON's own escapes for the rest).
 */
export function quote(text: string): string {
  const chars = Array.from(text.slice(0, MAX_SHOWN_CHARS * 2));
  const head = chars.slice(0, MAX_SHOWN_CHARS).join('');
  const cut = chars.length > MAX_SHOWN_CHARS;
  return JSON.stringify(cut ? `${head}…` : head).replace(UNPRINTABLE, escapeUnprintable);
}

function showOption(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? `<${typeof value}>` : String(value);
  }
  return Array.isArray(value) ? '<array>' : '<object>';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Source = 'default' | 'env' | 'option';
interface Resolved {
  value: unknown;
  source: Source;
  valid: boolean;
  /** The variable it was read from, or found invalid in (the field's own, or its OpenTelemetry name). */
  env?: string;
}

/**
 * Where one setting's value came from: the variable (or `options.<path>`) it was read from, or
 * undefined for its default; `valid: false` when that variable held a value that could not be used.
 */
export interface SettingSource {
  readonly from: string | undefined;
  readonly valid: boolean;
}

const GROUP_KEYS = new Set<string>(CONFIG_FIELDS.filter((f) => 'component' in f).map((f) => f.key));
const TOP_KEYS = new Set<string>(CONFIG_FIELDS.map((f) => f.key));

/** Unknown names in the overrides are reported, so a typo is not silently ignored. */
function checkOverrideShape(overrides: unknown, problems: Problem[]): Record<string, unknown> {
  if (overrides === undefined || overrides === null) return {};
  if (!isPlainObject(overrides)) {
    problems.push({ text: `options=${showOption(overrides)} (expected an object)`, instead: IGNORED });
    return {};
  }
  const usable: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (!TOP_KEYS.has(key)) {
      problems.push({ text: `options.${quote(key).slice(1, -1)} (not a configuration option)`, instead: IGNORED });
    } else if (GROUP_KEYS.has(key) && value !== undefined) {
      const components = CONFIG_FIELDS.filter((f) => f.key === key).map((f) => fieldPath(f).slice(key.length + 1));
      if (!isPlainObject(value)) {
        problems.push({ text: `options.${key}=${showOption(value)} (expected an object with ${components.join(', ')})`, instead: IGNORED });
        continue;
      }
      for (const sub of Object.keys(value)) {
        if (!components.includes(sub)) {
          problems.push({ text: `options.${key}.${quote(sub).slice(1, -1)} (not a configuration option)`, instead: IGNORED });
        }
      }
      usable[key] = value;
    } else {
      usable[key] = value;
    }
  }
  return usable;
}

function optionFor(options: Record<string, unknown>, field: FieldSpec): unknown {
  const value = Object.hasOwn(options, field.key) ? options[field.key] : undefined;
  if (field.component === undefined) return value;
  return isPlainObject(value) && Object.hasOwn(value, field.component) ? value[field.component] : undefined;
}

/** An invalid value: what is wrong, and what the plugin does instead unless MONITORING_STRICT. */
interface Problem {
  readonly text: string;
  readonly instead: string;
}

const IGNORED = 'ignored';

function usingDefault(field: FieldSpec): string {
  return field.default === undefined ? 'left unset' : `using the default ${describeDefault(field)}`;
}

function resolveField(
  field: FieldSpec,
  env: Record<string, string | undefined>,
  options: Record<string, unknown>,
  problems: Problem[],
): Resolved {
  const option = optionFor(options, field);
  if (option !== undefined) {
    const value = checkOption(field, option);
    if (value !== INVALID) return { value, source: 'option', valid: true };
    const shown = field.secret ? '<redacted>' : showOption(option);
    problems.push({ text: `options.${fieldPath(field)}=${shown} (expected ${describeExpected(field)})`, instead: usingDefault(field) });
    return { value: field.default, source: 'default', valid: false };
  }
  // An empty (or blank) variable is how shells and compose files "unset" a value.
  const given = (name: string | undefined): name is string => name !== undefined && (env[name] ?? '').trim() !== '';
  const name = given(field.env) ? field.env : given(field.otelEnv) ? field.otelEnv : undefined;
  if (name !== undefined) {
    const raw = env[name]!;
    const value = parseEnvText(field, raw.trim());
    if (value !== INVALID) return { value, source: 'env', valid: true, env: name };
    const shown = field.secret ? '<redacted>' : quote(raw);
    problems.push({ text: `${name}=${shown} (expected ${describeExpected(field)})`, instead: usingDefault(field) });
    return { value: field.default, source: 'default', valid: false, env: name };
  }
  return { value: field.default, source: 'default', valid: true };
}

/**
 * A comma-separated OTEL_* list as the OpenTelemetry SDKs read one: entries trimmed, empty ones
 * dropped; lower-cased here, since every list the plugin reads is of names.
 */
export function otelList(env: Readonly<Record<string, string | undefined>>, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Reads the configuration from `env`, with `overrides` (from `startMonitoring(options)`) taking
 * precedence. An invalid value is a warning (what was wrong, what is used instead) and costs only its own setting; with MONITORING_STRICT=true it throws ConfigError naming every invalid value. When monitoring resolves to
 * disabled nothing else is validated or warned about: a disabled plugin must not be able to
 * fail or make noise, so invalid values then fall back to their defaults.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  overrides?: ConfigOverrides,
): { config: MonitoringConfig; warnings: string[]; sources: Record<string, SettingSource> } {
  const problems: Problem[] = [];
  const options = checkOverrideShape(overrides, problems);
  const byPath = new Map<string, Resolved & { field: FieldSpec }>();
  const flat: Record<string, unknown> = {};
  const grouped: Record<string, Record<string, unknown>> = {};

  for (const field of CONFIG_FIELDS as readonly FieldSpec[]) {
    const resolved = resolveField(field, env, options, problems);
    byPath.set(fieldPath(field), { ...resolved, field });
    if (field.component === undefined) flat[field.key] = resolved.value;
    else (grouped[field.key] ??= {})[field.component] = resolved.value;
  }
  const config = { ...flat, ...grouped } as unknown as MonitoringConfig;
  const at = (path: keyof MonitoringConfig) => byPath.get(path)!;
  const name = (path: keyof MonitoringConfig) => {
    const r = at(path);
    return r.source === 'option' ? `options.${path}` : (r.env ?? r.field.env);
  };
  /** By field path (fieldPath), for `polymarket-bot-monitoring config`. */
  const sources = (): Record<string, SettingSource> =>
    Object.fromEntries(
      [...byPath].map(([path, r]) => [path, { from: r.source === 'option' ? `options.${path}` : r.env, valid: r.valid }]),
    );

  const enabled = at('enabled');
  if (enabled.valid && enabled.value === false) return { config, warnings: [], sources: sources() };

  // OTEL_METRICS_EXPORTER lists the exporters wanted, `prometheus` (this /metrics) among them,
  // as NodeSDK reads it; METRICS_ENABLED (or the option) wins where both are set.
  const exporters = otelList(env, 'OTEL_METRICS_EXPORTER');
  if (at('metricsEnabled').source === 'default' && exporters.length > 0) {
    config.metricsEnabled = exporters.includes('prometheus') && !exporters.includes('none');
    byPath.set('metricsEnabled', { ...at('metricsEnabled'), value: config.metricsEnabled, source: 'env', valid: true, env: 'OTEL_METRICS_EXPORTER' });
  }

  const portsValid = ['dashboardEnabled', 'metricsEnabled', 'dashboardPort', 'metricsPort'].every(
    (p) => at(p as keyof MonitoringConfig).valid,
  );
  if (
    portsValid &&
    config.dashboardEnabled &&
    config.metricsEnabled &&
    config.dashboardPort === config.metricsPort
  ) {
    // Prometheus depends on /metrics where it is: /health moves to its default port, or goes.
    const healthDefault = at('dashboardPort').field.default as number;
    const instead = healthDefault !== config.metricsPort ? `the health server uses the default ${healthDefault}` : 'the health server stays off';
    problems.push({
      text:
        `${name('dashboardPort')}=${config.dashboardPort} and ${name('metricsPort')}=${config.metricsPort} ` +
        `(expected different ports while both ${name('dashboardEnabled')} and ${name('metricsEnabled')} are true)`,
      instead,
    });
    if (healthDefault !== config.metricsPort) config.dashboardPort = healthDefault;
    else config.dashboardEnabled = false;
  }

  const strict = at('strict');
  if (problems.length > 0 && strict.valid && strict.value === true) {
    throw new ConfigError(
      problems.map((p) => p.text),
      true,
    );
  }

  // One bad value costs that setting, never the rest of monitoring (the loss alerts included).
  const degraded = problems.map((p) => `${p.text}: ${p.instead}`);
  for (const { env: retired, why } of RETIRED_SETTINGS) {
    if ((env[retired] ?? '').trim() !== '') degraded.push(`${retired} is set but no longer has an effect: ${why}`);
  }
  return { config, warnings: [...degraded, ...collectWarnings(config, byPath, name)], sources: sources() };
}

function collectWarnings(
  config: MonitoringConfig,
  byPath: ReadonlyMap<string, Resolved & { field: FieldSpec }>,
  name: (path: keyof MonitoringConfig) => string,
): string[] {
  const warnings: string[] = [];
  for (const [path, r] of byPath) {
    const limit = r.field.warnAbove;
    if (limit !== undefined && typeof r.value === 'number' && r.value > limit.value) {
      const label = r.source === 'option' ? `options.${path}` : (r.env ?? r.field.env);
      warnings.push(`${label}=${r.value} is above the recommended ${limit.text}`);
    }
  }
  if (config.dailyLossCriticalPercent <= config.dailyLossWarningPercent) {
    warnings.push(
      `${name('dailyLossCriticalPercent')}=${config.dailyLossCriticalPercent} is not above ` +
        `${name('dailyLossWarningPercent')}=${config.dailyLossWarningPercent}: ` +
        'the daily-loss warning can never come before the critical alert',
    );
  }
  if (config.dashboardEnabled && !config.alertEnabled) {
    warnings.push(
      `${name('dashboardEnabled')}=true with ${name('alertEnabled')}=false: ` +
        '/health reports problems but no alert is sent',
    );
  }
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    const [given, missing] = config.tlsCertFile !== undefined ? [name('tlsCertFile'), name('tlsKeyFile')] : [name('tlsKeyFile'), name('tlsCertFile')];
    warnings.push(`${given} is set without ${missing}: the servers speak plain HTTP`);
  }
  const token = config.telegramBotToken !== undefined;
  const chat = config.telegramChatId !== undefined;
  if (token !== chat) {
    const [set, missing] = token
      ? [name('telegramBotToken'), name('telegramChatId')]
      : [name('telegramChatId'), name('telegramBotToken')];
    warnings.push(`${set} is set without ${missing}: alerts go to the log only`);
  }
  const loopback = (host: string): boolean => /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i.test(host);
  if (config.authToken === undefined) {
    const open = [
      ...(config.metricsEnabled && config.metricsHost !== undefined && !loopback(config.metricsHost)
        ? [`${name('metricsHost')}=${quote(config.metricsHost)}`]
        : []),
      ...(!loopback(config.host) && ((config.metricsEnabled && config.metricsHost === undefined) || config.dashboardEnabled)
        ? [`${name('host')}=${quote(config.host)}`]
        : []),
    ];
    if (open.length > 0) {
      warnings.push(`${open.join(' and ')} and no ${name('authToken')} set, so /metrics and /health answer anyone who can reach the port`);
    }
  }
  return warnings;
}
