/**
 * The evaluating reader: a metric reader of the plugin's own whose "export" is an evaluation
 * cycle. It sees the same collected data Prometheus sees, at MONITOR_INTERVAL_SECONDS, and
 * its cadence is independent of how often (or whether) anyone scrapes.
 */
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

export function createEvaluatingReader(intervalMillis: number, runCycle: CycleRunner): PeriodicExportingMetricReader {
  return new PeriodicExportingMetricReader({
    exporter: new EvaluatingExporter(runCycle),
    exportIntervalMillis: intervalMillis,
    // A cycle is synchronous work on in-memory data; collection is the only part that waits.
    exportTimeoutMillis: Math.min(intervalMillis, 5_000),
  });
}
