/**
 * Component health as the evaluators last found it: what /health shows and what the
 * `monitoring_component_status` gauge reads. Written only by the evaluation cycle.
 */
import { redactText } from '../core/redact.js';
import { COMPONENTS, type Component, type ComponentStatus, type HealthStatus } from '../core/model.js';

export interface CheckResult {
  readonly status: ComponentStatus;
  /** Short, human, secret-free: it goes to /health and into alerts. */
  readonly message: string;
}

export interface ComponentHealth extends CheckResult {
  /** Wall-clock ms of the check that produced this result; null until first checked. */
  readonly checkedAt: number | null;
}

/**
 * The seed's rule: any critical → critical; two or more degraded → critical; one degraded →
 * degraded. `unknown` (never reported) counts as neither.
 */
export function overallStatus(statuses: Iterable<ComponentStatus>): HealthStatus {
  let degraded = 0;
  for (const status of statuses) {
    if (status === 'critical') return 'critical';
    if (status === 'degraded') degraded += 1;
  }
  if (degraded >= 2) return 'critical';
  return degraded === 1 ? 'degraded' : 'healthy';
}

export class HealthBoard {
  private readonly components = new Map<Component, ComponentHealth>(
    COMPONENTS.map((c) => [c, { status: 'unknown', message: 'not reported yet', checkedAt: null }]),
  );
  private overallValue: HealthStatus = 'healthy';
  private cycles = 0;
  private lastCycle: number | null = null;

  /**
   * Records one cycle's results; components not in `results` keep their last state. A cycle
   * that ran only part of the checks (while the breaker sheds work) is not counted as a check.
   */
  record(results: ReadonlyMap<Component, CheckResult>, at: number, counted = true): HealthStatus {
    for (const [component, result] of results) {
      // Messages quote what the bot reported; /health serves them as they are, so mask here.
      this.components.set(component, { status: result.status, message: redactText(result.message), checkedAt: at });
    }
    this.overallValue = overallStatus([...this.components.values()].map((c) => c.status));
    if (counted) {
      this.cycles += 1;
      this.lastCycle = at;
    }
    return this.overallValue;
  }

  get overall(): HealthStatus {
    return this.overallValue;
  }

  get checksDone(): number {
    return this.cycles;
  }

  get lastCycleAt(): number | null {
    return this.lastCycle;
  }

  get(component: Component): ComponentHealth {
    // Every component is seeded in the constructor.
    return this.components.get(component)!;
  }

  entries(): IterableIterator<[Component, ComponentHealth]> {
    return this.components.entries();
  }
}
