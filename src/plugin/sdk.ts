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
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider as SdkMeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type MetricProducer,
  type InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { context, metrics, propagation, trace, type MeterProvider, type TextMapPropagator, type TracerProvider } from '@opentelemetry/api';
import type { Sampler, SpanExporter, SpanLimits, SpanProcessor } from '@opentelemetry/sdk-trace';
import { otelList, quote } from '../core/config.js';

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_SERVICE_NAME = 'polymarket-bot';

const set = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';

/**
 * Why the endpoint the OTEL_* variables give a signal cannot work, or undefined. The per-signal
 * variable wins over the general one, as the SDK reads them; both must be http(s) URLs (the
 * SDK's OTLP exporters, gRPC's included, take them so).
 */
function otlpEndpointProblem(env: Env, signal: 'traces' | 'metrics'): string | undefined {
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
function otlpEndpointWarnings(env: Env): string[] {
  const bySignal = (['traces', 'metrics'] as const).map((signal) => otlpEndpointProblem(env, signal));
  const [traces, metrics] = bySignal;
  if (traces !== undefined && metrics !== undefined && traces.replace(' traces ', ' ') === metrics.replace(' metrics ', ' ')) {
    return [traces.replace('OTLP traces stay off', 'OTLP traces and metrics stay off')];
  }
  return bySignal.filter((w): w is string => w !== undefined);
}

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** OTEL_EXPORTER_OTLP_(signal_)PROTOCOL, the per-signal one first; an unknown one is http/protobuf, as in NodeSDK. */
function otlpProtocol(env: Env, signal: 'traces' | 'metrics', warnings: string[]): OtlpProtocol {
  const name = set(env, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`) ? `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = (env[name] ?? '').trim();
  if (value === '') return 'http/protobuf';
  if ((OTLP_PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
  warnings.push(`${name}=${quote(value)} (expected ${OTLP_PROTOCOLS.join(', ')}): using http/protobuf`);
  return 'http/protobuf';
}

/** Where an OTLP exporter of this signal sends, as the exporters themselves work it out. */
function otlpDestination(env: Env, signal: 'traces' | 'metrics', protocol: OtlpProtocol): string {
  const specific = (env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`] ?? '').trim();
  if (specific !== '') return specific;
  const general = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim();
  if (protocol === 'grpc') return general !== '' ? general : 'http://localhost:4317';
  return `${(general !== '' ? general : 'http://localhost:4318').replace(/\/+$/, '')}/v1/${signal}`;
}

export interface ExportPlan {
  readonly traces: { readonly otlp?: OtlpProtocol; readonly console: boolean; readonly zipkin: boolean };
  readonly metrics: { readonly otlp?: OtlpProtocol; readonly console: boolean };
  /** For the start-up line: each exporter that is on, with where it sends. */
  readonly described: { readonly traces: string[]; readonly metrics: string[] };
  /** One line per setting that cannot be honoured as given. */
  readonly warnings: string[];
}

/**
 * What OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER ask for, read as NodeSDK reads them
 * (comma-separated lists of otlp, console, none, plus zipkin for traces and prometheus for
 * metrics; the same warnings for an unknown name and for "none" among others), with one
 * difference: unset, NodeSDK pushes OTLP to localhost, while the plugin pushes only when an
 * OTEL_EXPORTER_OTLP_*ENDPOINT says where. `prometheus` is the plugin's /metrics, decided by
 * the configuration (METRICS_ENABLED, which wins where both are set).
 */
export function exportPlan(env: Env): ExportPlan {
  const warnings: string[] = [...otlpEndpointWarnings(env)];
  const endpointFor = (signal: 'traces' | 'metrics'): boolean =>
    set(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') || set(env, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`);
  // An endpoint that cannot work turns OTLP off for its signal rather than report "on" and fail every export.
  const otlpFor = (signal: 'traces' | 'metrics'): OtlpProtocol | undefined =>
    otlpEndpointProblem(env, signal) === undefined ? otlpProtocol(env, signal, warnings) : undefined;

  let traceNames = [...new Set(otelList(env, 'OTEL_TRACES_EXPORTER'))].filter((name) => name !== 'null');
  if (traceNames[0] === 'none') traceNames = [];
  else if (traceNames.length === 0) traceNames = endpointFor('traces') ? ['otlp'] : [];
  else if (traceNames.includes('none')) {
    warnings.push('OTEL_TRACES_EXPORTER contains "none" along with other exporters: using the default otlp exporter (as NodeSDK does)');
    traceNames = ['otlp'];
  }
  for (const name of traceNames.filter((n) => !['otlp', 'console', 'zipkin'].includes(n))) {
    warnings.push(`OTEL_TRACES_EXPORTER=${quote(name)} (expected otlp, console, zipkin or none): ignored`);
  }

  let metricNames = [...new Set(otelList(env, 'OTEL_METRICS_EXPORTER'))];
  if (metricNames.includes('none')) metricNames = [];
  else if (metricNames.length === 0) metricNames = endpointFor('metrics') ? ['otlp'] : [];
  for (const name of metricNames.filter((n) => !['otlp', 'console', 'prometheus'].includes(n))) {
    warnings.push(`OTEL_METRICS_EXPORTER=${quote(name)} (expected otlp, prometheus, console or none): ignored`);
  }

  const tracesOtlp = traceNames.includes('otlp') ? otlpFor('traces') : undefined;
  const metricsOtlp = metricNames.includes('otlp') ? otlpFor('metrics') : undefined;
  const traces = { ...(tracesOtlp ? { otlp: tracesOtlp } : {}), console: traceNames.includes('console'), zipkin: traceNames.includes('zipkin') };
  const metrics = { ...(metricsOtlp ? { otlp: metricsOtlp } : {}), console: metricNames.includes('console') };
  const described = {
    traces: [
      ...(traces.otlp ? [`otlp ${traces.otlp} to ${otlpDestination(env, 'traces', traces.otlp)}`] : []),
      ...(traces.zipkin ? ['zipkin'] : []),
      ...(traces.console ? ['console'] : []),
    ],
    metrics: [
      ...(metrics.otlp ? [`otlp ${metrics.otlp} to ${otlpDestination(env, 'metrics', metrics.otlp)}`] : []),
      ...(metrics.console ? ['console'] : []),
    ],
  };
  return { traces, metrics, described, warnings };
}

/**
 * OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT as NodeSDK reads them: positive
 * numbers of milliseconds (60 000 and 30 000 by default), the timeout no longer than the interval.
 */
export function metricExportTiming(env: Env, warnings: string[] = []): { exportIntervalMillis: number; exportTimeoutMillis: number } {
  const positive = (name: string): number | undefined => {
    if (!set(env, name)) return undefined;
    const value = Number(env[name]!.trim());
    if (Number.isFinite(value) && value > 0) return value;
    warnings.push(`${name}=${quote(env[name]!)} (expected a number of milliseconds greater than 0): using the default`);
    return undefined;
  };
  const interval = positive('OTEL_METRIC_EXPORT_INTERVAL');
  const timeout = positive('OTEL_METRIC_EXPORT_TIMEOUT');
  const exportIntervalMillis = interval ?? 60_000;
  let exportTimeoutMillis = timeout ?? 30_000;
  if (exportTimeoutMillis > exportIntervalMillis) {
    if (interval !== undefined && timeout !== undefined) {
      warnings.push(`OTEL_METRIC_EXPORT_TIMEOUT (${timeout}) is greater than OTEL_METRIC_EXPORT_INTERVAL (${interval}): the timeout is the interval`);
    }
    exportTimeoutMillis = exportIntervalMillis;
  }
  return { exportIntervalMillis, exportTimeoutMillis };
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

/** The OTLP metric exporter for the protocol the plan chose, loaded only when used. */
async function otlpMetricExporter(protocol: OtlpProtocol): Promise<PushMetricExporter> {
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter({ httpAgentOptions: otlpAgentFactory });
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter({ httpAgentOptions: otlpAgentFactory });
  }
}

/**
 * A package the plugin does not depend on but uses when the bot has it installed (the Zipkin
 * exporter, the B3 propagator): NodeSDK ships them, the plugin keeps its install small. The
 * specifier is a variable so that neither TypeScript nor a bundler requires it.
 */
async function optionalModule(specifier: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * OTEL_BSP_* as NodeSDK reads them for its batch span processors (the SDK 3.x processor no longer
 * reads the environment itself): positive numbers, anything else the processor's default.
 */
export function batchSpanProcessorConfig(env: Env, warnings: string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, name] of [
    ['maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE'],
    ['scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY'],
    ['exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT'],
    ['maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
  ] as const) {
    if (!set(env, name)) continue;
    const value = Number(env[name]!.trim());
    if (Number.isFinite(value) && value > 0) out[key] = value;
    else warnings.push(`${name}=${quote(env[name]!)} (expected a number greater than 0): using the default`);
  }
  return out;
}

/** The span processors the plan asks for, their exporters loaded only when used. */
async function spanProcessors(plan: ExportPlan, env: Env, warn: (message: string) => void): Promise<SpanProcessor[]> {
  const { BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace');
  const processors: SpanProcessor[] = [];
  // Batched as NodeSDK batches them (with OTEL_BSP_*); console spans as they end, as NodeSDK does.
  const bsp = batchSpanProcessorConfig(env);
  const batch = (exporter: SpanExporter): void => void processors.push(new BatchSpanProcessor({ exporter, ...bsp }));
  switch (plan.traces.otlp) {
    case undefined:
      break;
    case 'grpc':
      batch(new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter());
      break;
    case 'http/json':
      batch(new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ httpAgentOptions: otlpAgentFactory }));
      break;
    default:
      batch(new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ httpAgentOptions: otlpAgentFactory }));
  }
  if (plan.traces.zipkin) {
    const zipkin = (await optionalModule('@opentelemetry/exporter-zipkin'))?.ZipkinExporter as (new () => SpanExporter) | undefined;
    if (zipkin) batch(new zipkin());
    else warn('OTEL_TRACES_EXPORTER=zipkin needs @opentelemetry/exporter-zipkin installed beside the bot: zipkin export off');
  }
  if (plan.traces.console) processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  return processors;
}

/**
 * OTEL_PROPAGATORS as NodeSDK reads it: unset, W3C trace context and baggage; `none`, no
 * propagator; b3 and b3multi when @opentelemetry/propagator-b3 is installed beside the bot.
 */
async function propagatorFromEnv(env: Env, warn: (message: string) => void): Promise<TextMapPropagator | undefined> {
  const core = await import('@opentelemetry/core');
  const names = [...new Set(otelList(env, 'OTEL_PROPAGATORS'))];
  if (names.length === 0) names.push('tracecontext', 'baggage');
  if (names.includes('none')) return undefined;
  const b3 = names.some((name) => name === 'b3' || name === 'b3multi') ? await optionalModule('@opentelemetry/propagator-b3') : undefined;
  const propagators: TextMapPropagator[] = [];
  for (const name of names) {
    if (name === 'tracecontext') propagators.push(new core.W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new core.W3CBaggagePropagator());
    else if ((name === 'b3' || name === 'b3multi') && b3 !== undefined) {
      const B3 = b3.B3Propagator as new (config?: { injectEncoding?: unknown }) => TextMapPropagator;
      const encoding = b3.B3InjectEncoding as { MULTI_HEADER: unknown };
      propagators.push(name === 'b3' ? new B3() : new B3({ injectEncoding: encoding.MULTI_HEADER }));
    } else if (name === 'b3' || name === 'b3multi') warn(`OTEL_PROPAGATORS=${name} needs @opentelemetry/propagator-b3 installed beside the bot: ignored`);
    else warn(`OTEL_PROPAGATORS=${quote(name)} (expected tracecontext, baggage, b3, b3multi or none): ignored`);
  }
  if (propagators.length === 0) return undefined;
  return propagators.length === 1 ? propagators[0] : new core.CompositePropagator({ propagators });
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
  /**
   * Data made outside the SDK's instruments, for each reader this creates (OTLP, console), given
   * the temporality its exporter asks for (a producer of counters may owe a delta reader deltas).
   */
  readonly metricProducers?: (temporality: (type: InstrumentType) => AggregationTemporality) => MetricProducer[];
  readonly views: ViewOptions[];
}

export interface StartedSdk {
  readonly meterProvider: MeterProvider;
  /** Only when traces are exported: without an exporter no span is worth creating. */
  readonly tracerProvider: TracerProvider | undefined;
  /** What is exported besides /metrics, for the start-up line (empty lists: nothing). */
  readonly exporting: ExportPlan['described'];
  /** Exports what is pending now, keeping everything running. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The resource NodeSDK would build: defaults, our service name, then what the detectors find. */
const BASE_RESOURCE = (): Resource => defaultResource().merge(resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }));

/** The namespace the semantic conventions give for UUID v5 service.instance.id values. */
const SERVICE_INSTANCE_NAMESPACE = '4d63009a-8d0f-11ee-aad7-4c796ed8e320';

/** A name-based UUID (version 5, RFC 9562): the same name always gives the same id. */
export function uuidV5(name: string, namespace = SERVICE_INSTANCE_NAMESPACE): string {
  const bytes = createHash('sha1').update(Buffer.from(namespace.replaceAll('-', ''), 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * service.instance.id from the host and the service name, so a restart continues the same OTLP
 * series instead of starting new ones under a fresh random UUID (the SDK's own detector). Two
 * bots of one name on one host share it: give each its own OTEL_SERVICE_NAME, or set
 * service.instance.id in OTEL_RESOURCE_ATTRIBUTES, which wins.
 */
export function stableInstanceId(serviceName: string, host = hostname()): string {
  return uuidV5(`${serviceName}@${host}`);
}

/**
 * The default detector set includes process.command_args: a bot started with a key on its
 * command line would publish it in target_info. By default only detectors that cannot carry
 * secrets; OTEL_NODE_RESOURCE_DETECTORS chooses otherwise, as in NodeSDK.
 */
const SAFE_DETECTORS = ['host', 'os', 'serviceinstance'];
const DETECTORS_BY_NAME: Record<string, ResourceDetector> = {
  host: hostDetector,
  os: osDetector,
  process: processDetector,
};

/** The detector names chosen, env last so that OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win. */
function detectorNames(env: Env): string[] {
  if (!set(env, 'OTEL_NODE_RESOURCE_DETECTORS')) return [...SAFE_DETECTORS, 'env'];
  const names = otelList(env, 'OTEL_NODE_RESOURCE_DETECTORS');
  if (names.includes('all')) return ['host', 'os', 'process', 'serviceinstance', 'env'];
  if (names.includes('none')) return [];
  return [...names.filter((name) => name !== 'env'), ...(names.includes('env') ? ['env'] : [])];
}

/** The resource: defaults, the chosen detectors, a stable service.instance.id, then env's attributes. */
export function buildResource(env: Env, warn: (message: string) => void = () => {}): Resource {
  const names = detectorNames(env);
  const detectors: ResourceDetector[] = [];
  for (const name of names) {
    if (DETECTORS_BY_NAME[name]) detectors.push(DETECTORS_BY_NAME[name]);
    else if (name !== 'env' && name !== 'serviceinstance') warn(`OTEL_NODE_RESOURCE_DETECTORS=${quote(name)} (expected env, host, os, process, serviceinstance, all or none): ignored`);
  }
  let resource = BASE_RESOURCE().merge(detectResources({ detectors }));
  // The env detector is synchronous; the host detector's host.id is not, and reading a merged
  // resource's attributes before it settles is an error: the service name comes from env alone.
  const fromEnv = names.includes('env') ? detectResources({ detectors: [envDetector] }) : undefined;
  if (names.includes('serviceinstance')) {
    const service = String(fromEnv?.attributes['service.name'] ?? DEFAULT_SERVICE_NAME);
    resource = resource.merge(resourceFromAttributes({ 'service.instance.id': stableInstanceId(service) }));
  }
  return fromEnv ? resource.merge(fromEnv) : resource;
}

/** OTEL_SDK_DISABLED=true, read as the OTel SDKs read it: the whole SDK is off. */
export const sdkDisabled = (env: Env): boolean => (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';

export async function startSdk({ env, readers, metricProducers = () => [], views, sampler, warn = () => {} }: SdkOptions): Promise<StartedSdk> {
  const plan = exportPlan(env);
  metricExportTiming(env, plan.warnings);
  if (plan.traces.otlp !== undefined || plan.traces.zipkin) batchSpanProcessorConfig(env, plan.warnings);
  for (const warning of plan.warnings) warn(warning);
  const resource = buildResource(env, warn);

  const metricReaders = [...readers];
  if (plan.metrics.otlp !== undefined) {
    const exporter = new SingleFlightExporter(await otlpMetricExporter(plan.metrics.otlp));
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter,
        metricProducers: metricProducers((type) => exporter.selectAggregationTemporality(type)),
        ...metricExportTiming(env),
      }),
    );
  }
  if (plan.metrics.console) {
    const { ConsoleMetricExporter } = await import('@opentelemetry/sdk-metrics');
    const exporter = new ConsoleMetricExporter();
    metricReaders.push(
      new PeriodicExportingMetricReader({ exporter, metricProducers: metricProducers((type) => exporter.selectAggregationTemporality(type)), ...metricExportTiming(env) }),
    );
  }
  const meterProvider = new SdkMeterProvider({ resource, views, readers: metricReaders });
  // Our own provider is what the plugin uses, registered or not: if something registered a global
  // first, our readers still see our instruments.
  const meterRegistered = metrics.setGlobalMeterProvider(meterProvider);

  // No exporter, no TracerProvider: without somewhere to send them no span is worth creating.
  const processors = await spanProcessors(plan, env, warn);
  let tracerProvider: (TracerProvider & { forceFlush(): Promise<void>; shutdown(): Promise<void> }) | undefined;
  let traceRegistered = false;
  const exporting = { ...plan.described, traces: plan.described.traces.filter((name) => name !== 'zipkin' || processors.length > 0) };
  if (processors.length > 0) {
    const [{ TracerProvider: SdkTracerProvider }, { AsyncLocalStorageContextManager }] = await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/context-async-hooks'),
    ]);
    tracerProvider = new SdkTracerProvider({
      resource,
      ...(sampler ? { sampler } : {}),
      spanLimits: spanLimitsFromEnv(env),
      spanProcessors: processors,
    });
    // As NodeSDK registers them: the context manager spans need to nest across awaits, then the
    // propagators OTEL_PROPAGATORS names (W3C trace context and baggage by default), then the provider.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const propagator = await propagatorFromEnv(env, warn);
    if (propagator) propagation.setGlobalPropagator(propagator);
    traceRegistered = trace.setGlobalTracerProvider(tracerProvider);
  } else exporting.traces = [];

  return {
    meterProvider,
    tracerProvider,
    exporting,
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
