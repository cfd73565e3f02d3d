/**
 * Builds and starts the OpenTelemetry SDK the way a trading bot needs it.
 *
 * The stock NodeSDK exports traces, metrics and logs over OTLP to localhost:4318 by default, and
 * its trace flush at shutdown crashes a process that has no collector (ECONNREFUSED). Here OTLP
 * is opt-in: nothing dials out unless an OTEL_EXPORTER_OTLP_*ENDPOINT (or an explicit
 * OTEL_*_EXPORTER) asks for it. Every other OTEL_* variable keeps its standard meaning.
 *
 * With OTLP asked for, NodeSDK builds the exporters from the OTEL_* variables. Without it, all
 * NodeSDK would build is a MeterProvider over our readers — but importing it loads every OTLP,
 * Zipkin and logs exporter it might build (measured: about twice the start-up time and 12 MiB
 * more than sdk-metrics and the Prometheus exporter alone), so that MeterProvider is built here,
 * from the same resource and readers, and NodeSDK is imported only when it has work to do.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider as SdkMeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { context, metrics, propagation, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace';
import { quote } from '../core/config.js';

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_SERVICE_NAME = 'polymarket-bot';

const set = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';
const list = (env: Env, name: string): string[] =>
  (env[name] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/**
 * Why the endpoint the OTEL_* variables give a signal cannot work, or undefined. The per-signal
 * variable wins over the general one, as the SDK reads them; both must be http(s) URLs (the
 * SDK's OTLP exporters, gRPC's included, take them so).
 */
export function otlpEndpointProblem(env: Env, signal: 'traces' | 'metrics'): string | undefined {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const name = set(env, specific) ? specific : set(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : undefined;
  if (name === undefined) return undefined;
  const text = env[name]!.trim();
  let protocol: string | undefined;
  try {
    protocol = new URL(text).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol === 'http:' || protocol === 'https:') return undefined;
  return `${name}=${quote(text)} (expected an http:// or https:// URL): OTLP ${signal} stay off`;
}

/** One warning per variable whose endpoint cannot work, naming the signals it turns off. */
export function otlpEndpointWarnings(env: Env): string[] {
  const bySignal = (['traces', 'metrics'] as const).map((signal) => otlpEndpointProblem(env, signal));
  const [traces, metrics] = bySignal;
  if (traces !== undefined && metrics !== undefined && traces.replace(' traces ', ' ') === metrics.replace(' metrics ', ' ')) {
    return [traces.replace('OTLP traces stay off', 'OTLP traces and metrics stay off')];
  }
  return bySignal.filter((w): w is string => w !== undefined);
}

/** Whether the user asked for a signal to be exported through the standard OTEL_* variables. */
export function otlpWanted(env: Env, signal: 'traces' | 'metrics'): boolean {
  const exporters = list(env, signal === 'traces' ? 'OTEL_TRACES_EXPORTER' : 'OTEL_METRICS_EXPORTER');
  if (exporters.includes('none')) return false;
  // An endpoint that cannot work turns the signal off rather than report "on" and fail every export.
  if (otlpEndpointProblem(env, signal) !== undefined) return false;
  const endpoint = set(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') || set(env, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`);
  if (signal === 'traces') return endpoint || exporters.length > 0;
  return endpoint && (exporters.length === 0 || exporters.includes('otlp'));
}

/**
 * One export at a time. The reader starts an export every interval whether the last one has
 * finished or not; against a collector that refuses or stalls, each export's retries (ref'd
 * timers and sockets, up to OTEL_EXPORTER_OTLP_TIMEOUT) would overlap the next and hold the
 * bot's process open for good after the bot itself is done. A tick during an export is skipped.
 */
export class SingleFlightExporter implements PushMetricExporter {
  private inFlight = false;

  constructor(private readonly inner: PushMetricExporter) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.inFlight) {
      // Not a failure worth a log line: the export in flight reports its own outcome.
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.inFlight = true;
    try {
      this.inner.export(metrics, (result) => {
        this.inFlight = false;
        resultCallback(result);
      });
    } catch (error) {
      this.inFlight = false;
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.inner.selectAggregationTemporality?.(instrumentType) ?? AggregationTemporality.CUMULATIVE;
  }
}

let unrefInstalled = false;

/** What the OTLP HTTP exporters put in every request's User-Agent (after any user-set prefix). */
const OTLP_USER_AGENT = 'OTel-OTLP-Exporter-JavaScript/';

/**
 * Unrefs the socket of every OTLP/HTTP export request, whoever built the exporter (NodeSDK builds
 * the trace exporter from OTEL_* itself). The stock exporters' sockets are ref'd: a metrics
 * export waiting on a collector that answers late held the bot's process open, and while it did,
 * the trace processor's unref'd timer could start an export, whose wait let the metric reader
 * start the next — measured: a bot against a collector answering after 8 s still alive 14–30 s
 * after its run; 3.5 s with this. What still holds is the SDK's own timers for an export in
 * flight (the trace processor's export timeout, retry backoff), each until that export ends,
 * within OTEL_EXPORTER_OTLP_TIMEOUT; then `beforeExit` comes and the bounded flush takes over.
 * OTLP over gRPC is not covered. Installed once per process and kept past shutdown: a retry
 * still running then must not hold the process either.
 */
export function unrefOtlpExportSockets(): void {
  if (unrefInstalled) return;
  unrefInstalled = true;
  diagnostics.subscribe('http.client.request.created', unrefIfOtlpExport);
}

/** Runs on every HTTP request the bot makes: a throw here would reach the bot as an uncaught exception. */
function unrefIfOtlpExport(message: unknown): void {
  try {
    const request = (message as { request?: ClientRequest } | null)?.request;
    const agent = request?.getHeader('user-agent');
    if (typeof agent === 'string' && agent.includes(OTLP_USER_AGENT)) request!.once('socket', (socket) => socket.unref());
  } catch {
    // Not a request we can read: it is not an export of ours either.
  }
}

/** The OTLP metric exporter for OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL, loaded only when used. */
async function otlpMetricExporter(env: Env): Promise<PushMetricExporter> {
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
  }
}

export interface SdkOptions {
  readonly env: Env;
  /** Used only when traces are exported. */
  readonly sampler?: Sampler;
  readonly readers: IMetricReader[];
  readonly views: ViewOptions[];
}

export interface StartedSdk {
  readonly meterProvider: MeterProvider;
  /** Only when traces are exported: without an exporter no span is worth creating. */
  readonly tracerProvider: TracerProvider | undefined;
  readonly otlp: { traces: boolean; metrics: boolean };
  /** Exports what is pending now, keeping everything running. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The resource NodeSDK would build: defaults, our service name, then what the detectors find. */
const BASE_RESOURCE = (): Resource => defaultResource().merge(resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }));

/**
 * The default detector set includes process.command_args: a bot started with a key on its
 * command line would publish it in target_info. By default only detectors that cannot carry
 * secrets; OTEL_NODE_RESOURCE_DETECTORS chooses otherwise, as in NodeSDK.
 */
const SAFE_DETECTORS: ResourceDetector[] = [envDetector, hostDetector, osDetector, serviceInstanceIdDetector];
const DETECTORS_BY_NAME: Record<string, ResourceDetector> = {
  env: envDetector,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
};

function detectorsFromEnv(env: Env): ResourceDetector[] {
  const names = list(env, 'OTEL_NODE_RESOURCE_DETECTORS');
  if (names.includes('all')) return Object.values(DETECTORS_BY_NAME);
  if (names.includes('none')) return [];
  return names.flatMap((name) => DETECTORS_BY_NAME[name] ?? []);
}

/** OTEL_SDK_DISABLED=true, read as the OTel SDKs read it: the whole SDK is off. */
export const sdkDisabled = (env: Env): boolean => (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';

export async function startSdk(options: SdkOptions): Promise<StartedSdk> {
  const otlp = { traces: otlpWanted(options.env, 'traces'), metrics: otlpWanted(options.env, 'metrics') };
  return otlp.traces || otlp.metrics ? startNodeSdk(options, otlp) : startMeterProvider(options);
}

/** No OTLP: a MeterProvider over our readers, registered globally as NodeSDK would. */
function startMeterProvider({ env, readers, views }: SdkOptions): StartedSdk {
  const detectors = set(env, 'OTEL_NODE_RESOURCE_DETECTORS') ? detectorsFromEnv(env) : SAFE_DETECTORS;
  const meterProvider = new SdkMeterProvider({
    resource: BASE_RESOURCE().merge(detectResources({ detectors })),
    views,
    readers,
  });
  const registered = metrics.setGlobalMeterProvider(meterProvider);
  return {
    meterProvider,
    tracerProvider: undefined,
    otlp: { traces: false, metrics: false },
    flush: () => meterProvider.forceFlush().catch(() => {}),
    shutdown: async () => {
      await meterProvider.shutdown();
      // A restart (startMonitoring after shutdown) registers again: the global must be free.
      if (registered) metrics.disable();
    },
  };
}

async function startNodeSdk({ env, readers, views, sampler }: SdkOptions, otlp: StartedSdk['otlp']): Promise<StartedSdk> {
  const metricReaders = [...readers];
  if (otlp.metrics) {
    const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new SingleFlightExporter(await otlpMetricExporter(env)),
        ...(interval > 0 ? { exportIntervalMillis: interval } : {}),
      }),
    );
  }

  const { NodeSDK: Sdk } = await import('@opentelemetry/sdk-node');
  const sdk: NodeSDK = new Sdk({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) still win over this default.
    resource: BASE_RESOURCE(),
    ...(set(env, 'OTEL_NODE_RESOURCE_DETECTORS') ? {} : { resourceDetectors: SAFE_DETECTORS }),
    metricReaders,
    views,
    // No processors = no TracerProvider and no LoggerProvider: nothing dials a collector.
    ...(otlp.traces ? (sampler ? { sampler } : {}) : { spanProcessors: [] }),
    logRecordProcessors: [],
  });
  unrefOtlpExportSockets();
  sdk.start();
  const internals = sdk as unknown as { _meterProvider?: MeterProvider; _tracerProvider?: TracerProvider };
  return {
    tracerProvider: internals._tracerProvider,
    // Our own provider, not the global: if something registered a global first, our readers
    // still see our instruments.
    meterProvider: internals._meterProvider ?? metrics.getMeterProvider(),
    otlp,
    flush: async () => {
      await Promise.allSettled([
        (internals._tracerProvider as { forceFlush?: () => Promise<void> } | undefined)?.forceFlush?.(),
        (internals._meterProvider as { forceFlush?: () => Promise<void> } | undefined)?.forceFlush?.(),
      ]);
    },
    shutdown: async () => {
      await sdk.shutdown();
      unregisterGlobals(internals._meterProvider, internals._tracerProvider);
    },
  };
}

/**
 * Frees the OpenTelemetry globals NodeSDK registered for this instance, so a restart
 * (startMonitoring after shutdown) can register again instead of logging "duplicate
 * registration" and leaving the shut-down providers in place. A global someone else registered
 * is left alone.
 */
function unregisterGlobals(meterProvider: MeterProvider | undefined, tracerProvider: TracerProvider | undefined): void {
  try {
    if (meterProvider !== undefined && metrics.getMeterProvider() === meterProvider) metrics.disable();
    const globalTracer = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
    if (tracerProvider !== undefined && globalTracer.getDelegate?.() === tracerProvider) {
      // NodeSDK registers the context manager and propagator with the tracer provider.
      trace.disable();
      context.disable();
      propagation.disable();
    }
  } catch {
    // Shutdown path: a global left registered costs a restart one warning, never the bot.
  }
}
