/**
 * otel-collector/config.yaml is only read by a collector we do not run in CI, so its structural
 * rules are checked here: a typo in a pipeline, a processor in the wrong place or two listeners on
 * one port would otherwise surface only when someone starts the stack.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Section = Record<string, unknown>;

interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}

interface CollectorConfig {
  receivers?: Section;
  processors?: Section;
  exporters?: Section;
  extensions?: Section;
  connectors?: Section;
  service: {
    extensions?: string[];
    telemetry?: { metrics?: { address?: string; readers?: { pull?: { exporter?: { prometheus?: { host?: string; port?: number } } } }[] } };
    pipelines: Record<string, Pipeline>;
  };
}

const KINDS = ['receivers', 'processors', 'exporters'] as const;

/** Exporters that listen (Prometheus scrapes them) rather than dial out. */
const LISTENING_EXPORTERS = new Set(['prometheus']);

/** `otlp/traces` is an `otlp` component named `traces`. */
const typeOf = (id: string): string => id.split('/')[0] ?? id;

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

function loadConfig(text: string): CollectorConfig {
  return parse(text) as CollectorConfig;
}

/** Every `endpoint` string under a component's settings, however deep (otlp: protocols.grpc.endpoint). */
function endpointsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(endpointsIn);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'endpoint' && typeof value === 'string' ? [value] : endpointsIn(value),
  );
}

/** The ports the collector binds, each with the component that binds it. */
function listeners(config: CollectorConfig): { component: string; port: number }[] {
  const out: { component: string; port: number }[] = [];
  const add = (component: string, endpoint: string): void => {
    const port = Number(/:(\d+)$/.exec(endpoint)?.[1]);
    if (Number.isInteger(port)) out.push({ component, port });
  };
  for (const [id, settings] of Object.entries(config.receivers ?? {})) for (const e of endpointsIn(settings)) add(`receivers.${id}`, e);
  for (const [id, settings] of Object.entries(config.extensions ?? {})) for (const e of endpointsIn(settings)) add(`extensions.${id}`, e);
  for (const [id, settings] of Object.entries(config.exporters ?? {})) {
    if (LISTENING_EXPORTERS.has(typeOf(id))) for (const e of endpointsIn(settings)) add(`exporters.${id}`, e);
  }
  const telemetry = config.service.telemetry?.metrics;
  if (telemetry?.address) add('service.telemetry.metrics', telemetry.address);
  for (const reader of telemetry?.readers ?? []) {
    const prometheus = reader.pull?.exporter?.prometheus;
    if (prometheus?.port !== undefined) add('service.telemetry.metrics', `${prometheus.host ?? ''}:${prometheus.port}`);
  }
  return out;
}

/** Everything wrong with the config's structure, as readable lines; [] when it is sound. */
function problems(config: CollectorConfig): string[] {
  const found: string[] = [];
  const pipelines = Object.entries(config.service?.pipelines ?? {});
  if (pipelines.length === 0) found.push('no pipelines');

  for (const [name, pipeline] of pipelines) {
    for (const kind of KINDS) {
      for (const id of pipeline[kind] ?? []) {
        if (!(id in (config[kind] ?? {}))) found.push(`pipeline ${name}: ${kind} ${id} is not defined`);
      }
    }
    if ((pipeline.receivers ?? []).length === 0) found.push(`pipeline ${name}: no receivers`);
    if ((pipeline.exporters ?? []).length === 0) found.push(`pipeline ${name}: no exporters`);
    const processors = (pipeline.processors ?? []).map(typeOf);
    if (processors[0] !== 'memory_limiter') found.push(`pipeline ${name}: memory_limiter is not the first processor`);
    if (processors.at(-1) !== 'batch') found.push(`pipeline ${name}: batch is not the last processor`);
  }

  for (const kind of KINDS) {
    for (const id of Object.keys(config[kind] ?? {})) {
      if (!pipelines.some(([, p]) => (p[kind] ?? []).includes(id))) found.push(`${kind} ${id} is defined but no pipeline uses it`);
    }
  }
  for (const id of Object.keys(config.extensions ?? {})) {
    if (!(config.service.extensions ?? []).includes(id)) found.push(`extensions ${id} is defined but not enabled in service.extensions`);
  }
  for (const id of config.service.extensions ?? []) {
    if (!(id in (config.extensions ?? {}))) found.push(`service.extensions names ${id}, which is not defined`);
  }

  const byPort = new Map<number, string[]>();
  for (const { component, port } of listeners(config)) byPort.set(port, [...(byPort.get(port) ?? []), component]);
  for (const [port, components] of byPort) {
    if (components.length > 1) found.push(`port ${port} is bound by ${components.join(' and ')}`);
  }
  return found;
}

const text = read('otel-collector/config.yaml');
const config = loadConfig(text);

describe('otel-collector/config.yaml', () => {
  it('is structurally sound: defined components only, memory_limiter first and batch last, no port twice, nothing unused', () => {
    expect(problems(config)).toEqual([]);
  });

  it('receives OTLP on the standard ports, gRPC 4317 and HTTP 4318', () => {
    const otlp = config.receivers?.otlp as { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } };
    expect(otlp.protocols.grpc.endpoint).toMatch(/:4317$/);
    expect(otlp.protocols.http.endpoint).toMatch(/:4318$/);
  });

  it('has a traces pipeline to an OTLP backend and a metrics pipeline to the prometheus exporter', () => {
    const { traces, metrics } = config.service.pipelines;
    expect(traces?.exporters?.map(typeOf)).toContain('otlp_grpc');
    expect(metrics?.exporters?.map(typeOf)).toContain('prometheus');
  });

  it('keeps the plugin’s series names unchanged on the way through (no unit suffixes added)', () => {
    expect((config.exporters?.prometheus as { translation_strategy?: string }).translation_strategy).toBe('UnderscoreEscapingWithoutSuffixes');
  });

  it('uses no setting or component name a current collector (0.159) deprecates or ignores', () => {
    // service.telemetry.metrics.address: ignored since readers replaced it (the :8888 scrape died);
    // add_metric_suffixes: deprecated for translation_strategy; otlp / otlphttp exporters: renamed
    // otlp_grpc / otlp_http in 0.144, the old names kept only as deprecated aliases.
    expect(config.service.telemetry?.metrics?.address).toBeUndefined();
    expect(text).not.toMatch(/^\s*add_metric_suffixes:/m);
    expect(Object.keys(config.exporters ?? {}).map(typeOf).filter((t) => t === 'otlp' || t === 'otlphttp')).toEqual([]);
    expect(config.service.telemetry?.metrics?.readers?.[0]?.pull?.exporter?.prometheus).toEqual({ host: '0.0.0.0', port: 8888 });
  });

  it('is scraped by Prometheus on the ports it listens on', () => {
    const prom = parse(read('prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'otel-collector');
    const scraped = (job?.static_configs ?? []).flatMap((s) => s.targets).map((t) => Number(t.split(':').at(-1)));
    const ports = listeners(config)
      .filter((l) => l.component === 'service.telemetry.metrics' || l.component.startsWith('exporters.'))
      .map((l) => l.port);
    const ascending = (a: number, b: number): number => a - b;
    expect(scraped.sort(ascending)).toEqual(ports.sort(ascending));
  });
});

describe('the collector config checks themselves', () => {
  const broken = loadConfig(`
receivers:
  otlp: { protocols: { grpc: { endpoint: 0.0.0.0:4317 }, http: { endpoint: 0.0.0.0:4318 } } }
  zipkin: { endpoint: 0.0.0.0:9411 }
processors:
  batch: {}
  memory_limiter: { check_interval: 1s, limit_mib: 100 }
exporters:
  prometheus: { endpoint: 0.0.0.0:4318 }
  otlp: { endpoint: tempo:4317 }
extensions:
  health_check: { endpoint: 0.0.0.0:13133 }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch, memory_limiter], exporters: [otlp, jaeger] }
`);

  it('reports each kind of mistake', () => {
    expect(problems(broken)).toEqual([
      'pipeline traces: exporters jaeger is not defined',
      'pipeline traces: memory_limiter is not the first processor',
      'pipeline traces: batch is not the last processor',
      'receivers zipkin is defined but no pipeline uses it',
      'exporters prometheus is defined but no pipeline uses it',
      'extensions health_check is defined but not enabled in service.extensions',
      'port 4318 is bound by receivers.otlp and exporters.prometheus',
    ]);
  });

  it('does not count an exporter’s remote endpoint as a port it binds', () => {
    expect(listeners(broken).map((l) => l.component)).not.toContain('exporters.otlp');
  });
});
