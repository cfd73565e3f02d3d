import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { BreakerAwareSampler, samplerFromEnv } from '../src/ingest/trace-sampler.js';

const TRACE_ID = 'ffffffffffffffffffffffffffffffff'; // the highest id: sampled out by any ratio below 1
const decide = (sampler: ReturnType<typeof samplerFromEnv>) => sampler.shouldSample(ROOT_CONTEXT, TRACE_ID, 'x', SpanKind.INTERNAL, {}, []).decision;

describe('trace sampler', () => {
  it('defaults to parentbased_always_on, as the OTel specification does', () => {
    expect(samplerFromEnv({}).toString()).toMatch(/ParentBased\{root=AlwaysOnSampler/);
    expect(decide(samplerFromEnv({}))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it.each([
    ['always_off', SamplingDecision.NOT_RECORD],
    ['always_on', SamplingDecision.RECORD_AND_SAMPLED],
    ['parentbased_always_off', SamplingDecision.NOT_RECORD],
  ])('honours OTEL_TRACES_SAMPLER=%s', (name, decision) => {
    expect(decide(samplerFromEnv({ OTEL_TRACES_SAMPLER: name }))).toBe(decision);
  });

  it('passes OTEL_TRACES_SAMPLER_ARG to the ratio samplers', () => {
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).toString()).toContain('0.25');
    expect(decide(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('records nothing while the monitoring breaker sheds work, and defers to the env sampler otherwise', () => {
    let tripped = true;
    const sampler = new BreakerAwareSampler(samplerFromEnv({}), () => tripped);
    expect(decide(sampler)).toBe(SamplingDecision.NOT_RECORD);
    tripped = false;
    expect(decide(sampler)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
