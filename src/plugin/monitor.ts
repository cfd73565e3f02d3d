/**
 * Assembles the plugin from its parts, in the order data flows: state → telemetry (SDK, readers,
 * instruments) → alerting → evaluation → ingest → endpoints → exit hooks. Each part has its own
 * file beside this one with its own start and stop. `startMonitoring` never throws unless
 * MONITORING_STRICT asks it to; every failure is one log line and less monitoring, never a
 * crashed bot.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ConfigError, loadConfig, type MonitoringConfig } from '../core/config.js';
import { configureLogger, log } from '../core/log.js';
import { registerSecrets, secretsFromEnv } from '../core/redact.js';
import { MonitoringCircuitBreaker } from '../rules/breaker.js';
import { ruleSettings } from '../rules/catalog.js';
import { BotState } from '../state/bot-state.js';
import { EventLoopDelay } from '../state/event-loop.js';
import { HealthBoard } from '../state/health-board.js';
import { SystemSampler } from '../state/system-sampler.js';
import { startAlerting } from './alerting.js';
import { startEndpoints } from './endpoints.js';
import { startEvaluation } from './evaluation.js';
import { startIngest } from './ingest.js';
import { installExitHooks, type ExitHooks } from './lifecycle.js';
import { sdkDisabled, type StartedSdk } from './sdk.js';
import { PACKAGE_NAME, startTelemetry } from './telemetry.js';

export { PACKAGE_NAME };
const VERSION: string = createRequire(import.meta.url)('../../package.json').version;

/** Programmatic options: any config field (they win over the environment), plus the env itself. */
export interface MonitoringOptions extends Partial<MonitoringConfig> {
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Monitor {
  readonly config: MonitoringConfig;
  /** Bound ports, once listening (undefined when the server is off or failed to start). */
  readonly ports: { metrics?: number; health?: number };
  /** Settles once both servers have bound their ports or given up (start does not wait for it). */
  readonly listening: Promise<void>;
  /** Flushes telemetry and closes servers and timers; idempotent; never rejects. */
  shutdown(): Promise<void>;
}

const INSTANCE = Symbol.for('polymarket-bot-monitoring.instance');
type Global = typeof globalThis & { [INSTANCE]?: Promise<Monitor | undefined> };

/** Time the first cycle may take before /metrics and /health answer without it. */
const FIRST_CYCLE_WAIT_MS = 2_000;

/**
 * Starts monitoring once per process: a second call (the preload and the bot's own code both
 * asking, or the preload loaded twice) gets the running instance.
 */
export function startMonitoring(options: MonitoringOptions = {}): Promise<Monitor | undefined> {
  const global = globalThis as Global;
  if (global[INSTANCE]) {
    log().info('monitoring already started in this process; reusing it');
    return global[INSTANCE];
  }
  const started = start(options).catch((error: unknown) => {
    if (error instanceof ConfigError && error.strict) throw error;
    log().error(`monitoring disabled: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  global[INSTANCE] = started;
  return started;
}

/** Stops the instance `startMonitoring` started, if any. */
export async function shutdown(): Promise<void> {
  const global = globalThis as Global;
  const monitor = await global[INSTANCE]?.catch(() => undefined);
  delete global[INSTANCE];
  await monitor?.shutdown();
}

async function start(options: MonitoringOptions): Promise<Monitor | undefined> {
  const { env = process.env, ...overrides } = options;
  const { config, warnings } = loadConfig(env, overrides);
  if (!config.enabled) return undefined;

  configureLogger({ level: config.logLevel, format: config.logFormat });
  if (sdkDisabled(env)) {
    // The standard switch for the whole OpenTelemetry SDK: with no SDK there is nothing to serve,
    // so the plugin stays off rather than opening ports that could only answer empty.
    log().info('monitoring off: OTEL_SDK_DISABLED=true');
    return undefined;
  }
  registerSecrets(secretsFromEnv(env));
  for (const warning of warnings) log().warn(warning);

  const now = Date.now;
  const monotonic = (): number => performance.now();
  const startedAt = now();
  const settings = ruleSettings(config);
  const state = {
    bot: new BotState(now),
    sampler: new SystemSampler(),
    board: new HealthBoard(),
    eventLoop: new EventLoopDelay(),
    breaker: new MonitoringCircuitBreaker({
      enabled: config.circuitBreakerEnabled,
      cpuThreshold: config.circuitBreakerCpuThreshold,
      memoryThreshold: config.circuitBreakerMemoryThreshold,
      recoveryEnabled: config.recoveryEnabled,
      recoveryIntervalMs: config.recoveryIntervalSeconds * 1000,
      maxRecoveryAttempts: config.maxRecoveryAttempts,
      pluginCpuBudget: config.maxCpuPercent,
      pluginMemoryBudgetMb: config.maxMemoryMb,
      now,
    }),
  };
  const tracingAllowed = (): boolean => !state.breaker.state.tripped;
  let route = 'alertmanager';

  const telemetry = await startTelemetry({
    config,
    env,
    version: VERSION,
    gauges: { ...state, breaker: () => state.breaker.state, alertRoute: () => route },
    tracingAllowed,
    now,
    monotonic,
  });
  const alerting = startAlerting({ config, settings, instruments: telemetry.instruments, selfTime: telemetry.selfTime, shedding: () => !tracingAllowed(), now, monotonic });
  route = alerting.route;
  const evaluation = startEvaluation({ config, settings, state, telemetry, alerting, startedAt, now, monotonic });
  const ingest = startIngest({ config, version: VERSION, bot: state.bot, telemetry, tracingAllowed, onTrade: alerting.trade, now, monotonic });
  const endpoints = startEndpoints({
    config,
    telemetry,
    board: state.board,
    sampler: state.sampler,
    breaker: state.breaker,
    onBreakerReset: alerting.breaker,
    ready: evaluation.ready,
    openAfter: Promise.race([
      Promise.all([evaluation.firstCycle, telemetry.hostMetrics]),
      new Promise<void>((resolve) => setTimeout(resolve, FIRST_CYCLE_WAIT_MS).unref()),
    ]),
    now,
  });

  let hooks: ExitHooks | undefined;
  let closing: Promise<void> | undefined;
  const monitor: Monitor = {
    config,
    ports: endpoints.ports,
    listening: endpoints.listening,
    shutdown: () =>
      (closing ??= (async () => {
        hooks?.remove();
        evaluation.stop();
        ingest.stop();
        telemetry.measurements.flush();
        state.eventLoop.stop();
        await alerting.stop(config.shutdownTimeoutMs);
        await Promise.allSettled([endpoints.stop(), telemetry.stop()]);
      })()),
  };
  hooks = installExitHooks(
    {
      shutdown: () => monitor.shutdown(),
      flush: async () => {
        telemetry.measurements.flush();
        await Promise.allSettled([alerting.flush(config.shutdownTimeoutMs), telemetry.flush()]);
      },
      abandon: (signal) => {
        // Every alert is already a line in this log; what dies with the process is Telegram's
        // copy (counted by the sink as it closes) and spans or metrics not yet exported.
        log().warn(`${signal}: the bot exits now; monitoring stops without finishing its delivery (pending Telegram alerts and telemetry are dropped)`);
        alerting.abandon();
      },
    },
    config.shutdownTimeoutMs,
  );
  void monitor.listening.then(() => log().info(startedLine(config, endpoints.ports, alerting.view.telegramConfigured, telemetry.sdk.exporting)));
  return monitor;
}

function startedLine(
  config: MonitoringConfig,
  ports: Monitor['ports'],
  telegram: boolean,
  exporting: StartedSdk['exporting'],
): string {
  const scheme = config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined ? 'https' : 'http';
  const metrics = ports.metrics ? `${scheme}://${config.metricsHost ?? config.host}:${ports.metrics}/metrics` : 'off';
  const health = ports.health ? `${scheme}://${config.host}:${ports.health}/health` : 'off';
  const alerts = !config.alertEnabled ? 'off' : telegram ? 'to Telegram and the log' : 'to the log only';
  return `monitoring started: metrics ${metrics}, health ${health}, evaluation every ${config.monitorIntervalSeconds}s, alerts ${alerts}, span export ${exporting.traces.join(' and ') || 'off'}, metric push ${exporting.metrics.join(' and ') || 'off'}`;
}
