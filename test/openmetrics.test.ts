/**
 * The OpenMetrics side of /metrics: content negotiation, the OpenMetrics 1.0 text format with
 * exemplars, and label names that stay valid whatever a resource attribute is called. A real
 * parser reads both formats in the stack test (Prometheus scrapes OpenMetrics when offered) and
 * `promtool check metrics` reads the classic one there.
 */
import { TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { negotiateFormat } from '../src/http/metrics.js';
import { Exemplars, sampledSpan } from '../src/metrics/exemplars.js';
import { createSerializer, labelName } from '../src/metrics/exposition.js';
import { TestReader } from './support/metrics.js';

let provider: MeterProvider | undefined;
afterEach(async () => {
  await provider?.shutdown();
  provider = undefined;
});

const BOUNDS = [0.1, 1, 5];
const span = (n: number, sampled = true) => ({
  traceId: n.toString(16).padStart(32, 'a'),
  spanId: n.toString(16).padStart(16, 'b'),
  traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
});

async function collect(attributes: Record<string, string> = { 'service.name': 'bot' }) {
  const reader = new TestReader();
  provider = new MeterProvider({ resource: resourceFromAttributes(attributes), readers: [reader] });
  const meter = provider.getMeter('polymarket-bot-monitoring', '1.0.0');
  const scans = meter.createHistogram('monitoring_wallet_scan_duration_seconds', { unit: 's', description: 'Scan "time"', advice: { explicitBucketBoundaries: BOUNDS } });
  const counter = meter.createCounter('monitoring_api_requests_total', { description: 'Calls' });
  const ok = { outcome: 'success' };
  const exemplars = new Exemplars({ monitoring_wallet_scan_duration_seconds: BOUNDS });
  scans.record(0.05, ok);
  exemplars.offer('monitoring_wallet_scan_duration_seconds', ok, 0.05, span(1), 1_700_000_000_000);
  scans.record(1, ok); // on a boundary: the le="1" bucket
  exemplars.offer('monitoring_wallet_scan_duration_seconds', { outcome: 'success' }, 1, span(2), 1_700_000_001_500);
  scans.record(3, ok);
  // Not sampled: its trace leads nowhere, so it is never offered (the subscribers pass sampledSpan's answer).
  const unsampled = sampledSpan(span(3, false));
  if (unsampled) exemplars.offer('monitoring_wallet_scan_duration_seconds', ok, 3, unsampled, 1_700_000_002_000);
  counter.add(2, { api: 'clob' });
  const { resourceMetrics } = await reader.collect();
  return { resourceMetrics, exemplars };
}

describe('sampledSpan', () => {
  it('keeps a sampled span context and drops an unsampled or missing one', () => {
    expect(sampledSpan(span(1))).toEqual(span(1));
    expect(sampledSpan(span(1, false))).toBeUndefined();
    expect(sampledSpan(undefined)).toBeUndefined();
  });
});

describe('content negotiation', () => {
  it.each([
    [undefined, 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    // Prometheus 2.x's scrape header.
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    // Prometheus 3.x with the classic format preferred (scrape_protocols: [PrometheusText0.0.4, …]).
    ['text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.8', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version=0.0.1', 'prometheus'],
    ['application/openmetrics-text;q=0', 'prometheus'],
  ] as const)('Accept %s → %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('OpenMetrics 1.0', () => {
  it('writes families as OpenMetrics names them, buckets before count and sum, exemplars with trace ids, and # EOF', async () => {
    const { resourceMetrics, exemplars } = await collect();
    const text = createSerializer({ exemplars }).serialize(resourceMetrics, 'openmetrics');
    const scope = 'otel_scope_name="polymarket-bot-monitoring",otel_scope_version="1.0.0"';
    expect(text).toBe(
      [
        '# TYPE target info',
        '# HELP target Target metadata',
        'target_info{service_name="bot"} 1',
        '# TYPE monitoring_wallet_scan_duration_seconds histogram',
        '# UNIT monitoring_wallet_scan_duration_seconds seconds',
        '# HELP monitoring_wallet_scan_duration_seconds Scan \\"time\\"',
        `monitoring_wallet_scan_duration_seconds_bucket{outcome="success",${scope},le="0.1"} 1 # {trace_id="${span(1).traceId}",span_id="${span(1).spanId}"} 0.05 1700000000.000`,
        `monitoring_wallet_scan_duration_seconds_bucket{outcome="success",${scope},le="1"} 2 # {trace_id="${span(2).traceId}",span_id="${span(2).spanId}"} 1 1700000001.500`,
        `monitoring_wallet_scan_duration_seconds_bucket{outcome="success",${scope},le="5"} 3`,
        `monitoring_wallet_scan_duration_seconds_bucket{outcome="success",${scope},le="+Inf"} 3`,
        `monitoring_wallet_scan_duration_seconds_count{outcome="success",${scope}} 3`,
        `monitoring_wallet_scan_duration_seconds_sum{outcome="success",${scope}} 4.05`,
        '# TYPE monitoring_api_requests counter',
        '# HELP monitoring_api_requests Calls',
        `monitoring_api_requests_total{api="clob",${scope}} 2`,
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('writes, scrape after scrape, what a serializer with nothing kept writes, as counts and exemplars move, in both formats in turn', async () => {
    const reader = new TestReader();
    provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'bot' }), readers: [reader] });
    const meter = provider.getMeter('polymarket-bot-monitoring', '1.0.0');
    const name = 'monitoring_wallet_scan_duration_seconds';
    const scans = meter.createHistogram(name, { unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
    const exemplars = new Exemplars({ [name]: BOUNDS });
    const warm = createSerializer({ exemplars });
    const ok = { outcome: 'success' };
    const failed = { outcome: 'error' };
    const scrape = async (step: string) => {
      const { resourceMetrics } = await reader.collect();
      for (const format of ['openmetrics', 'prometheus'] as const) {
        expect(warm.serialize(resourceMetrics, format), `${step}, ${format}`).toBe(createSerializer({ exemplars }).serialize(resourceMetrics, format));
      }
      return warm.serialize(resourceMetrics, 'openmetrics');
    };
    scans.record(0.05, ok);
    scans.record(2, failed);
    await scrape('first');
    // Only the exemplar of a bucket moves (a later scan in a sampled span): the count stays.
    exemplars.offer(name, ok, 0.07, span(7), 1_700_000_007_000);
    expect(await scrape('new exemplar, same counts')).toContain(`trace_id="${span(7).traceId}"`);
    scans.record(0.5, ok);
    exemplars.offer(name, { outcome: 'success' }, 0.5, span(8), 1_700_000_008_000);
    await scrape('new measurement and exemplar');
    await scrape('nothing new');
    exemplars.offer(name, ok, 0.06, span(10), 1_700_000_010_000);
    expect(await scrape('another exemplar for a series that has some')).toContain(`trace_id="${span(10).traceId}"`);
    exemplars.offer(name, failed, 2, span(9), 1_700_000_009_000);
    expect(await scrape('the other series')).toContain(`trace_id="${span(9).traceId}"`);
  });

  it('leaves the classic format without exemplars, # EOF or the OpenMetrics names', async () => {
    const { resourceMetrics, exemplars } = await collect();
    const text = createSerializer({ exemplars }).serialize(resourceMetrics);
    expect(text).not.toMatch(/ # \{|# EOF|# TYPE target info/);
    expect(text).toMatch(/^# TYPE monitoring_api_requests_total counter$/m);
  });
});

describe('label names from resource attributes', () => {
  it('are made valid: a leading digit, characters Prometheus does not allow, names that become equal, nothing left', () => {
    expect(['1team', 'service.name', 'a__b', '_', '', '__name__', 'ünï', 'ok_name'].map(labelName)).toEqual([
      'key_1team',
      'service_name',
      'a_b',
      'key_',
      'key_',
      '_name_',
      '_n_',
      'ok_name',
    ]);
  });

  it('whatever the keys and values, every label of target_info is valid and appears once', async () => {
    const VALID = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), { maxKeys: 6 }), async (attributes) => {
        const { resourceMetrics } = await collect(attributes);
        await provider?.shutdown();
        provider = undefined;
        for (const format of ['prometheus', 'openmetrics'] as const) {
          const line = createSerializer().serialize(resourceMetrics, format).split('\n').find((l) => l.startsWith('target_info'))!;
          // Label pairs: name="value" with \\, \" and \n escaped inside the value.
          const pairs = [...line.slice('target_info{'.length, line.lastIndexOf('}')).matchAll(/([^=,]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
          expect(pairs.every((name) => VALID.test(name) && !name.startsWith('__')), line).toBe(true);
          expect(new Set(pairs).size).toBe(pairs.length);
          expect(line).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 60 },
    );
  });
});
