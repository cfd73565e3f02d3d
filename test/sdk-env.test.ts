/**
 * The standard OTEL_* variables, read as NodeSDK documents them (opentelemetry-js 0.301 /
 * sdk-node utils: getSpanProcessorsFromEnv, getMetricReadersFromEnv,
 * getPeriodicExportingMetricReaderFromEnv), with the plugin's one difference: nothing is pushed
 * over OTLP until a variable asks for it.
 */
import { describe, expect, it } from 'vitest';
import { batchSpanProcessorConfig, buildResource, exportPlan, metricExportTiming, stableInstanceId, uuidV5 } from '../src/plugin/sdk.js';

describe('exportPlan', () => {
  it('pushes nothing when no variable asks', () => {
    expect(exportPlan({})).toEqual({ traces: { console: false, zipkin: false }, metrics: { console: false }, described: { traces: [], metrics: [] }, warnings: [] });
  });

  it('OTEL_METRICS_EXPORTER=otlp alone pushes metrics to the default OTLP/HTTP endpoint', () => {
    const plan = exportPlan({ OTEL_METRICS_EXPORTER: 'otlp' });
    expect(plan.metrics.otlp).toBe('http/protobuf');
    expect(plan.described.metrics).toEqual(['otlp http/protobuf to http://localhost:4318/v1/metrics']);
    expect(plan.traces.otlp).toBeUndefined();
  });

  it('an endpoint alone pushes both signals, as before', () => {
    const plan = exportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect(plan.described).toEqual({
      traces: ['otlp http/protobuf to http://collector:4318/v1/traces'],
      metrics: ['otlp http/protobuf to http://collector:4318/v1/metrics'],
    });
  });

  it('reads comma lists, in any case and with spaces, and the per-signal protocol and endpoint', () => {
    const plan = exportPlan({
      OTEL_TRACES_EXPORTER: ' OTLP , console',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4317',
    });
    expect(plan.described).toEqual({ traces: ['otlp grpc to http://tempo:4317', 'console'], metrics: ['otlp http/json to http://localhost:4318/v1/metrics'] });
    expect(plan.warnings).toEqual([]);
  });

  it('console alone is console, never announced as OTLP', () => {
    const plan = exportPlan({ OTEL_TRACES_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'console' });
    expect(plan.described).toEqual({ traces: ['console'], metrics: ['console'] });
  });

  it('none wins for metrics, and for traces when first; among other trace exporters it means otlp, with NodeSDK\'s warning', () => {
    expect(exportPlan({ OTEL_METRICS_EXPORTER: 'otlp,none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).described.metrics).toEqual([]);
    expect(exportPlan({ OTEL_TRACES_EXPORTER: 'none,console', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).described.traces).toEqual([]);
    const mixed = exportPlan({ OTEL_TRACES_EXPORTER: 'console,none' });
    expect(mixed.described.traces).toEqual(['otlp http/protobuf to http://localhost:4318/v1/traces']);
    expect(mixed.warnings).toEqual(['OTEL_TRACES_EXPORTER contains "none" along with other exporters: using the default otlp exporter (as NodeSDK does)']);
  });

  it('names an unknown exporter or protocol once and goes on with the rest', () => {
    const plan = exportPlan({ OTEL_METRICS_EXPORTER: 'otlp,statsd', OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' });
    expect(plan.metrics.otlp).toBe('http/protobuf');
    expect(plan.described.traces).toEqual([]);
    expect(plan.warnings).toEqual([
      'OTEL_TRACES_EXPORTER="jaeger" (expected otlp, console, zipkin or none): ignored',
      'OTEL_METRICS_EXPORTER="statsd" (expected otlp, prometheus, console or none): ignored',
      'OTEL_EXPORTER_OTLP_PROTOCOL="http/xml" (expected http/protobuf, http/json, grpc): using http/protobuf',
    ]);
  });

  it('an endpoint that is not a URL turns OTLP off for its signal with one line', () => {
    const plan = exportPlan({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318' });
    expect(plan.metrics.otlp).toBeUndefined();
    expect(plan.warnings).toEqual(['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="collector:4318" (expected an http:// or https:// URL): OTLP metrics stay off']);
  });
});

describe('metricExportTiming', () => {
  it('defaults to 60 s and 30 s', () => {
    expect(metricExportTiming({})).toEqual({ exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 });
  });

  it('reads OTEL_METRIC_EXPORT_TIMEOUT, never longer than the interval', () => {
    expect(metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: '10000', OTEL_METRIC_EXPORT_TIMEOUT: '2500' })).toEqual({ exportIntervalMillis: 10_000, exportTimeoutMillis: 2_500 });
    const warnings: string[] = [];
    expect(metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: '5000' }, warnings)).toEqual({ exportIntervalMillis: 5_000, exportTimeoutMillis: 5_000 });
    expect(warnings).toEqual([]);
    expect(metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '9000' }, warnings).exportTimeoutMillis).toBe(5_000);
    expect(warnings).toEqual(['OTEL_METRIC_EXPORT_TIMEOUT (9000) is greater than OTEL_METRIC_EXPORT_INTERVAL (5000): the timeout is the interval']);
  });

  it('a value that is not a positive number is the default, with one line', () => {
    const warnings: string[] = [];
    expect(metricExportTiming({ OTEL_METRIC_EXPORT_INTERVAL: '0', OTEL_METRIC_EXPORT_TIMEOUT: 'soon' }, warnings)).toEqual({ exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000 });
    expect(warnings).toHaveLength(2);
  });
});

describe('batchSpanProcessorConfig', () => {
  it('reads OTEL_BSP_* as NodeSDK does (the SDK 3 processor does not read them itself)', () => {
    const warnings: string[] = [];
    expect(batchSpanProcessorConfig({ OTEL_BSP_SCHEDULE_DELAY: '250', OTEL_BSP_MAX_QUEUE_SIZE: '4096', OTEL_BSP_EXPORT_TIMEOUT: '-1' }, warnings)).toEqual({
      scheduledDelayMillis: 250,
      maxQueueSize: 4096,
    });
    expect(warnings).toEqual(['OTEL_BSP_EXPORT_TIMEOUT="-1" (expected a number greater than 0): using the default']);
  });
});

describe('service.instance.id', () => {
  it('is a version 5 UUID as RFC 9562 computes it', () => {
    // RFC 9562 appendix A.4: "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('is the same for the same host and service name, and differs otherwise', () => {
    expect(stableInstanceId('polymarket-bot', 'vm-1')).toBe(stableInstanceId('polymarket-bot', 'vm-1'));
    expect(stableInstanceId('polymarket-bot', 'vm-1')).not.toBe(stableInstanceId('polymarket-bot', 'vm-2'));
    expect(stableInstanceId('polymarket-bot', 'vm-1')).not.toBe(stableInstanceId('copy-bot-eu', 'vm-1'));
  });

  it('survives a restart, follows OTEL_SERVICE_NAME, and OTEL_RESOURCE_ATTRIBUTES overrides it', () => {
    // The SDK's env detector reads process.env itself.
    const id = (env: Record<string, string>) => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        return buildResource(env).attributes['service.instance.id'];
      } finally {
        for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
        Object.assign(process.env, saved);
      }
    };
    expect(id({})).toBe(id({}));
    expect(id({})).toBe(stableInstanceId('polymarket-bot'));
    expect(id({ OTEL_SERVICE_NAME: 'copy-bot-eu' })).toBe(stableInstanceId('copy-bot-eu'));
    expect(id({ OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=bot-7' })).toBe('bot-7');
    expect(id({ OTEL_NODE_RESOURCE_DETECTORS: 'env' })).toBeUndefined();
  });
});
