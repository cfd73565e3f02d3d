/**
 * Builds and starts the OpenTelemetry NodeSDK the way a trading bot needs it.
 *
 * The stock NodeSDK exports traces, metrics and logs over OTLP to localhost:4318 by default, and
 * its trace flush at shutdown crashes a process that has no collector (ECONNREFUSED). Here OTLP
 * is opt-in: nothing dials out unless an OTEL_EXPORTER_OTLP_*ENDPOINT (or an explicit
 * OTEL_*_EXPORTER) asks for it. Every other OTEL_* variable keeps its standard meaning.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  defaultResource,
  envDetector,
  hostDetector,
  osDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { metrics, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace';

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_SERVICE_NAME = 'polymarket-bot';

const set = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';
const list = (env: Env, name: string): string[] =>
  (env[name] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/** Whether the user asked for a signal to be exported through the standard OTEL_* variables. */
export function otlpWanted(env: Env, signal: 'traces' | 'metrics'): boolean {
  const exporters = list(env, signal === 'traces' ? 'OTEL_TRACES_EXPORTER' : 'OTEL_METRICS_EXPORTER');
  if (exporters.includes('none')) return false;
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

export async function startSdk({ env, readers, views, sampler }: SdkOptions): Promise<StartedSdk> {
  const otlp = { traces: otlpWanted(env, 'traces'), metrics: otlpWanted(env, 'metrics') };
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

  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) still win over this default.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME })),
    // The default detector set includes process.command_args: a bot started with a key on its
    // command line would publish it in target_info. Only detectors that cannot carry secrets.
    ...(set(env, 'OTEL_NODE_RESOURCE_DETECTORS')
      ? {}
      : { resourceDetectors: [envDetector, hostDetector, osDetector, serviceInstanceIdDetector] }),
    metricReaders,
    views,
    // No processors = no TracerProvider and no LoggerProvider: nothing dials a collector.
    ...(otlp.traces ? (sampler ? { sampler } : {}) : { spanProcessors: [] }),
    logRecordProcessors: [],
  });
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
    shutdown: () => sdk.shutdown(),
  };
}
