/**
 * Assembles the plugin: config → logger → SDK with its readers → instruments → evaluation cycle
 * → HTTP servers → exit hooks. `startMonitoring` never throws unless MONITORING_STRICT asks it
 * to; every failure is one log line and less monitoring, never a crashed bot.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { HostMetrics } from '@opentelemetry/host-metrics';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { ConfigError, loadConfig, type MonitoringConfig } from './config.js';
import { bridgeOtelDiag, configureLogger, log } from './log.js';
import { registerSecrets, secretsFromEnv } from './redact.js';
import type { SelfActivity } from './model.js';
import { HEALTH_CHECKS, type BreakerView } from './evaluate/checks.js';
import { Evaluator } from './evaluate/evaluator.js';
import { HealthBoard } from './evaluate/health.js';
import { createEvaluatingReader } from './evaluate/reader.js';
import { SystemSampler } from './evaluate/sampler.js';
import { healthRoutes } from './http/health.js';
import { READ_METHODS, startServer, type RunningServer } from './http/server.js';
import { installExitHooks, type ExitHooks } from './lifecycle.js';
import { BotState } from './telemetry/bot-state.js';
import { EventLoopDelay } from './telemetry/event-loop.js';
import { gaugeReaders } from './telemetry/gauges.js';
import { createInstruments } from './telemetry/instruments.js';
import { parseApiHosts, subscribe } from './telemetry/subscribers.js';
import { startSdk, type StartedSdk } from './telemetry/sdk.js';

export const PACKAGE_NAME = 'polymarket-bot-monitoring';
const VERSION: string = createRequire(import.meta.url)('../package.json').version;

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

  configureLogger({ level: config.logLevel });
  registerSecrets(secretsFromEnv(env));
  for (const warning of warnings) log().warn(warning);

  const sampler = new SystemSampler();
  const board = new HealthBoard();
  const bot = new BotState(Date.now);
  const eventLoop = new EventLoopDelay();
  // The breaker arrives with the evaluators; until then monitoring is never shed.
  const breaker: BreakerView = { tripped: false, reason: null };
  const alertView = { telegramConfigured: Boolean(config.telegramBotToken && config.telegramChatId), lastDelivery: null };

  let onCycleRecorded: (overall: string, seconds: number) => void = () => {};
  const evaluator = new Evaluator({
    sampler,
    board,
    checks: HEALTH_CHECKS,
    inputs: () => ({ breaker, alerts: alertView }),
    onCycle: (overall, seconds) => onCycleRecorded(overall, seconds),
    onCheckError: (component, error) => log().warn(`health check for ${component} failed: ${String(error)}`),
    now: Date.now,
    monotonic: () => performance.now(),
  });

  let stopping = false;
  let markReady: () => void = () => {};
  const firstCycle = new Promise<void>((resolve) => (markReady = resolve));
  let ready = false;
  let onCollected: (ms: number) => void = () => {};
  const evaluatingReader = createEvaluatingReader(
    config.monitorIntervalSeconds * 1000,
    () => {
      if (stopping) return; // the final flush at shutdown is not a cycle
      eventLoop.roll();
      evaluator.runCycle();
      if (!ready) {
        ready = true;
        markReady();
      }
    },
    (ms) => onCollected(ms),
  );

  const prometheus = config.metricsEnabled ? new PrometheusExporter({ preventServerStart: true }) : undefined;
  // A safety net under the bounded label sets: no instrument of ours can hold more series than
  // this, whatever a bot publishes (the SDK folds the excess into one overflow series).
  const views: ViewOptions[] = [{ instrumentName: '*', meterName: PACKAGE_NAME, aggregationCardinalityLimit: 200 }];
  const sdk: StartedSdk = await startSdk({
    env,
    readers: prometheus ? [prometheus, evaluatingReader] : [evaluatingReader],
    views,
  });
  // After NodeSDK: its constructor installs a console diag logger when OTEL_LOG_LEVEL is set.
  bridgeOtelDiag(log(), {
    // host-metrics announces its successor package at every start; its successor does not yet
    // share this SDK's instrumentation version, so the notice is ours to keep quiet.
    ignore: [/host-metrics is deprecated/],
  });

  const meter = sdk.meterProvider.getMeter(PACKAGE_NAME, VERSION);
  const instruments = createInstruments(
    meter,
    gaugeReaders({ sampler, board, breaker: () => breaker, bot, eventLoop }),
    (name, error) => log().warn(`gauge ${name} could not be read: ${String(error)}`),
  );
  const selfTime = (activity: SelfActivity, ms: number): void => {
    if (ms > 0) instruments.counters.selfTime.add(ms / 1000, { activity });
  };
  onCollected = (ms) => selfTime('collection', ms);
  onCycleRecorded = (overall, seconds) => {
    instruments.counters.healthChecks.add(1, { status: overall });
    instruments.histograms.healthCheckDuration.record(seconds);
    selfTime('evaluation', seconds * 1000);
  };
  const unsubscribe = subscribe({
    scanDuration: instruments.histograms.walletScanDuration,
    tradeDuration: instruments.histograms.tradeExecutionDuration,
    apiRequests: instruments.counters.apiRequests,
    state: bot,
    tracer: sdk.tracerProvider?.getTracer(PACKAGE_NAME, VERSION),
    tracingAllowed: () => !breaker.tripped,
    apiHosts: parseApiHosts(config.apiHosts),
    onError: (where, error) => log().warn(`subscriber ${where} failed: ${String(error)}`),
    now: Date.now,
    monotonic: () => performance.now(),
  });
  new HostMetrics({
    meterProvider: sdk.meterProvider,
    name: `${PACKAGE_NAME}-host`,
    // Network counters cost a /proc walk per collection and say little about a trading bot.
    metricGroups: ['system.cpu', 'system.memory', 'process.cpu', 'process.memory'],
  }).start();

  // The first cycle runs right away so that the first scrape already has every series.
  void evaluatingReader.forceFlush().catch((error: unknown) => {
    log().warn(`first evaluation failed: ${String(error)}`);
  });
  // Servers open once it has (or after a bound), so no client ever sees a half-empty picture.
  const afterFirstCycle = Promise.race([
    firstCycle,
    new Promise<void>((resolve) => setTimeout(resolve, FIRST_CYCLE_WAIT_MS).unref()),
  ]);

  const onServerError = (message: string): void => {
    log().error(message);
  };
  const ports: Monitor['ports'] = {};
  const servers: (() => Promise<RunningServer | undefined>)[] = [];
  if (prometheus) {
    servers.push(() =>
      startServer({
        name: 'metrics',
        host: config.host,
        port: config.metricsPort,
        onError: onServerError,
        routes: {
          '/metrics': {
            methods: READ_METHODS,
            handler: (req, res) => {
              const started = performance.now();
              res.once('finish', () => selfTime('collection', performance.now() - started));
              prometheus.getMetricsRequestHandler(req, res);
            },
          },
        },
      }).then((server) => {
        if (server) ports.metrics = server.port;
        return server;
      }),
    );
  }
  if (config.dashboardEnabled) {
    const routes = healthRoutes({
      board,
      sampler,
      breaker: () => ({ ...breaker, since: null, recoveryAttempts: 0 }),
      ready: () => ready,
      now: Date.now,
    });
    servers.push(() =>
      startServer({ name: 'health', host: config.host, port: config.dashboardPort, onError: onServerError, routes }).then(
        (server) => {
          if (server) ports.health = server.port;
          return server;
        },
      ),
    );
  }
  // Not awaited: a slow bind (a host name to resolve) must not hold up the bot's first line.
  const running = afterFirstCycle.then(() => Promise.all(servers.map((open) => open())));

  let hooks: ExitHooks | undefined;
  let closing: Promise<void> | undefined;
  const monitor: Monitor = {
    config,
    ports,
    listening: running.then(() => undefined),
    shutdown: () =>
      (closing ??= (async () => {
        stopping = true;
        hooks?.remove();
        unsubscribe();
        eventLoop.stop();
        const closed = running.then((list) => Promise.allSettled(list.map((s) => s?.close())));
        await Promise.allSettled([closed, sdk.shutdown()]);
      })()),
  };
  hooks = installExitHooks(() => monitor.shutdown(), config.shutdownTimeoutMs);
  void monitor.listening.then(() => log().info(
    `monitoring started: metrics ${ports.metrics ? `http://${config.host}:${ports.metrics}/metrics` : 'off'}, health ${
      ports.health ? `http://${config.host}:${ports.health}/health` : 'off'
    }, evaluation every ${config.monitorIntervalSeconds}s, OTLP traces ${sdk.otlp.traces ? 'on' : 'off'}, OTLP metrics ${
      sdk.otlp.metrics ? 'on' : 'off'
    }`,
  ));
  return monitor;
}
