import { describe, expect, it } from 'vitest';
import {
  CONFIG_FIELDS,
  ConfigError,
  describeDefault,
  describeExpected,
  fieldPath,
  loadConfig,
  type ConfigField,
  type MonitoringConfig,
} from '../src/core/config.js';

type Env = Record<string, string | undefined>;

function readField(config: MonitoringConfig, field: ConfigField): unknown {
  return 'component' in field
    ? config.memoryThresholdMb[field.component]
    : config[field.key as Exclude<keyof MonitoringConfig, 'memoryThresholdMb'>];
}

function overrideOf(field: ConfigField, value: unknown): Record<string, unknown> {
  return 'component' in field ? { [field.key]: { [field.component]: value } } : { [field.key]: value };
}

function optionName(field: ConfigField): string {
  return 'component' in field ? `options.${field.key}.${field.component}` : `options.${field.key}`;
}

/** The error MONITORING_STRICT=true makes of invalid values (without it they are warnings). */
function configError(env: Env, overrides?: Record<string, unknown>): ConfigError {
  const strict = 'MONITORING_STRICT' in env || (overrides !== undefined && 'strict' in overrides) ? {} : { MONITORING_STRICT: 'true' };
  try {
    loadConfig({ ...strict, ...env }, overrides);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)} ${JSON.stringify(overrides)}`);
}

/** A valid value other than the default, as typed (option) and as spelled in the env. */
function nonDefault(field: ConfigField): { value: unknown; text: string } {
  switch (field.kind) {
    case 'boolean':
      return { value: !field.default, text: String(!field.default) };
    case 'integer':
    case 'number': {
      const candidates = field.kind === 'number' ? [(field.min + field.max) / 2, field.min, field.max] : [field.min, field.max];
      const value = candidates.find((v) => v !== field.default)!;
      return { value, text: String(value) };
    }
    case 'enum': {
      const value = (field.values as readonly string[]).find((v) => v !== field.default)!;
      return { value, text: value };
    }
    case 'string': {
      const value = ('example' in field && field.example) || 'custom-value.example';
      return { value, text: value };
    }
  }
}

/** A value of the wrong shape for the field, in the env and as an option. */
function wrongType(field: ConfigField): { text: string; option: unknown } {
  switch (field.kind) {
    case 'boolean':
      return { text: 'maybe', option: 'true' };
    case 'integer':
      return { text: '1.5', option: field.min + 0.5 };
    case 'number':
      return { text: 'abc', option: String(field.default) };
    case 'enum':
      return { text: 'loud', option: 'loud' };
    case 'string':
      // A list of entries takes any text from the env (its user warns about bad entries); only a non-string option is wrong.
      return 'entries' in field && field.entries ? { text: '', option: 42 } : { text: 'two words', option: 'two words' };
  }
}

/** Fields whose env text can be of the wrong shape at all. */
const envCheckedFields = CONFIG_FIELDS.filter((f) => !('entries' in f && f.entries));
// MONITORING_STRICT's own bad value can never make the configuration fatal: it is a warning.
const strictCheckedFields = envCheckedFields.filter((f) => f.env !== 'MONITORING_STRICT');

const numericFields = CONFIG_FIELDS.filter(
  (f): f is Extract<ConfigField, { kind: 'integer' | 'number' }> => f.kind === 'integer' || f.kind === 'number',
);
const booleanFields = CONFIG_FIELDS.filter((f) => f.kind === 'boolean');
const enumFields = CONFIG_FIELDS.filter((f) => f.kind === 'enum');
const secretFields = CONFIG_FIELDS.filter((f) => 'secret' in f && f.secret);
const label = (f: ConfigField) => f.env;

// Written out by hand from the seed spec so that a change to a name, default or range in the
// schema has to be made twice, on purpose.
const SPEC: Record<string, [unknown, number?, number?]> = {
  MONITORING_ENABLED: [true],
  DASHBOARD_ENABLED: [true],
  ALERT_ENABLED: [true],
  METRICS_ENABLED: [true],
  DASHBOARD_PORT: [8080, 1024, 65535],
  METRICS_PORT: [9464, 1024, 65535],
  METRICS_HOST: [undefined],
  MONITORING_HOST: ['127.0.0.1'],
  MONITORING_TLS_CERT_FILE: [undefined],
  MONITORING_TLS_KEY_FILE: [undefined],
  MONITOR_INTERVAL_SECONDS: [30, 5, 300],
  MONITORING_MAX_CPU_PERCENT: [1, 0.1, 5],
  MONITORING_MAX_MEMORY_MB: [100, 50, 500],
  MEMORY_THRESHOLD_WALLET_MONITOR_MB: [500, 1, 1_048_576],
  MEMORY_THRESHOLD_TRADE_EXECUTOR_MB: [200, 1, 1_048_576],
  MEMORY_THRESHOLD_TOTAL_SYSTEM_MB: [2000, 1, 1_048_576],
  API_SUCCESS_THRESHOLD: [0.8, 0, 1],
  API_FAILURE_COUNT_THRESHOLD: [5, 1, 20],
  DAILY_LOSS_WARNING_PERCENT: [0.12, 0, 0.5],
  DAILY_LOSS_CRITICAL_PERCENT: [0.15, 0, 0.5],
  ALERT_COOLDOWN_MINUTES: [5, 1, 60],
  DUPLICATE_ALERT_WINDOW_MINUTES: [10, 5, 30],
  CIRCUIT_BREAKER_ENABLED: [true],
  CIRCUIT_BREAKER_CPU_THRESHOLD: [90, 80, 100],
  CIRCUIT_BREAKER_MEMORY_THRESHOLD: [85, 75, 100],
  RECOVERY_ENABLED: [true],
  RECOVERY_INTERVAL_SECONDS: [60, 30, 300],
  MAX_RECOVERY_ATTEMPTS: [3, 1, 10],
  TELEGRAM_BOT_TOKEN: [undefined],
  TELEGRAM_CHAT_ID: [undefined],
  TELEGRAM_API_URL: ['https://api.telegram.org'],
  ALERT_ON_TRADE: ['on'],
  ALERT_ON_ERROR: ['on'],
  ALERT_ON_CIRCUIT_BREAKER: ['on'],
  ALERT_ROUTE: ['plugin'],
  BOT_ENV: ['production'],
  STALE_AFTER_SECONDS: [120, 10, 86400],
  MONITORING_AUTH_TOKEN: [undefined],
  MONITORING_ADMIN_TOKEN: [undefined],
  MONITORING_API_HOSTS: [undefined],
  MONITORING_INSTRUMENT_CLOB: [true],
  MONITORING_STRICT: [false],
  MONITORING_LOG_LEVEL: ['info'],
  MONITORING_LOG_FORMAT: ['auto'],
  MONITORING_SHUTDOWN_TIMEOUT_MS: [2000, 100, 30000],
};

describe('the schema', () => {
  it('has exactly the fields of the seed spec plus our own, with their defaults and ranges', () => {
    const actual = Object.fromEntries(
      CONFIG_FIELDS.map((f) => [f.env, 'min' in f ? [f.default, f.min, f.max] : [f.default]]),
    );
    expect(actual).toEqual(SPEC);
  });

  it('uses each env name and each config path once', () => {
    expect(new Set(CONFIG_FIELDS.map((f) => f.env)).size).toBe(CONFIG_FIELDS.length);
    expect(new Set(CONFIG_FIELDS.map(fieldPath)).size).toBe(CONFIG_FIELDS.length);
  });

  it('produces a config with exactly the schema keys', () => {
    const { config } = loadConfig({});
    const flatKeys = CONFIG_FIELDS.filter((f) => !('component' in f)).map((f) => f.key);
    expect(Object.keys(config).sort()).toEqual([...flatKeys, 'memoryThresholdMb'].sort());
    expect(Object.keys(config.memoryThresholdMb).sort()).toEqual(
      ['total_system', 'trade_executor', 'wallet_monitor'],
    );
  });

  it('marks the bot token and the two HTTP tokens, and only them, secret', () => {
    expect(secretFields.map((f) => f.env)).toEqual(['TELEGRAM_BOT_TOKEN', 'MONITORING_AUTH_TOKEN', 'MONITORING_ADMIN_TOKEN']);
  });

  it.each(CONFIG_FIELDS.map((f) => [f.env, f] as const))('%s has a one-line description', (_, field) => {
    expect(field.description.length).toBeGreaterThan(10);
    expect(field.description).not.toMatch(/\n/);
  });

  it.each(CONFIG_FIELDS.map((f) => [f.env, f] as const))('%s has a numeric default within its range', (_, field) => {
    if (!('min' in field)) return;
    expect(field.default).toBeGreaterThanOrEqual(field.min);
    expect(field.default).toBeLessThanOrEqual(field.max);
    if (field.kind === 'integer') expect(Number.isInteger(field.default)).toBe(true);
  });
});

describe('describeDefault', () => {
  it('spells defaults the way the README table shows them', () => {
    const byEnv = (env: string) => CONFIG_FIELDS.find((f) => f.env === env)!;
    expect(describeDefault(byEnv('DASHBOARD_PORT'))).toBe('8080');
    expect(describeDefault(byEnv('MONITORING_ENABLED'))).toBe('true');
    expect(describeDefault(byEnv('MONITORING_STRICT'))).toBe('false');
    expect(describeDefault(byEnv('TELEGRAM_BOT_TOKEN'))).toBe('unset');
    expect(describeDefault(byEnv('ALERT_ON_TRADE'))).toBe('on');
    expect(describeDefault(byEnv('API_SUCCESS_THRESHOLD'))).toBe('0.8');
    expect(describeDefault(byEnv('MONITORING_HOST'))).toBe('127.0.0.1');
  });
});

describe('defaults', () => {
  it('an empty env loads without warnings', () => {
    expect(loadConfig({}).warnings).toEqual([]);
  });

  it.each(CONFIG_FIELDS.map((f) => [label(f), f] as const))('%s defaults to its schema default', (_, field) => {
    expect(readField(loadConfig({}).config, field)).toBe(SPEC[field.env]![0]);
  });

  it.each(CONFIG_FIELDS.map((f) => [label(f), f] as const))('%s set to "" counts as unset', (_, field) => {
    expect(readField(loadConfig({ [field.env]: '' }).config, field)).toBe(field.default);
  });

  it('a blank value counts as unset too', () => {
    expect(loadConfig({ DASHBOARD_PORT: '   ' }).config.dashboardPort).toBe(8080);
  });

  it('takes MONITORING_API_HOSTS with spaces and a bad entry as it is: its entries are checked where they are used', () => {
    const value = 'rpc.example.com=polygon_rpc, 127.0.0.1:8545=polygon_rpc, not an entry';
    expect(loadConfig({ MONITORING_API_HOSTS: value }).config.apiHosts).toBe(value);
  });

  it('variables outside the schema are ignored', () => {
    expect(loadConfig({ PATH: '/bin', DASHBOARD_PORTS: 'x' }).config).toEqual(loadConfig({}).config);
  });
});

describe('environment values', () => {
  it.each(CONFIG_FIELDS.map((f) => [label(f), f] as const))('%s takes a valid non-default value', (_, field) => {
    const { value, text } = nonDefault(field);
    expect(value).not.toBe(field.default);
    expect(readField(loadConfig({ [field.env]: text }).config, field)).toBe(value);
  });

  it('trims surrounding whitespace', () => {
    expect(loadConfig({ DASHBOARD_PORT: ' 8081 ' }).config.dashboardPort).toBe(8081);
    expect(loadConfig({ ALERT_ON_ERROR: ' silent\n' }).config.alertOnError).toBe('silent');
  });

  it('accepts enum values in any case', () => {
    expect(loadConfig({ BOT_ENV: 'Staging' }).config.botEnv).toBe('staging');
  });

  it.each(numericFields.map((f) => [label(f), f] as const))('%s accepts both ends of its range', (_, field) => {
    expect(readField(loadConfig({ [field.env]: String(field.min) }).config, field)).toBe(field.min);
    expect(readField(loadConfig({ [field.env]: String(field.max) }).config, field)).toBe(field.max);
  });

  it.each(numericFields.map((f) => [label(f), f] as const))(
    '%s rejects just below its minimum and just above its maximum',
    (_, field) => {
      const step = field.kind === 'integer' ? 1 : 0.001;
      const below = (field.min - step).toFixed(field.kind === 'integer' ? 0 : 3);
      const above = (field.max + step).toFixed(field.kind === 'integer' ? 0 : 3);
      const range = `${field.kind === 'integer' ? 'an integer' : 'a number'} from ${field.min} to ${field.max}`;
      for (const text of [below, above]) {
        const error = configError({ [field.env]: text });
        expect(error.problems).toEqual([`${field.env}="${text}" (expected ${range})`]);
      }
    },
  );

  it.each(strictCheckedFields.map((f) => [label(f), f] as const))('%s rejects a value of the wrong type', (_, field) => {
    const { text } = wrongType(field);
    const error = configError({ [field.env]: text });
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain(`${field.env}=`);
    expect(error.message).toContain(`(expected ${describeExpected(field)})`);
  });

  it.each(['abc', 'NaN', 'Infinity', '-Infinity', '1e999', '0x10', '1_0', '1,5', '--1', '.'])(
    'a number field rejects %j',
    (text) => {
      expect(configError({ API_SUCCESS_THRESHOLD: text }).problems).toEqual([
        `API_SUCCESS_THRESHOLD=${JSON.stringify(text)} (expected a number from 0 to 1)`,
      ]);
    },
  );

  it.each(['0.5', '.5', '5e-1', '+0.5'])('a number field accepts %j', (text) => {
    expect(loadConfig({ API_SUCCESS_THRESHOLD: text }).config.apiSuccessThreshold).toBe(0.5);
  });

  it.each(['1.5', '1e4', '8080.0', 'abc', '8080abc'])('an integer field rejects %j', (text) => {
    expect(configError({ DASHBOARD_PORT: text }).problems).toEqual([
      `DASHBOARD_PORT=${JSON.stringify(text)} (expected an integer from 1024 to 65535)`,
    ]);
  });

  it.each(enumFields.map((f) => [label(f), f] as const))('%s rejects a value outside its set', (_, field) => {
    const error = configError({ [field.env]: 'loud' });
    expect(error.problems).toEqual([`${field.env}="loud" (expected one of ${field.values.join(', ')})`]);
  });

  it.each(['a b', 'a\tb'])('MONITORING_HOST rejects %j', (text) => {
    expect(configError({ MONITORING_HOST: text }).message).toContain('MONITORING_HOST=');
  });
});

describe('booleans', () => {
  const truthy = ['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', 'On', ' true '];
  const falsy = ['false', 'FALSE', '0', 'no', 'No', 'off', 'OFF', '\tfalse\n'];

  it.each(booleanFields.map((f) => [label(f), f] as const))('%s accepts every spelling', (_, field) => {
    for (const text of truthy) expect(readField(loadConfig({ [field.env]: text }).config, field)).toBe(true);
    for (const text of falsy) expect(readField(loadConfig({ [field.env]: text }).config, field)).toBe(false);
  });

  it.each(['maybe', 'y', 'n', 't', '2', 'enabled'])('rejects %j', (text) => {
    expect(configError({ ALERT_ENABLED: text }).problems).toEqual([
      `ALERT_ENABLED=${JSON.stringify(text)} (expected a boolean (true/false, yes/no, on/off, 1/0))`,
    ]);
  });
});

describe('the error', () => {
  it('has a stable code, a name and the list of problems', () => {
    const error = configError({ METRICS_PORT: '80' });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('PBM_CONFIG_INVALID');
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual(['METRICS_PORT="80" (expected an integer from 1024 to 65535)']);
  });

  it('names every bad variable in one line', () => {
    const error = configError({ METRICS_PORT: '80', ALERT_ON_TRADE: 'loud' });
    expect(error.message).toBe(
      'invalid configuration: METRICS_PORT="80" (expected an integer from 1024 to 65535); ' +
        'ALERT_ON_TRADE="loud" (expected one of on, silent, off, failures)',
    );
  });

  it('reports all fields at once when all are bad', () => {
    const env = Object.fromEntries(strictCheckedFields.map((f) => [f.env, wrongType(f).text]));
    const error = configError(env);
    expect(error.problems).toHaveLength(strictCheckedFields.length);
    for (const field of strictCheckedFields) expect(error.message).toContain(`${field.env}=`);
    expect(error.message).not.toMatch(/[\n\r]/);
  });

  it.each(secretFields.map((f) => [label(f), f] as const))('never echoes the value of %s', (_, field) => {
    const secret = 'bad secret 123456:ABCDEF';
    const fromEnv = configError({ [field.env]: secret });
    expect(fromEnv.problems).toEqual([`${field.env}=<redacted> (expected ${describeExpected(field)})`]);
    const fromOption = configError({}, overrideOf(field, secret));
    expect(fromOption.problems).toEqual([`${optionName(field)}=<redacted> (expected ${describeExpected(field)})`]);
    for (const error of [fromEnv, fromOption]) {
      expect(error.message).not.toContain('ABCDEF');
      expect(JSON.stringify(error)).not.toContain('ABCDEF');
    }
  });

  it('truncates a long value', () => {
    const error = configError({ BOT_ENV: 'x'.repeat(10_000) });
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain(`BOT_ENV="${'x'.repeat(64)}…"`);
  });

  it('keeps a hostile value on one line and printable', () => {
    const error = configError({ BOT_ENV: 'a\nERROR fake line\r\u2028\u202e\u0000' });
    expect(error.message).not.toMatch(/[\n\r\u2028\u202e\u0000]/);
    expect(error.problems).toEqual(['BOT_ENV="a\\nERROR fake line\\r\\u2028\\u202e\\u0000" (expected one of production, staging, development)']);
  });

  it('is thrown only with MONITORING_STRICT=true (env or option), and says so', () => {
    expect(configError({ METRICS_PORT: '80', MONITORING_STRICT: 'true' }).strict).toBe(true);
    expect(configError({ METRICS_PORT: '80' }, { strict: true }).strict).toBe(true);
    expect(() => loadConfig({ METRICS_PORT: '80' })).not.toThrow();
    // An unreadable MONITORING_STRICT must not make things fatal: monitoring never hurts trading.
    expect(() => loadConfig({ METRICS_PORT: '80', MONITORING_STRICT: 'ture' })).not.toThrow();
  });
});

// One bad variable used to turn all monitoring off, the loss alerts included (issue 15).
describe('without MONITORING_STRICT a bad value costs only its own setting', () => {
  it('warns once, naming the variable, what was expected and the default used, and keeps the other settings', () => {
    const { config, warnings } = loadConfig({ ALERT_COOLDOWN_MINUTES: '0', DAILY_LOSS_CRITICAL_PERCENT: '0.2' });
    expect(warnings).toEqual(['ALERT_COOLDOWN_MINUTES="0" (expected an integer from 1 to 60): using the default 5']);
    expect(config.alertCooldownMinutes).toBe(5);
    expect(config.dailyLossCriticalPercent).toBe(0.2);
    expect(config.enabled).toBe(true);
  });

  it.each(envCheckedFields.map((f) => [label(f), f] as const))('%s: a wrong value is one warning and the default', (_, field) => {
    const { config, warnings } = loadConfig({ [field.env]: wrongType(field).text });
    expect(readField(config, field)).toEqual(field.default);
    const mine = warnings.filter((w) => w.startsWith(`${field.env}=`));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatch(field.default === undefined ? /: left unset$/ : /: using the default /);
  });

  it('degrades a bad option the same way', () => {
    const { config, warnings } = loadConfig({}, { metricsPort: 80, nonsense: 1 } as Parameters<typeof loadConfig>[1]);
    expect(config.metricsPort).toBe(9464);
    expect(warnings).toEqual([
      'options.nonsense (not a configuration option): ignored',
      'options.metricsPort=80 (expected an integer from 1024 to 65535): using the default 9464',
    ]);
  });

  it('moves /health to its default port when both servers were given the same one', () => {
    const { config, warnings } = loadConfig({ METRICS_PORT: '9100', DASHBOARD_PORT: '9100' });
    expect(config).toMatchObject({ metricsPort: 9100, dashboardPort: 8080, dashboardEnabled: true });
    expect(warnings[0]).toMatch(/^DASHBOARD_PORT=9100 and METRICS_PORT=9100 \(expected different ports.*\): the health server uses the default 8080$/);
  });

  it('turns /health off when the clash is with its own default', () => {
    const { config, warnings } = loadConfig({ METRICS_PORT: '8080' });
    expect(config).toMatchObject({ metricsPort: 8080, dashboardEnabled: false });
    expect(warnings[0]).toMatch(/: the health server stays off$/);
  });

  it('says that a retired setting no longer does anything, and what replaced it', () => {
    const { warnings } = loadConfig({ MEMORY_THRESHOLD_SCANNER_MB: '300' });
    expect(warnings).toEqual([
      'MEMORY_THRESHOLD_SCANNER_MB is set but no longer has an effect: there is no scanner component; the wallet scanner is judged by MEMORY_THRESHOLD_WALLET_MONITOR_MB',
    ]);
  });

  it('shows a hostile value escaped and cut in the warning', () => {
    const { warnings } = loadConfig({ BOT_ENV: `\u202e${'x'.repeat(100_000)}` });
    expect(warnings[0]!.length).toBeLessThan(200);
    expect(warnings[0]).toContain(`BOT_ENV="\\u202e${'x'.repeat(63)}…"`);
  });
});

describe('overrides', () => {
  it.each(CONFIG_FIELDS.map((f) => [label(f), f] as const))('%s: an option wins over the env', (_, field) => {
    const { value, text } = nonDefault(field);
    const envValue = field.kind === 'string' ? 'from-env' : String(field.default);
    const { config } = loadConfig({ [field.env]: envValue }, overrideOf(field, value));
    expect(readField(config, field)).toBe(value);
    expect(readField(loadConfig({ [field.env]: text }).config, field)).toBe(value);
  });

  it('an option wins over an invalid env value, which is then not reported', () => {
    expect(loadConfig({ METRICS_PORT: '80' }, { metricsPort: 9100 }).config.metricsPort).toBe(9100);
  });

  it.each(CONFIG_FIELDS.filter((f) => f.key !== 'strict').map((f) => [label(f), f] as const))('%s: an invalid option is named options.<key>', (_, field) => {
    const { option } = wrongType(field);
    const error = configError({}, overrideOf(field, option));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${optionName(field).replace(/\./g, '\\.')}=`));
    expect(error.problems[0]).toContain(`(expected ${describeExpected(field)})`);
  });

  it.each(numericFields.map((f) => [label(f), f] as const))('%s: an option out of range is rejected', (_, field) => {
    expect(configError({}, overrideOf(field, field.max + 1)).problems).toEqual([
      `${optionName(field)}=${field.max + 1} (expected ${describeExpected(field)})`,
    ]);
  });

  it('options are not coerced from strings', () => {
    expect(configError({}, { dashboardPort: '8081' }).problems).toEqual([
      'options.dashboardPort="8081" (expected an integer from 1024 to 65535)',
    ]);
    expect(configError({}, { maxCpuPercent: Number.NaN }).problems).toEqual([
      'options.maxCpuPercent=NaN (expected a number from 0.1 to 5)',
    ]);
  });

  it('an option left undefined falls through to the env', () => {
    expect(loadConfig({ METRICS_PORT: '9100' }, { metricsPort: undefined }).config.metricsPort).toBe(9100);
  });

  it('memory thresholds can be overridden one at a time', () => {
    const { config } = loadConfig({ MEMORY_THRESHOLD_TRADE_EXECUTOR_MB: '400' }, { memoryThresholdMb: { wallet_monitor: 600 } });
    expect(config.memoryThresholdMb).toEqual({ wallet_monitor: 600, trade_executor: 400, total_system: 2000 });
  });

  it('rejects unknown options and a malformed group', () => {
    expect(configError({}, { dashbordPort: 8081 }).problems).toEqual(['options.dashbordPort (not a configuration option)']);
    expect(configError({}, { memoryThresholdMb: { wallet: 1 } }).problems).toEqual([
      'options.memoryThresholdMb.wallet (not a configuration option)',
    ]);
    expect(configError({}, { memoryThresholdMb: 500 }).problems).toEqual([
      'options.memoryThresholdMb=500 (expected an object with wallet_monitor, trade_executor, total_system)',
    ]);
  });
});

describe('the port clash', () => {
  it('rejects equal ports when both servers are enabled', () => {
    expect(configError({ METRICS_PORT: '8080' }).problems).toEqual([
      'DASHBOARD_PORT=8080 and METRICS_PORT=8080 (expected different ports while both DASHBOARD_ENABLED and METRICS_ENABLED are true)',
    ]);
  });

  it('names options when the ports come from options', () => {
    expect(configError({}, { dashboardPort: 9464 }).message).toContain('options.dashboardPort=9464 and METRICS_PORT=9464');
  });

  it.each([['DASHBOARD_ENABLED'], ['METRICS_ENABLED']])('allows equal ports when %s is false', (env) => {
    const { config } = loadConfig({ METRICS_PORT: '8080', [env]: 'false' });
    expect(config.metricsPort).toBe(config.dashboardPort);
  });

  it('is reported along with other problems', () => {
    expect(configError({ METRICS_PORT: '8080', BOT_ENV: 'qa' }).problems).toHaveLength(2);
  });
});

describe('the standard OpenTelemetry names', () => {
  it('OTEL_EXPORTER_PROMETHEUS_PORT and _HOST set the metrics server when the plugin\'s own names are unset', () => {
    const { config, warnings } = loadConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: '9500', OTEL_EXPORTER_PROMETHEUS_HOST: '::1' });
    expect([config.metricsPort, config.metricsHost, warnings]).toEqual([9500, '::1', []]);
  });

  it('the plugin\'s own names win where both are set', () => {
    const { config } = loadConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: '9500', METRICS_PORT: '9600', OTEL_EXPORTER_PROMETHEUS_HOST: '::1', METRICS_HOST: '127.0.0.2' });
    expect([config.metricsPort, config.metricsHost]).toEqual([9600, '127.0.0.2']);
  });

  it('a bad OTEL_EXPORTER_PROMETHEUS_PORT is named as such', () => {
    expect(loadConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: 'x' }).warnings).toEqual([
      'OTEL_EXPORTER_PROMETHEUS_PORT="x" (expected an integer from 1024 to 65535): using the default 9464',
    ]);
  });

  it.each([
    ['otlp', false],
    ['prometheus', true],
    ['otlp, Prometheus', true],
    ['prometheus,none', false],
    ['none', false],
  ])('OTEL_METRICS_EXPORTER=%s decides /metrics when METRICS_ENABLED is unset', (value, on) => {
    expect(loadConfig({ OTEL_METRICS_EXPORTER: value }).config.metricsEnabled).toBe(on);
    expect(loadConfig({ OTEL_METRICS_EXPORTER: value, METRICS_ENABLED: 'true' }).config.metricsEnabled).toBe(true);
    expect(loadConfig({ OTEL_METRICS_EXPORTER: value }, { metricsEnabled: true }).config.metricsEnabled).toBe(true);
  });

  it('METRICS_HOST off loopback without a token is warned about, MONITORING_HOST on loopback or not', () => {
    expect(loadConfig({ METRICS_HOST: '0.0.0.0', DASHBOARD_ENABLED: 'false' }).warnings).toEqual([
      'METRICS_HOST="0.0.0.0" and no MONITORING_AUTH_TOKEN set, so /metrics and /health answer anyone who can reach the port',
    ]);
    expect(loadConfig({ MONITORING_HOST: '0.0.0.0', METRICS_HOST: '127.0.0.1', DASHBOARD_ENABLED: 'false' }).warnings).toEqual([]);
  });
});

describe('when monitoring is disabled', () => {
  it('neither throws nor warns, whatever else is set', () => {
    const env = { MONITORING_ENABLED: 'false', METRICS_PORT: '80', ALERT_ENABLED: 'false', MONITORING_STRICT: 'true' };
    const { config, warnings } = loadConfig(env);
    expect(config.enabled).toBe(false);
    expect(config.metricsPort).toBe(9464);
    expect(warnings).toEqual([]);
    expect(loadConfig({ METRICS_PORT: '80' }, { enabled: false }).config.enabled).toBe(false);
  });

  it('an unreadable MONITORING_ENABLED is itself an error', () => {
    expect(configError({ MONITORING_ENABLED: 'nope', METRICS_PORT: '80' }).problems).toHaveLength(2);
  });
});

describe('warnings', () => {
  const cases: { name: string; warn: Env; quiet: Env; mentions: string[]; options?: Record<string, unknown> }[] = [
    {
      name: 'CPU budget above 1 % of a core',
      warn: { MONITORING_MAX_CPU_PERCENT: '1.01' },
      quiet: { MONITORING_MAX_CPU_PERCENT: '1' },
      mentions: ['MONITORING_MAX_CPU_PERCENT=1.01'],
    },
    {
      name: 'memory budget above 100 MB',
      warn: { MONITORING_MAX_MEMORY_MB: '101' },
      quiet: { MONITORING_MAX_MEMORY_MB: '100' },
      mentions: ['MONITORING_MAX_MEMORY_MB=101'],
    },
    {
      name: 'daily-loss critical equal to warning',
      warn: { DAILY_LOSS_CRITICAL_PERCENT: '0.12' },
      quiet: { DAILY_LOSS_CRITICAL_PERCENT: '0.121' },
      mentions: ['DAILY_LOSS_CRITICAL_PERCENT=0.12', 'DAILY_LOSS_WARNING_PERCENT=0.12'],
    },
    {
      name: 'daily-loss critical below warning',
      warn: { DAILY_LOSS_WARNING_PERCENT: '0.2' },
      quiet: { DAILY_LOSS_WARNING_PERCENT: '0.149' },
      mentions: ['DAILY_LOSS_CRITICAL_PERCENT=0.15', 'DAILY_LOSS_WARNING_PERCENT=0.2'],
    },
    {
      name: 'health server without alerts',
      warn: { ALERT_ENABLED: 'false' },
      quiet: { ALERT_ENABLED: 'false', DASHBOARD_ENABLED: 'false' },
      mentions: ['DASHBOARD_ENABLED', 'ALERT_ENABLED'],
    },
    {
      name: 'bot token without chat id',
      warn: { TELEGRAM_BOT_TOKEN: '123:SECRETTOKEN' },
      quiet: { TELEGRAM_BOT_TOKEN: '123:SECRETTOKEN', TELEGRAM_CHAT_ID: '-100' },
      mentions: ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID', 'log only'],
    },
    {
      name: 'chat id without bot token',
      warn: { TELEGRAM_CHAT_ID: '-100' },
      quiet: { TELEGRAM_CHAT_ID: '-100', TELEGRAM_BOT_TOKEN: '123:SECRETTOKEN' },
      mentions: ['TELEGRAM_CHAT_ID', 'TELEGRAM_BOT_TOKEN', 'log only'],
    },
    {
      name: 'servers exposed beyond loopback without a token',
      warn: { MONITORING_HOST: '0.0.0.0' },
      quiet: { MONITORING_HOST: '0.0.0.0', MONITORING_AUTH_TOKEN: 'scrape-token-0123456789' },
      mentions: ['MONITORING_HOST="0.0.0.0"', 'MONITORING_AUTH_TOKEN'],
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s: warns once, naming the variables', (_, c) => {
    const { warnings } = loadConfig(c.warn);
    expect(warnings).toHaveLength(1);
    for (const text of c.mentions) expect(warnings[0]).toContain(text);
    expect(warnings[0]).not.toContain('SECRETTOKEN');
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: silent when the condition does not hold', (_, c) => {
    expect(loadConfig(c.quiet).warnings).toEqual([]);
  });

  it('says what the CPU budget is compared with', () => {
    expect(loadConfig({ MONITORING_MAX_CPU_PERCENT: '2' }).warnings).toEqual([
      'MONITORING_MAX_CPU_PERCENT=2 is above the recommended 1 % of one core',
    ]);
  });

  it('names options when the value came from an option', () => {
    expect(loadConfig({}, { maxCpuPercent: 2, alertEnabled: false }).warnings).toEqual([
      'options.maxCpuPercent=2 is above the recommended 1 % of one core',
      'DASHBOARD_ENABLED=true with options.alertEnabled=false: /health reports problems but no alert is sent',
    ]);
  });

  it('reports every condition that holds', () => {
    const env = Object.assign({}, ...cases.slice(0, 5).map((c) => c.warn), { TELEGRAM_CHAT_ID: '-100' });
    expect(loadConfig(env).warnings).toHaveLength(5);
  });
});

describe('purity', () => {
  it('does not read process.env or mutate its inputs', () => {
    const env = Object.freeze({ DASHBOARD_PORT: '8081' });
    const overrides = Object.freeze({ memoryThresholdMb: Object.freeze({ trade_executor: 10 }) });
    const { config } = loadConfig(env, overrides);
    expect(config.dashboardPort).toBe(8081);
    expect(config.memoryThresholdMb.trade_executor).toBe(10);
    const before = process.env['METRICS_PORT'];
    try {
      process.env['METRICS_PORT'] = '9999';
      expect(loadConfig({}).config.metricsPort).toBe(9464);
    } finally {
      if (before === undefined) delete process.env['METRICS_PORT'];
      else process.env['METRICS_PORT'] = before;
    }
  });
});
