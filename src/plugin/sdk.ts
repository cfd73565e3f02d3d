/**
 * Builds and starts the OpenTelemetry SDK the way a trading bot needs it, from the SDK's public
 * parts: a MeterProvider over the plugin's readers, and — only when traces are exported — a
 * TracerProvider with batch span processors, the async-hooks context manager and the W3C
 * propagators, each registered globally as NodeSDK would register them.
 *
 * The stock NodeSDK exports traces, metrics and logs over OTLP to localhost:4318 by default, and
 * its trace flush at shutdown crashes a process that has no collector (ECONNREFUSED). Here OTLP
 * is opt-in: nothing dials out unless an OTEL_EXPORTER_OTLP_*ENDPOINT (or an explicit
 * OTEL_*_EXPORTER) asks for it. Every other OTEL_* variable keeps its standard meaning. NodeSDK
 * itself is not loaded: importing it loads every OTLP, Zipkin and logs exporter it might build
 * (measured: about twice the start-up time and 12 MiB more), and it keeps the providers it builds
 * to itself.
 */
import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
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
import type { Sampler, SpanExporter, SpanLimits } from '@opentelemetry/sdk-trace';
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

/**
 * The HTTP agent of every OTLP/HTTP exporter the plugin builds: its sockets are unref'd. The
 * stock exporters' sockets are ref'd: a metrics export waiting on a collector that answers late
 * held the bot's process open, and while it did, the trace processor's unref'd timer could start
 * an export, whose wait let the metric reader start the next — measured: a bot against a
 * collector answering after 8 s still alive 14–30 s after its run; 3.5 s with this. What still
 * holds is the SDK's own timers for an export in flight (the trace processor's export timeout,
 * retry backoff), each until that export ends, within OTEL_EXPORTER_OTLP_TIMEOUT; then
 * `beforeExit` comes and the bounded flush takes over. The exporters are handed the agent (their
 * public `httpAgentOptions` factory), so their requests are known by construction, not picked out
 * of the bot's traffic. OTLP over gRPC is not covered.
 */
async function unrefAgent(protocol: string): Promise<Agent> {
  const module = protocol === 'https:' ? await import('node:https') : await import('node:http');
  // Kept alive between exports, as the exporters' own agent is. Node's agent ref's a free socket
  // again when it reuses it, so both ways a socket reaches a request unref it: a new connection
  // (`createConnection`) and a reused one (`reuseSocket`), the two documented hooks of an Agent.
  const agent: Agent = new module.Agent({ keepAlive: true });
  const hooks = agent as unknown as {
    createConnection: (...args: unknown[]) => Socket | undefined;
    reuseSocket: (socket: Socket, request: unknown) => void;
  };
  const create = hooks.createConnection.bind(agent);
  hooks.createConnection = (...args) => {
    const socket = create(...args);
    socket?.unref();
    return socket;
  };
  const reuse = hooks.reuseSocket.bind(agent);
  hooks.reuseSocket = (socket, request) => {
    reuse(socket, request);
    socket.unref();
  };
  return agent;
}
const agents = new Map<string, Promise<Agent>>();
/** One agent per protocol for all the plugin's exporters (the factory the OTLP exporters take). */
export const otlpAgentFactory = (protocol: string): Promise<Agent> => {
  let agent = agents.get(protocol);
  if (agent === undefined) agents.set(protocol, (agent = unrefAgent(protocol)));
  return agent;
};

/** The OTLP metric exporter for OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL, loaded only when used. */
async function otlpMetricExporter(env: Env): Promise<PushMetricExporter> {
  const protocol = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter({ httpAgentOptions: otlpAgentFactory });
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter({ httpAgentOptions: otlpAgentFactory });
  }
}

/** The span exporters OTEL_TRACES_EXPORTER names (otlp when it names none), loaded only when used. */
async function spanExporters(env: Env, warn: (message: string) => void): Promise<SpanExporter[]> {
  const names = list(env, 'OTEL_TRACES_EXPORTER');
  const exporters: SpanExporter[] = [];
  for (const name of names.length > 0 ? names : ['otlp']) {
    if (name === 'otlp') {
      const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
      if (protocol === 'grpc') exporters.push(new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter());
      else if (protocol === 'http/json') exporters.push(new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ httpAgentOptions: otlpAgentFactory }));
      else exporters.push(new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ httpAgentOptions: otlpAgentFactory }));
    } else if (name === 'console') {
      exporters.push(new (await import('@opentelemetry/sdk-trace')).ConsoleSpanExporter());
    } else if (name !== 'none') {
      warn(`OTEL_TRACES_EXPORTER=${quote(name)} (expected otlp, console or none): ignored`);
    }
  }
  return exporters;
}

/** Span limits from OTEL_SPAN_* and OTEL_ATTRIBUTE_* (the span-specific variable wins), as NodeSDK reads them. */
function spanLimitsFromEnv(env: Env): SpanLimits {
  const number = (...names: string[]): number | undefined => {
    for (const name of names) {
      const value = Number((env[name] ?? '').trim());
      if (set(env, name) && Number.isFinite(value)) return value;
    }
    return undefined;
  };
  const limits: Record<string, number | undefined> = {
    attributeValueLengthLimit: number('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    attributeCountLimit: number('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'),
    linkCountLimit: number('OTEL_SPAN_LINK_COUNT_LIMIT'),
    eventCountLimit: number('OTEL_SPAN_EVENT_COUNT_LIMIT'),
    attributePerEventCountLimit: number('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'),
    attributePerLinkCountLimit: number('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'),
  };
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)) as SpanLimits;
}

export interface SdkOptions {
  readonly env: Env;
  /** Used only when traces are exported. */
  readonly sampler?: Sampler;
  /** One line for a setting the SDK cannot honour. */
  readonly warn?: (message: string) => void;
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

export async function startSdk({ env, readers, views, sampler, warn = () => {} }: SdkOptions): Promise<StartedSdk> {
  const otlp = { traces: otlpWanted(env, 'traces'), metrics: otlpWanted(env, 'metrics') };
  const detectors = set(env, 'OTEL_NODE_RESOURCE_DETECTORS') ? detectorsFromEnv(env) : SAFE_DETECTORS;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the default service name.
  const resource = BASE_RESOURCE().merge(detectResources({ detectors }));

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
  const meterProvider = new SdkMeterProvider({ resource, views, readers: metricReaders });
  // Our own provider is what the plugin uses, registered or not: if something registered a global
  // first, our readers still see our instruments.
  const meterRegistered = metrics.setGlobalMeterProvider(meterProvider);

  // No exporter, no TracerProvider: without somewhere to send them no span is worth creating.
  const exporters = otlp.traces ? await spanExporters(env, warn) : [];
  let tracerProvider: (TracerProvider & { forceFlush(): Promise<void>; shutdown(): Promise<void> }) | undefined;
  let traceRegistered = false;
  if (exporters.length > 0) {
    const [{ TracerProvider: SdkTracerProvider, BatchSpanProcessor }, { AsyncLocalStorageContextManager }, core] = await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
    ]);
    tracerProvider = new SdkTracerProvider({
      resource,
      ...(sampler ? { sampler } : {}),
      spanLimits: spanLimitsFromEnv(env),
      spanProcessors: exporters.map((exporter) => new BatchSpanProcessor({ exporter })),
    });
    // As NodeSDK registers them: the context manager spans need to nest across awaits, then the
    // W3C trace-context and baggage propagators, then the provider.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }),
    );
    traceRegistered = trace.setGlobalTracerProvider(tracerProvider);
  } else otlp.traces = false;

  return {
    meterProvider,
    tracerProvider,
    otlp,
    flush: async () => {
      await Promise.allSettled([meterProvider.forceFlush(), tracerProvider?.forceFlush()]);
    },
    shutdown: async () => {
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider?.shutdown()]);
      // A restart (startMonitoring after shutdown) registers again: the globals must be free.
      unregisterGlobals(meterRegistered ? meterProvider : undefined, traceRegistered ? tracerProvider : undefined);
    },
  };
}

/**
 * Frees the OpenTelemetry globals registered for this instance, so a restart
 * (startMonitoring after shutdown) can register again instead of logging "duplicate
 * registration" and leaving the shut-down providers in place. A global someone else registered
 * is left alone.
 */
function unregisterGlobals(meterProvider: MeterProvider | undefined, tracerProvider: TracerProvider | undefined): void {
  try {
    if (meterProvider !== undefined) metrics.disable();
    if (tracerProvider !== undefined) {
      // Registered together with the tracer provider.
      trace.disable();
      context.disable();
      propagation.disable();
    }
  } catch {
    // Shutdown path: a global left registered costs a restart one warning, never the bot.
  }
}
