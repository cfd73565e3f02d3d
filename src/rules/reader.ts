/**
 * The evaluating reader: a metric reader of the plugin's own whose "export" is an evaluation
 * cycle. It sees the same collected data Prometheus sees, at MONITOR_INTERVAL_SECONDS, and
 * its cadence is independent of how often (or whether) anyone scrapes.
 */
import { performance } from 'node:perf_hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

export type CycleRunner = (metrics: ResourceMetrics) => void;

class EvaluatingExporter implements PushMetricExporter {
  constructor(private readonly runCycle: CycleRunner) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      this.runCycle(metrics);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** Reports how long each of its collections took, for the plugin's self-time metric. */
class EvaluatingReader extends PeriodicExportingMetricReader {
  constructor(
    options: ConstructorParameters<typeof PeriodicExportingMetricReader>[0],
    private readonly onCollect: (ms: number) => void,
  ) {
    super(options);
  }

  override async collect(options?: Parameters<PeriodicExportingMetricReader['collect']>[0]) {
    const started = performance.now();
    try {
      return await super.collect(options);
    } finally {
      this.onCollect(performance.now() - started);
    }
  }
}

export function createEvaluatingReader(
  intervalMillis: number,
  runCycle: CycleRunner,
  onCollect: (ms: number) => void = () => {},
): PeriodicExportingMetricReader {
  return new EvaluatingReader(
    {
      exporter: new EvaluatingExporter(runCycle),
      exportIntervalMillis: intervalMillis,
      // A cycle is synchronous work on in-memory data; collection is the only part that waits.
      exportTimeoutMillis: Math.min(intervalMillis, 5_000),
    },
    onCollect,
  );
}
