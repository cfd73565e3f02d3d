/**
 * One evaluation cycle, in the design's order: circuit breaker → health checks → alert rules.
 * Plain and clock-injected: no timers or I/O of its own, so tests call `runCycle` with a fake
 * clock and made-up readings; the caller wires the outcomes to gauges, sinks and logs.
 */
import type { Component, HealthStatus } from '../core/model.js';
import type { AlertHistory, Condition, Decision } from './alert-history.js';
import type { BreakerTransition, MonitoringCircuitBreaker } from './breaker.js';
import { apiConditions, tradeConditions, type CheckInputs, type CheckOutcome, type HealthCheck } from './checks.js';
import type { CheckResult, HealthBoard } from '../state/health-board.js';
import type { SystemSample, SystemSampler } from '../state/system-sampler.js';

/**
 * A CPU reading over a shorter window is noise (the first cycle right after start covers the
 * process's own start-up): the breaker does not judge CPU on it.
 */
export const MIN_CPU_WINDOW_MS = 1_000;

export interface EvaluatorDeps {
  readonly sampler: SystemSampler;
  readonly board: HealthBoard;
  readonly breaker: MonitoringCircuitBreaker;
  readonly history: AlertHistory;
  readonly checks: ReadonlyArray<readonly [Component, HealthCheck]>;
  /** Everything the checks read except the sample-dependent parts, fresh each cycle. */
  readonly inputs: (sample: SystemSample, now: number) => CheckInputs;
  /** The plugin's own load for the breaker (its CPU over the last cycle, its retained memory estimate). */
  readonly pluginLoad?: () => { cpuPercent: number; memoryMb: number };
  readonly alertsEnabled: boolean;
  readonly apiSuccessThreshold: number;
  readonly apiFailureCountThreshold: number;
  readonly onBreaker: (transition: BreakerTransition) => void;
  readonly onDecision: (decision: Decision) => void;
  readonly onSuppressed: (count: number) => void;
  /** Called after every cycle that ran the checks, with the overall status and its duration. */
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
    const { sampler, board, breaker, checks, monotonic, now } = this.deps;
    const started = monotonic();
    const sample = sampler.sample();
    const at = now();
    const plugin = this.deps.pluginLoad?.();
    const transition = breaker.evaluate({
      cpuPercent: sample.cpuWindowMs >= MIN_CPU_WINDOW_MS ? sample.cpuPercent : Number.NaN,
      memoryPercent: sample.memoryPercent,
      pluginCpuPercent: plugin?.cpuPercent ?? Number.NaN,
      pluginMemoryMb: plugin?.memoryMb ?? Number.NaN,
    });
    if (transition) this.deps.onBreaker(transition);
    const inputs = this.deps.inputs(sample, at);

    // The checks and rules run whatever the breaker says: they cost microseconds, and among them
    // are the daily loss, the bot's own breaker, stalled scans and failing APIs — the alerts the
    // plugin exists for. The breaker sheds monitoring's costly extras (spans, per-trade notices).
    const results = new Map<Component, CheckResult>();
    const conditions: Condition[] = [];
    for (const [component, check] of checks) {
      const outcome = this.check(component, check, inputs);
      results.set(component, outcome);
      conditions.push(...outcome.findings);
    }
    conditions.push(...apiConditions(inputs.bot, this.deps.apiSuccessThreshold, this.deps.apiFailureCountThreshold));
    conditions.push(...tradeConditions(inputs.bot));
    const overall = board.record(results, at);

    if (this.deps.alertsEnabled) {
      const { send, suppressed } = this.deps.history.evaluate(conditions);
      if (suppressed > 0) this.deps.onSuppressed(suppressed);
      for (const decision of send) this.deps.onDecision(decision);
    }
    this.deps.onCycle(overall, Math.max(0, (monotonic() - started) / 1000));
    return overall;
  }

  private check(component: Component, check: HealthCheck, inputs: CheckInputs): CheckOutcome {
    try {
      return check(inputs);
    } catch (error) {
      // A broken check must not hide the others; its component reads unknown, not healthy.
      this.deps.onCheckError(component, error);
      return { status: 'unknown', message: 'check failed', findings: [] };
    }
  }
}
