// Baseline preload for benchmarks: what a user gets writing the minimal OTel setup by hand —
// NodeSDK with the Prometheus exporter and nothing else (no OTLP, no host metrics).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

const sdk = new NodeSDK({
  metricReaders: [
    new PrometheusExporter({
      // Loopback, as the plugin binds by default (the exporter alone would listen on every interface).
      host: process.env.BASELINE_METRICS_HOST ?? '127.0.0.1',
      port: Number(process.env.BASELINE_METRICS_PORT ?? 9464),
    }),
  ],
  spanProcessors: [],
  logRecordProcessors: [],
});
sdk.start();
