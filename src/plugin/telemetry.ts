/**
 * The telemetry part: the OTel SDK with its two readers (the Prometheus exporter /metrics serves,
 * and the evaluating reader whose collections are evaluation cycles), the plugin's instruments,
 * the measurement batch, host metrics, and the plugin's account of its own cost.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { ResourceMetrics, ViewOptions } from '@opentelemetry/sdk-metrics';
import { quote, type MonitoringConfig } from '../core/config.js';
import { bridgeOtelDiag, log } from '../core/log.js';
import type { SelfActivity } from '../core/model.js';
import { BreakerAwareSampler, samplerFromEnv } from '../ingest/trace-sampler.js';
import { MeasurementBatch } from '../metrics/batch.js';
import { METRICS } from '../metrics/catalog.js';
import { Exemplars } from '../metrics/exemplars.js';
import { createHostReadings } from '../metrics/host.js';
import { createKeptMeter } from '../metrics/kept.js';
import { RUNTIME_SCOPE, createRuntimeProducer, startRuntimeMetrics } from '../metrics/runtime.js';
import { gaugeReaders, type GaugeSources } from '../metrics/gauges.js';
import { MAX_SERIES_PER_INSTRUMENT, createGaugeProducer, createInstruments, type Instruments } from '../metrics/instruments.js';
import { CollectedMetrics } from '../rules/collected.js';
import { createEvaluatingReader, type EvaluatingReader } from '../rules/reader.js';
import { startSdk, type StartedSdk } from './sdk.js';

export const PACKAGE_NAME = 'polymarket-bot-monitoring';

const MIB = 1024 * 1024;
/** OTEL_LOG_LEVEL's values, as the OpenTelemetry SDKs read them (any case). */
const OTEL_LOG_LEVELS = ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL'];
/**
 * What one series of the plugin's costs it in memory, for MONITORING_MAX_MEMORY_MB: its attributes
 * and state (metrics/kept.ts), and per reader the value it was last given. An estimate: measured
 * as heap growth per added series when the SDK kept them (per series and per reader), about 0.8 KB
 * on average over a histogram and a counter series with two cumulative readers (SDK 2.x, Node 24);
 * counted at 2 KB to cover attributes longer than the measured ones and the exporters' own copies.
 */
const PLUGIN_BYTES_PER_SERIES = 2048;

export interface Telemetry {
  readonly sdk: StartedSdk;
  /** Absent when METRICS_ENABLED=false. */
  readonly prometheus: PrometheusExporter | undefined;
  readonly evaluatingReader: EvaluatingReader;
  readonly instruments: Instruments;
  readonly measurements: MeasurementBatch;
  /** The scan and trade latency exemplars /metrics writes for OpenMetrics scrapes. */
  readonly exemplars: Exemplars;
  /** Settles once host metrics have started (or failed to). */
  readonly hostMetrics: Promise<unknown>;
  /** Adds to the plugin's measured self time (monitoring_self_time_seconds_total, its CPU budget). */
  selfTime(activity: SelfActivity, ms: number): void;
  /** The plugin's own load since the last call, for the monitoring breaker. */
  pluginLoad(): { cpuPercent: number; memoryMb: number };
  /** Takes the evaluating reader's collection as the count of series the plugin holds. */
  held(metrics: ResourceMetrics): void;
  /** Called by /metrics on every scrape: an unscraped exporter is drained by `drainUnscraped`. */
  scraped(): void;
  /** Collects the Prometheus exporter and drops the result when nobody has scraped for two intervals. */
  drainUnscraped(): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface TelemetryOptions {
  readonly config: MonitoringConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  readonly gauges: GaugeSources;
  /** Whether spans may be recorded now (the monitoring breaker closed). */
  readonly tracingAllowed: () => boolean;
  readonly now: () => number;
  readonly monotonic: () => number;
}

export async function startTelemetry({ config, env, version, gauges, tracingAllowed, now, monotonic }: TelemetryOptions): Promise<Telemetry> {
  let selfMsTotal = 0;
  let counters: Instruments['counters'] | undefined;
  const selfTime = (activity: SelfActivity, ms: number): void => {
    if (ms > 0) {
      selfMsTotal += ms;
      counters?.selfTime.add(ms / 1000, { activity });
    }
  };
  // What the plugin holds, for its memory budget: the series it keeps, counted as the evaluating
  // reader receives them (an estimate: see PLUGIN_BYTES_PER_SERIES).
  let seriesHeld = 0;
  // Scan, trade and API measurements reach the instruments in batches as each collection starts, off the bot's bursts of work.
  const measurements = new MeasurementBatch((error) => log().warn(`a measurement could not be recorded: ${String(error)}`));
  // The gauges and the heap and event-loop readings, handed to every reader as read (see
  // metrics/instruments.ts and metrics/runtime.ts).
  const gaugeReadings = createGaugeProducer({
    scope: { name: PACKAGE_NAME, version },
    gauges: gaugeReaders(gauges),
    onGaugeError: (name, error) => log().warn(`gauge ${name} could not be read: ${String(error)}`),
  });
  const runtimeReadings = createRuntimeProducer(version, () => gauges.eventLoop.last);
  // host-metrics' series, read through a meter of the plugin's (metrics/host.ts) for the readers
  // that export them; the evaluation reads none of them.
  const hostReadings = createHostReadings((error) => log().warn(`host metrics could not be read: ${String(error)}`));
  // The counters and histograms (the catalog's, and the runtime's GC pauses), kept by the plugin
  // and handed to each reader as it collects (metrics/kept.ts), after the batch's hand-over.
  const keptMeter = (name: string) =>
    createKeptMeter({
      scope: { name, version },
      cardinalityLimit: MAX_SERIES_PER_INSTRUMENT,
      beforeCollect: measurements.flush,
      onError: (error) => log().warn(`measurements could not be handed over: ${String(error)}`),
    });
  const kept = keptMeter(PACKAGE_NAME);
  const keptRuntime = keptMeter(RUNTIME_SCOPE);
  // Counters and histograms first, where the SDK's scopes came before the producers': /metrics
  // keeps the order of its families.
  const evaluatingReader = createEvaluatingReader(config.monitorIntervalSeconds * 1000, (ms) => selfTime('collection', ms), [
    kept.producer(),
    keptRuntime.producer(),
    gaugeReadings,
  ]);
  const prometheus = config.metricsEnabled
    ? new PrometheusExporter({
        preventServerStart: true,
        metricProducers: [kept.producer(), keptRuntime.producer(), gaugeReadings, runtimeReadings, hostReadings.producer()],
      })
    : undefined;
  // The plugin's own instruments are kept above; the view caps what anything else creates on the
  // global provider under the plugin's meter name, as the kept meter caps its own.
  const views: ViewOptions[] = [{ instrumentName: '*', meterName: PACKAGE_NAME, aggregationCardinalityLimit: MAX_SERIES_PER_INSTRUMENT }];
  // Before the SDK starts, so its start-up lines too go through the plugin's logger (redacted,
  // rate-limited, in MONITORING_LOG_FORMAT), at the level OTEL_LOG_LEVEL asks for.
  const otelLogLevel = env.OTEL_LOG_LEVEL?.trim();
  if (otelLogLevel && !OTEL_LOG_LEVELS.includes(otelLogLevel.toUpperCase())) {
    log().warn(`OTEL_LOG_LEVEL=${quote(otelLogLevel)} (expected ${OTEL_LOG_LEVELS.join(', ').toLowerCase()}): using info`);
  }
  bridgeOtelDiag(log(), {
    // host-metrics announces its successor package at every start; its successor does not yet
    // share this SDK's instrumentation version, so the notice is ours to keep quiet.
    ignore: [/host-metrics is deprecated/],
    ...(otelLogLevel ? { otelLogLevel } : {}),
  });
  const sdk = await startSdk({
    env,
    readers: prometheus ? [prometheus, evaluatingReader] : [evaluatingReader],
    metricProducers: (temporality) => [kept.producer(temporality), keptRuntime.producer(temporality), gaugeReadings, runtimeReadings, hostReadings.producer(temporality)],
    views,
    sampler: new BreakerAwareSampler(samplerFromEnv(env), () => !tracingAllowed()),
    warn: (message) => log().warn(message),
  });

  const instruments = createInstruments(kept.meter);
  counters = instruments.counters;
  const runtime = startRuntimeMetrics(keptRuntime.meter, (sink, seconds, attributes) =>
    measurements.push(sink, seconds, attributes),
  );

  let lastLoad = { at: monotonic(), selfMs: 0 };
  let stopping = false;
  // Loaded beside the bot's start rather than before it: nothing the bot does needs it, and the
  // servers open only once it has started, so no scrape misses its series.
  const hostMetrics = import('@opentelemetry/host-metrics').then(
    ({ HostMetrics }) =>
      // Shut down before the module loaded (a quick restart): its provider takes no new meters.
      stopping
        ? undefined
        : new HostMetrics({
            meterProvider: hostReadings.meterProvider,
            name: `${PACKAGE_NAME}-host`,
            // Network counters cost a /proc walk per collection and say little about a trading bot.
            // system.cpu reads every core's times (os.cpus(): /proc/stat and a sysfs file per core)
            // at each collection, for 16 series per core that only repeat
            // monitoring_cpu_usage_percent: it was the dearest part of a scrape.
            metricGroups: ['system.memory', 'process.cpu', 'process.memory'],
          }).start(),
    (error: unknown) => log().warn(`host metrics off: ${String(error)}`),
  );

  // The SDK keeps, for each reader, what happened since that reader last collected (the bot's own
  // instruments on the global provider; the plugin's keep one state per series, metrics/kept.ts).
  // Prometheus collects only when scraped: with nobody scraping (no Prometheus yet, or it is down)
  // that backlog would grow for ever, so an unscraped exporter is collected here and the result dropped.
  let lastScrapeAt = now();
  return {
    sdk,
    prometheus,
    evaluatingReader,
    instruments,
    measurements,
    exemplars: new Exemplars(
      Object.fromEntries([METRICS.walletScanDuration, METRICS.tradeExecutionDuration].map((def) => [def.name, def.buckets])),
    ),
    hostMetrics,
    selfTime,
    pluginLoad: () => {
      const at = monotonic();
      const elapsed = at - lastLoad.at;
      const cpuPercent = elapsed >= 1_000 ? ((selfMsTotal - lastLoad.selfMs) / elapsed) * 100 : Number.NaN;
      lastLoad = { at, selfMs: selfMsTotal };
      return { cpuPercent, memoryMb: (seriesHeld * PLUGIN_BYTES_PER_SERIES) / MIB };
    },
    scraped: () => {
      lastScrapeAt = now();
    },
    drainUnscraped: () => {
      if (!prometheus || now() - lastScrapeAt < 2 * config.monitorIntervalSeconds * 1000) return;
      lastScrapeAt = now();
      const started = monotonic();
      void prometheus.collect().then(
        () => selfTime('collection', monotonic() - started),
        () => {},
      );
    },
    flush: async () => {
      measurements.flush();
      await sdk.flush();
    },
    stop: async () => {
      stopping = true;
      runtime.stop();
      measurements.flush();
      await sdk.shutdown();
    },
    held: (metrics) => {
      seriesHeld = CollectedMetrics.countSeries(metrics);
    },
  };
}
