/**
 * The evaluating reader: a metric reader of the plugin's own whose "export" is an evaluation
 * cycle. It sees the same collected data Prometheus sees, at MONITOR_INTERVAL_SECONDS, and
 * its cadence is independent of how often (or whether) anyone scrapes.
 */
import { performance } from 'node:perf_hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  PeriodicExportingMetricReader,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

export type CycleRunner = (metrics: ResourceMetrics) => void;

class EvaluatingExporter implements PushMetricExporter {
  /** Set once the evaluation exists; collections before that (and after `stop`) run nothing. */
  runCycle: CycleRunner = () => {};

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

/**
 * Reports how long each of its collections took, for the plugin's self-time metric. It exists
 * before the SDK (which takes its readers up front); what a cycle does is set once the evaluation
 * is assembled (`setCycle`).
 */
export class EvaluatingReader extends PeriodicExportingMetricReader {
  constructor(
    private readonly exporter: EvaluatingExporter,
    intervalMillis: number,
    private readonly onCollect: (ms: number) => void,
    metricProducers: MetricProducer[],
  ) {
    super({
      exporter,
      metricProducers,
      exportIntervalMillis: intervalMillis,
      // A cycle is synchronous work on in-memory data; collection is the only part that waits.
      exportTimeoutMillis: Math.min(intervalMillis, 5_000),
    });
  }

  /** What each collection is handed to; `undefined` stops cycles (the final flush at shutdown is not one). */
  setCycle(runCycle: CycleRunner | undefined): void {
    this.exporter.runCycle = runCycle ?? (() => {});
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

/** @param metricProducers data made outside the SDK's instruments (the plugin's gauges). */
export function createEvaluatingReader(intervalMillis: number, onCollect: (ms: number) => void = () => {}, metricProducers: MetricProducer[] = []): EvaluatingReader {
  return new EvaluatingReader(new EvaluatingExporter(), intervalMillis, onCollect, metricProducers);
}
