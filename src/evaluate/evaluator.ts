/**
 * One evaluation cycle: sample the host, run the health checks, record the outcome. Plain and
 * clock-injected: no timers or I/O of its own, so tests call `runCycle` with a fake clock.
 */
import type { Component } from '../model.js';
import type { CheckInputs, HealthCheck } from './checks.js';
import type { CheckResult, HealthBoard } from './health.js';
import type { SystemSampler } from './sampler.js';
import type { HealthStatus } from '../model.js';

export interface EvaluatorDeps {
  readonly sampler: SystemSampler;
  readonly board: HealthBoard;
  readonly checks: ReadonlyArray<readonly [Component, HealthCheck]>;
  readonly inputs: () => CheckInputs;
  /** Called once per cycle with the overall status and the cycle's duration in seconds. */
  readonly onCycle: (overall: HealthStatus, seconds: number) => void;
  readonly onCheckError: (component: Component, error: unknown) => void;
  /** Wall clock, ms. */
  readonly now: () => number;
  /** Monotonic clock, ms. */
  readonly monotonic: () => number;
}

export class Evaluator {
  constructor(private readonly deps: EvaluatorDeps) {}

  runCycle(): HealthStatus {
    const { sampler, board, checks, inputs, monotonic, now } = this.deps;
    const started = monotonic();
    sampler.sample();
    const view = inputs();
    const results = new Map<Component, CheckResult>();
    for (const [component, check] of checks) {
      try {
        results.set(component, check(view));
      } catch (error) {
        // A broken check must not hide the others; its component reads unknown, not healthy.
        this.deps.onCheckError(component, error);
        results.set(component, { status: 'unknown', message: 'check failed' });
      }
    }
    const overall = board.record(results, now());
    this.deps.onCycle(overall, Math.max(0, (monotonic() - started) / 1000));
    return overall;
  }
}
