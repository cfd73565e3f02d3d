/**
 * One evaluation cycle, in the design's order: circuit breaker → rules → component health →
 * notifications. The rules read the collection the evaluating reader was handed (the same series
 * Prometheus sees) plus what only the process knows. Plain and clock-injected: no timers or I/O
 * of its own, so tests call `runCycle` with a fake clock and made-up collections.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Component, HealthStatus } from '../core/model.js';
import type { CheckResult, HealthBoard } from '../state/health-board.js';
import type { SystemSample, SystemSampler } from '../state/system-sampler.js';
import type { AlertHistory, Condition, Decision } from './alert-history.js';
import type { BreakerTransition, MonitoringCircuitBreaker } from './breaker.js';
import { textFor, type ProcessFacts, type RuleDef, type RuleSettings } from './catalog.js';
import type { ComponentCheck, ComponentInputs } from './checks.js';
import type { CollectedMetrics } from './collected.js';

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
  /** The in-process rules (the catalog's rules with an `inProcess` part). */
  readonly rules: readonly RuleDef[];
  readonly settings: RuleSettings;
  readonly checks: ReadonlyArray<readonly [Component, ComponentCheck]>;
  /** The collections the rules read; `runCycle` adds the one it is handed. */
  readonly collected: CollectedMetrics;
  /** What only the process knows, fresh each cycle. */
  readonly facts: (sample: SystemSample) => ProcessFacts;
  /** What the component checks read besides the findings. */
  readonly inputs: (now: number) => ComponentInputs;
  /** The plugin's own load for the breaker (its CPU over the last cycle, its retained memory estimate). */
  readonly pluginLoad?: () => { cpuPercent: number; memoryMb: number };
  readonly alertsEnabled: boolean;
  readonly onBreaker: (transition: BreakerTransition) => void;
  readonly onDecision: (decision: Decision) => void;
  readonly onSuppressed: (count: number) => void;
  /** Called after every cycle, with the overall status and its duration. */
  readonly onCycle: (overall: HealthStatus, seconds: number) => void;
  /** A rule or a component check threw: its findings are missing this cycle. */
  readonly onCheckError: (what: string, error: unknown) => void;
  /** Wall clock, ms. */
  readonly now: () => number;
  /** Monotonic clock, ms. */
  readonly monotonic: () => number;
}

const RANK = { info: 0, warning: 1, critical: 2 } as const;

/**
 * One condition per family and component, the most severe: a loss past the critical limit is past
 * the warning one too, and is one alert (Alertmanager's inhibit rule does the same).
 */
export function mostSeverePerFamily(conditions: readonly Condition[]): Condition[] {
  const kept = new Map<string, Condition>();
  for (const condition of conditions) {
    const key = `${condition.family}\u0000${condition.component}`;
    const seen = kept.get(key);
    if (seen === undefined || RANK[condition.severity] > RANK[seen.severity]) kept.set(key, condition);
  }
  return [...kept.values()];
}

export class Evaluator {
  constructor(private readonly deps: EvaluatorDeps) {}

  /** One cycle over `metrics`, the collection just made (omitted: the rules read the last one again). */
  runCycle(metrics?: ResourceMetrics): HealthStatus {
    const { sampler, board, breaker, checks, monotonic, now } = this.deps;
    const started = monotonic();
    const sample = sampler.sample();
    const at = now();
    if (metrics) this.deps.collected.update(metrics, at);
    const plugin = this.deps.pluginLoad?.();
    const transition = breaker.evaluate({
      cpuPercent: sample.cpuWindowMs >= MIN_CPU_WINDOW_MS ? sample.cpuPercent : Number.NaN,
      memoryPercent: sample.memoryPercent,
      pluginCpuPercent: plugin?.cpuPercent ?? Number.NaN,
      pluginMemoryMb: plugin?.memoryMb ?? Number.NaN,
    });
    if (transition) this.deps.onBreaker(transition);

    // The rules run whatever the breaker says: they cost microseconds, and among them are the
    // daily loss, the bot's own breaker, stalled scans and failing APIs — the alerts the plugin
    // exists for. The breaker sheds monitoring's costly extras (spans, per-trade notices).
    const conditions = this.findings(sample, at);
    const inputs = this.deps.inputs(at);
    const results = new Map<Component, CheckResult>();
    for (const [component, check] of checks) {
      results.set(component, this.check(component, check, conditions, inputs));
    }
    const overall = board.record(results, at);

    if (this.deps.alertsEnabled) {
      const { send, suppressed } = this.deps.history.evaluate(conditions);
      if (suppressed > 0) this.deps.onSuppressed(suppressed);
      for (const decision of send) this.deps.onDecision(decision);
    }
    this.deps.onCycle(overall, Math.max(0, (monotonic() - started) / 1000));
    return overall;
  }

  /** Every in-process rule's findings this cycle, as conditions. */
  private findings(sample: SystemSample, at: number): Condition[] {
    const { settings, collected } = this.deps;
    const input = { metrics: collected, process: this.deps.facts(sample), settings, now: at };
    const conditions: Condition[] = [];
    for (const rule of this.deps.rules) {
      if (!rule.inProcess) continue;
      try {
        const title = textFor(rule.summary, settings);
        for (const finding of rule.inProcess.evaluate(input)) {
          if (rule.severity === 'none') continue;
          conditions.push({ rule: rule.name, family: rule.family, severity: rule.severity, title, ...finding });
        }
      } catch (error) {
        // A broken rule must not hide the others.
        this.deps.onCheckError(rule.name, error);
      }
    }
    return mostSeverePerFamily(conditions);
  }

  private check(component: Component, check: ComponentCheck, conditions: readonly Condition[], inputs: ComponentInputs): CheckResult {
    try {
      return check(
        conditions.filter((condition) => condition.component === component),
        inputs,
      );
    } catch (error) {
      // A broken check must not hide the others; its component reads unknown, not healthy.
      this.deps.onCheckError(component, error);
      return { status: 'unknown', message: 'check failed' };
    }
  }
}
