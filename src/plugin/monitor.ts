/**
 * Assembles the plugin: config → logger → SDK with its readers → instruments → evaluation cycle
 * → HTTP servers → exit hooks. `startMonitoring` never throws unless MONITORING_STRICT asks it
 * to; every failure is one log line and less monitoring, never a crashed bot.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { ResourceMetrics, ViewOptions } from '@opentelemetry/sdk-metrics';
import { ConfigError, loadConfig, type MonitoringConfig } from '../core/config.js';
import { bridgeOtelDiag, configureLogger, log, writeLine } from '../core/log.js';
import { registerSecrets, secretsFromEnv } from '../core/redact.js';
import { isFailure, type SelfActivity } from '../core/model.js';
import { createLogSink } from '../alerts/log-sink.js';
import { Notifier, type Draft } from '../alerts/notifier.js';
import { createTelegramSink } from '../alerts/telegram.js';
import { createTradeNotices, isRoutineOutcome, tradeModes } from '../alerts/trade-notices.js';
import type { AlertSink, DeliveryObserver } from '../alerts/types.js';
import { AlertHistory, type Decision } from '../rules/alert-history.js';
import { MonitoringCircuitBreaker, type BreakerTransition } from '../rules/breaker.js';
import { HEALTH_CHECKS } from '../rules/checks.js';
import { Evaluator } from '../rules/evaluator.js';
import { HealthBoard } from '../state/health-board.js';
import { createEvaluatingReader } from '../rules/reader.js';
import { SystemSampler } from '../state/system-sampler.js';
import { adminRoutes } from '../http/admin.js';
import { requireBearer } from '../http/auth.js';
import { healthRoutes } from '../http/health.js';
import { metricsRoute } from '../http/metrics.js';
import { startServer, type RunningServer } from '../http/server.js';
import { installExitHooks, type ExitHooks } from './lifecycle.js';
import { MeasurementBatch } from '../metrics/batch.js';
import { BotState } from '../state/bot-state.js';
import { EventLoopDelay } from '../state/event-loop.js';
import { gaugeReaders } from '../metrics/gauges.js';
import { createInstruments } from '../metrics/instruments.js';
import { apiNames, parseApiHosts } from '../ingest/http-clients.js';
import { subscribe } from '../ingest/subscribers.js';
import { instrumentClobClient, type ClobInstrumentation } from '../ingest/clob-client.js';
import { BreakerAwareSampler, samplerFromEnv } from '../ingest/trace-sampler.js';
import { otlpEndpointWarnings, sdkDisabled, startSdk, type StartedSdk } from './sdk.js';

export const PACKAGE_NAME = 'polymarket-bot-monitoring';
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
const MIB = 1024 * 1024;
/**
 * What one series of the plugin's costs it in memory, for MONITORING_MAX_MEMORY_MB: the SDK keeps,
 * per series and per reader, its attributes and accumulation. An estimate: measured as heap growth
 * per added series with two cumulative readers, about 0.8 KB on average over a histogram and a
 * counter series (SDK 2.x, Node 24); counted at 2 KB to cover attributes longer than the measured
 * ones and the exporters' own copies.
 */
const PLUGIN_BYTES_PER_SERIES = 2048;
/** After a recovery, the breaker's next trip and recovery within this time go to the log only. */
const BREAKER_QUIET_MS = 30 * 60_000;

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
  const sampler = new SystemSampler();
  const board = new HealthBoard();
  const bot = new BotState(now);
  const eventLoop = new EventLoopDelay();
  const breaker = new MonitoringCircuitBreaker({
    enabled: config.circuitBreakerEnabled,
    cpuThreshold: config.circuitBreakerCpuThreshold,
    memoryThreshold: config.circuitBreakerMemoryThreshold,
    recoveryEnabled: config.recoveryEnabled,
    recoveryIntervalMs: config.recoveryIntervalSeconds * 1000,
    maxRecoveryAttempts: config.maxRecoveryAttempts,
    pluginCpuBudget: config.maxCpuPercent,
    pluginMemoryBudgetMb: config.maxMemoryMb,
    now,
  });
  const history = new AlertHistory({
    duplicateWindowMs: config.duplicateAlertWindowMinutes * 60_000,
    cooldownMs: config.alertCooldownMinutes * 60_000,
    now,
  });
  const alertView: { telegramConfigured: boolean; lastDelivery: 'ok' | 'failed' | null; droppedSinceLastCycle: number } = {
    telegramConfigured: Boolean(config.telegramBotToken && config.telegramChatId),
    lastDelivery: null,
    droppedSinceLastCycle: 0,
  };

  // The evaluating reader exists before the SDK (NodeSDK takes its readers up front); what a
  // cycle does is wired in once the instruments exist.
  let stopping = false;
  let cycle: () => void = () => {};
  let onCollected: (ms: number) => void = () => {};
  // What the plugin holds, for its memory budget: the series it keeps, counted as the evaluating
  // reader receives them (an estimate: see PLUGIN_BYTES_PER_SERIES).
  let seriesHeld = 0;
  const evaluatingReader = createEvaluatingReader(
    config.monitorIntervalSeconds * 1000,
    (metrics) => {
      seriesHeld = countSeries(metrics);
      if (!stopping) cycle(); // the final flush at shutdown is not a cycle
    },
    (ms) => onCollected(ms),
  );
  const prometheus = config.metricsEnabled ? new PrometheusExporter({ preventServerStart: true }) : undefined;
  // A safety net under the bounded label sets: no instrument of ours can hold more series than
  // this, whatever a bot publishes (the SDK folds the excess into one overflow series).
  const views: ViewOptions[] = [{ instrumentName: '*', meterName: PACKAGE_NAME, aggregationCardinalityLimit: 200 }];
  for (const warning of otlpEndpointWarnings(env)) log().warn(warning);
  const sdk: StartedSdk = await startSdk({
    env,
    readers: prometheus ? [prometheus, evaluatingReader] : [evaluatingReader],
    views,
    sampler: new BreakerAwareSampler(samplerFromEnv(env), () => breaker.state.tripped),
  });
  // After NodeSDK: its constructor installs a console diag logger when OTEL_LOG_LEVEL is set.
  bridgeOtelDiag(log(), {
    // host-metrics announces its successor package at every start; its successor does not yet
    // share this SDK's instrumentation version, so the notice is ours to keep quiet.
    ignore: [/host-metrics is deprecated/],
  });

  const meter = sdk.meterProvider.getMeter(PACKAGE_NAME, VERSION);
  // Scan, trade and API measurements reach the SDK in batches as each collection starts, off the bot's bursts of work.
  const measurements = new MeasurementBatch((error) => log().warn(`a measurement could not be recorded: ${String(error)}`));
  const instruments = createInstruments(
    meter,
    gaugeReaders({ sampler, board, breaker: () => breaker.state, bot, eventLoop }),
    (name, error) => log().warn(`gauge ${name} could not be read: ${String(error)}`),
    measurements.flush,
  );
  const { counters, histograms } = instruments;
  // The plugin's measured self time, summed for its CPU budget (MONITORING_MAX_CPU_PERCENT).
  let selfMsTotal = 0;
  const selfTime = (activity: SelfActivity, ms: number): void => {
    if (ms > 0) {
      selfMsTotal += ms;
      counters.selfTime.add(ms / 1000, { activity });
    }
  };
  let lastLoad = { at: monotonic(), selfMs: 0 };
  const pluginLoad = (): { cpuPercent: number; memoryMb: number } => {
    const at = monotonic();
    const elapsed = at - lastLoad.at;
    const cpuPercent = elapsed >= 1_000 ? ((selfMsTotal - lastLoad.selfMs) / elapsed) * 100 : Number.NaN;
    lastLoad = { at, selfMs: selfMsTotal };
    return { cpuPercent, memoryMb: (seriesHeld * PLUGIN_BYTES_PER_SERIES) / MIB };
  };
  onCollected = (ms) => selfTime('collection', ms);

  const telegram = telegramSink(config, alertView, instruments, selfTime);
  const notifier = new Notifier(
    {
      // One line per notice, a trade notice at the bot's pace: the direct path to the same log.
      log: createLogSink({
        debug: (message, meta) => writeLine(log(), 'debug', message, meta),
        info: (message, meta) => writeLine(log(), 'info', message, meta),
        warn: (message, meta) => writeLine(log(), 'warn', message, meta),
      }),
      telegram,
    },
    config.alertEnabled,
    now,
  );
  // A host whose load hovers around the threshold trips and recovers again and again: after a
  // recovery, the breaker's next trip (and its recovery) within BREAKER_QUIET_MS go to the log only.
  let quietUntil = -Infinity;
  let quietTrip = false;
  const notifyBreaker = (transition: BreakerTransition): void => {
    const draft = breakerDraft(transition, config.adminToken !== undefined);
    if (transition.type === 'tripped') quietTrip = transition.at < quietUntil;
    const quiet = quietTrip && transition.type !== 'reset';
    if (transition.type === 'recovered' || transition.type === 'reset') {
      quietUntil = transition.at + BREAKER_QUIET_MS;
      quietTrip = false;
    }
    // The breaker is the plugin's own business: always in the log, to Telegram per ALERT_ON_CIRCUIT_BREAKER.
    notifier.notify(draft, quiet ? 'off' : config.alertOnCircuitBreaker);
  };

  const evaluator = new Evaluator({
    sampler,
    board,
    breaker,
    history,
    checks: HEALTH_CHECKS,
    inputs: (sample, at) => ({
      breaker: breaker.state,
      alerts: { ...alertView },
      bot,
      rssMb: sample.rssBytes / MIB,
      limits: {
        memoryThresholdMb: config.memoryThresholdMb,
        dailyLossWarning: config.dailyLossWarningPercent,
        dailyLossCritical: config.dailyLossCriticalPercent,
        staleAfterMs: config.staleAfterSeconds * 1000,
      },
      now: at,
      startedAt,
    }),
    alertsEnabled: config.alertEnabled,
    apiSuccessThreshold: config.apiSuccessThreshold,
    apiFailureCountThreshold: config.apiFailureCountThreshold,
    pluginLoad,
    onBreaker: notifyBreaker,
    onDecision: (decision) => notifier.notify(decisionDraft(decision), ruleMode(config, decision.condition.rule)),
    onSuppressed: (count) => counters.alertsSuppressed.add(count),
    onCycle: (overall, seconds) => {
      counters.healthChecks.add(1, { status: overall });
      histograms.healthCheckDuration.record(seconds);
      selfTime('evaluation', seconds * 1000);
    },
    onCheckError: (component, error) => log().warn(`health check for ${component} failed: ${String(error)}`),
    now,
    monotonic,
  });

  let ready = false;
  let markReady: () => void = () => {};
  const firstCycle = new Promise<void>((resolve) => (markReady = resolve));
  // The SDK keeps, for each reader, what happened since that reader last collected. Prometheus
  // collects only when scraped: with nobody scraping (no Prometheus yet, or it is down) that
  // backlog would grow for ever, so an unscraped exporter is collected here and the result dropped.
  let lastScrapeAt = now();
  const drainUnscraped = (): void => {
    if (!prometheus || now() - lastScrapeAt < 2 * config.monitorIntervalSeconds * 1000) return;
    lastScrapeAt = now();
    const started = monotonic();
    void prometheus.collect().then(
      () => selfTime('collection', monotonic() - started),
      () => {},
    );
  };
  cycle = () => {
    eventLoop.roll();
    drainUnscraped();
    evaluator.runCycle();
    alertView.droppedSinceLastCycle = 0;
    if (!ready) {
      ready = true;
      markReady();
    }
  };

  // Trade notices are formatted and logged on the next turn of the loop, never inside the bot's
  // traceTradeExecution call.
  const trades = createTradeNotices({
    notify: (draft, mode) => notifier.notify(draft, mode),
    mode: config.alertOnTrade,
    shed: () => breaker.state.tripped,
    onSuppressed: () => counters.alertsSuppressed.add(1),
    onBufferDrop: () => counters.alertsDropped.add(1),
    onError: (error) => log().warn(`trade notice failed: ${String(error)}`),
    monotonic,
  });
  // A trade that went through is a debug line in the log: with Telegram not taking trade notices
  // and the log above debug, nobody would read its notice, so none is built (it was most of the
  // plugin's own CPU at a steady trading pace).
  const executedNoticeWanted =
    (telegram !== undefined && tradeModes(config.alertOnTrade).routine !== 'off') || log().isLevelEnabled('debug');
  const { hosts: apiHosts, warnings: apiHostWarnings } = parseApiHosts(config.apiHosts);
  for (const warning of apiHostWarnings) log().warn(warning);
  // The APIs the plugin maps by host keep their own series whatever the bot reports first.
  bot.apis.reserve(apiNames(apiHosts));
  const unsubscribe = subscribe({
    scanDuration: histograms.walletScanDuration,
    tradeDuration: histograms.tradeExecutionDuration,
    apiRequests: counters.apiRequests,
    state: bot,
    tracer: sdk.tracerProvider?.getTracer(PACKAGE_NAME, VERSION),
    tracingAllowed: () => !breaker.state.tripped,
    apiHosts,
    batch: measurements,
    onTrade: config.alertEnabled
      ? (trade) => {
          if (isFailure(trade.outcome) || (executedNoticeWanted && isRoutineOutcome(trade.outcome))) trades.push(trade);
        }
      : undefined,
    onError: (where, error) => log().warn(`subscriber ${where} failed: ${String(error)}`),
    now,
    monotonic,
  });
  // Before the bot's first import: the client's class is handed over as its module is evaluated.
  const clob: ClobInstrumentation | undefined = config.instrumentClob
    ? instrumentClobClient({
        info: (message) => log().info(message),
        warn: (message) => log().warn(message),
      })
    : undefined;
  // Loaded beside the bot's start rather than before it: nothing the bot does needs it, and the
  // servers open only once it has started, so no scrape misses its series.
  const hostMetrics = import('@opentelemetry/host-metrics').then(({ HostMetrics }) =>
    // Shut down before the module loaded (a quick restart): its provider takes no new meters.
    stopping
      ? undefined
      : new HostMetrics({
        meterProvider: sdk.meterProvider,
        name: `${PACKAGE_NAME}-host`,
        // Network counters cost a /proc walk per collection and say little about a trading bot.
        // system.cpu reads every core's times (os.cpus(): /proc/stat and a sysfs file per core)
        // at each collection, for 16 series per core that only repeat
        // monitoring_cpu_usage_percent: it was the dearest part of a scrape.
        metricGroups: ['system.memory', 'process.cpu', 'process.memory'],
      }).start(),
    (error: unknown) => log().warn(`host metrics off: ${String(error)}`),
  );

  // The first cycle runs right away, and the servers open once it has (or after a bound), so
  // no client ever sees a half-empty picture.
  void evaluatingReader.forceFlush().catch((error: unknown) => {
    log().warn(`first evaluation failed: ${String(error)}`);
  });
  const afterFirstCycle = Promise.race([
    Promise.all([firstCycle, hostMetrics]),
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
          '/metrics': requireBearer(
            metricsRoute(prometheus, {
              onScrape: () => {
                lastScrapeAt = now();
              },
              onServed: (ms) => selfTime('collection', ms),
              onError: (message) => log().warn(message),
            }),
            config.authToken,
          ),
        },
      }).then((server) => {
        if (server) ports.metrics = server.port;
        return server;
      }),
    );
  }
  if (config.dashboardEnabled) {
    const health = healthRoutes({
      board,
      sampler,
      breaker: () => breaker.state,
      ready: () => ready,
      now,
      // Three missed cycles: the evaluation has stopped, and what the board holds is history.
      staleAfterMs: 3 * config.monitorIntervalSeconds * 1000,
    });
    const routes = {
      ...health,
      // /livez and /readyz say nothing but "up"/"ready": left open for probes that carry no token.
      '/health': requireBearer(health['/health']!, config.authToken),
      ...adminRoutes(
        config.adminToken,
        () => {
          const transition = breaker.reset('admin');
          if (transition) notifyBreaker(transition);
          return transition;
        },
        () => breaker.state,
      ),
    };
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
        clob?.stop();
        unsubscribe();
        measurements.flush();
        trades.flush();
        eventLoop.stop();
        // Alerts already queued get the flush's time bound to go out; then nothing is retried.
        await notifier.drain(config.shutdownTimeoutMs);
        notifier.close();
        const closed = running.then((list) => Promise.allSettled(list.map((s) => s?.close())));
        await Promise.allSettled([closed, sdk.shutdown()]);
      })()),
  };
  hooks = installExitHooks(
    {
      shutdown: () => monitor.shutdown(),
      flush: async () => {
        measurements.flush();
        trades.flush();
        await Promise.allSettled([notifier.drain(config.shutdownTimeoutMs), sdk.flush()]);
      },
      abandon: (signal) => {
        // Every alert is already a line in this log; what dies with the process is Telegram's
        // copy (counted by the sink as it closes) and spans or metrics not yet exported.
        log().warn(`${signal}: the bot exits now; monitoring stops without finishing its delivery (pending Telegram alerts and telemetry are dropped)`);
        notifier.close();
      },
    },
    config.shutdownTimeoutMs,
  );
  void monitor.listening.then(() =>
    log().info(
      `monitoring started: metrics ${ports.metrics ? `http://${config.host}:${ports.metrics}/metrics` : 'off'}, health ${
        ports.health ? `http://${config.host}:${ports.health}/health` : 'off'
      }, evaluation every ${config.monitorIntervalSeconds}s, alerts ${
        !config.alertEnabled ? 'off' : alertView.telegramConfigured ? 'to Telegram and the log' : 'to the log only'
      }, OTLP traces ${sdk.otlp.traces ? 'on' : 'off'}, OTLP metrics ${sdk.otlp.metrics ? 'on' : 'off'}`,
    ),
  );
  return monitor;
}

/** Data points in one collection: the series the SDK holds for the plugin's instruments. */
function countSeries(metrics: ResourceMetrics): number {
  let series = 0;
  for (const scope of metrics.scopeMetrics) for (const metric of scope.metrics) series += metric.dataPoints.length;
  return series;
}

/** The Telegram sink, when configured; a bad token costs one line and leaves alerts in the log. */
function telegramSink(
  config: MonitoringConfig,
  view: { lastDelivery: 'ok' | 'failed' | null; droppedSinceLastCycle: number },
  { counters }: ReturnType<typeof createInstruments>,
  selfTime: (activity: SelfActivity, ms: number) => void,
): AlertSink | undefined {
  if (!config.alertEnabled || !config.telegramBotToken || !config.telegramChatId) return undefined;
  const observer: DeliveryObserver = {
    sent: (severity) => counters.alertsSent.add(1, { severity }),
    failed: (reason) => counters.alertsFailed.add(1, { reason }),
    dropped: () => {
      counters.alertsDropped.add(1);
      view.droppedSinceLastCycle += 1;
    },
    lastDelivery: (ok) => {
      view.lastDelivery = ok ? 'ok' : 'failed';
    },
    busy: (ms) => selfTime('alert_delivery', ms),
  };
  try {
    return createTelegramSink({
      token: config.telegramBotToken,
      chatId: config.telegramChatId,
      apiUrl: config.telegramApiUrl.replace(/\/+$/, ''),
      staging: config.botEnv === 'staging',
      observer,
      logger: log(),
    });
  } catch (error) {
    log().error(`Telegram alerts disabled: ${error instanceof Error ? error.message : String(error)}; alerts go to the log only`);
    return undefined;
  }
}

/** The bot's own breaker is announced per ALERT_ON_CIRCUIT_BREAKER; every other rule per ALERT_ON_ERROR. */
function ruleMode(config: MonitoringConfig, rule: string): MonitoringConfig['alertOnError'] {
  return rule === 'TradeCircuitBreakerOpen' ? config.alertOnCircuitBreaker : config.alertOnError;
}

function decisionDraft(decision: Decision): Draft {
  const { rule, component, severity, title, description } = decision.condition;
  if (decision.kind === 'resolved') return { kind: 'resolved', rule, component, severity, title, description };
  const note = decision.cause === 'reminder' ? ' (still firing)' : decision.cause === 'escalation' ? ' (escalated)' : '';
  return { kind: 'firing', rule, component, severity, title, description: `${description}${note}` };
}

function breakerDraft(transition: BreakerTransition, resettable: boolean): Draft {
  const base = { kind: 'event' as const, component: 'circuit_breaker' };
  switch (transition.type) {
    case 'tripped':
      return {
        ...base,
        rule: 'MonitoringCircuitBreakerTripped',
        severity: 'warning',
        title: 'Monitoring circuit breaker tripped',
        description: `${transition.reason}; monitoring sheds its own extra work (spans, per-trade notices) until the load recovers. Health checks and alerts (daily loss, trade breaker, stalled scans, API failures) go on; /metrics still answers.`,
      };
    case 'gave_up':
      return {
        ...base,
        rule: 'MonitoringCircuitBreakerGaveUp',
        severity: 'warning',
        title: 'Monitoring circuit breaker gave up recovering',
        description: `still tripped after ${transition.attempts} recovery attempts (${transition.reason}); spans and per-trade notices stay off until a manual reset${
          resettable ? ' (POST /admin/circuit-breaker/reset)' : ' (set MONITORING_ADMIN_TOKEN to enable the reset endpoint, or restart the bot)'
        }`,
      };
    case 'recovered':
    case 'reset':
      return {
        ...base,
        rule: transition.type === 'reset' ? 'MonitoringCircuitBreakerReset' : 'MonitoringCircuitBreakerRecovered',
        severity: 'info',
        title: transition.type === 'reset' ? 'Monitoring circuit breaker reset' : 'Monitoring circuit breaker recovered',
        description: `${transition.reason}; monitoring resumed`,
      };
  }
}
