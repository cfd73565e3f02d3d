/**
 * The trace sampler: the standard OTEL_TRACES_SAMPLER choice, asked only while the monitoring
 * circuit breaker is closed. While it is tripped no span is recorded, whoever starts it.
 */
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';

type Env = Readonly<Record<string, string | undefined>>;

function ratio(env: Env): number {
  const value = Number(env.OTEL_TRACES_SAMPLER_ARG);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 1;
}

/** OTEL_TRACES_SAMPLER as the specification defines it; the default is parentbased_always_on. */
export function samplerFromEnv(env: Env): Sampler {
  switch ((env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase()) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio(env));
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio(env)) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

export class BreakerAwareSampler implements Sampler {
  constructor(
    private readonly inner: Sampler,
    private readonly shedding: () => boolean,
  ) {}

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (this.shedding()) return { decision: SamplingDecision.NOT_RECORD };
    return this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `BreakerAware{${this.inner.toString()}}`;
  }
}
