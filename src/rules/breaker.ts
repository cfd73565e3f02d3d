/**
 * The monitoring circuit breaker: when the plugin costs more than its budget, or the host is under
 * stress, monitoring sheds its own work (spans, per-trade notices) so it never competes with
 * trading for CPU or memory. It never sheds the alert rules: those cost microseconds and include
 * the ones about money. A plain state machine driven once per evaluation cycle; the caller samples
 * the host and the plugin, acts on the transition returned (alert, gauge, shedding) and owns
 * every side effect.
 *
 * Hysteresis both ways: a load must stay over its limit for `tripAfterReadings` consecutive
 * cycles before it trips (a neighbour's burst on a shared host is not the plugin's business), and
 * every load must be under 80 % of its limit at a recovery attempt for it to close.
 */

export interface BreakerOptions {
  readonly enabled: boolean;
  /** System CPU %, tripping when strictly above. */
  readonly cpuThreshold: number;
  /** System memory %, tripping when strictly above. */
  readonly memoryThreshold: number;
  readonly recoveryEnabled: boolean;
  readonly recoveryIntervalMs: number;
  readonly maxRecoveryAttempts: number;
  /** The plugin's own CPU budget, % of one core (MONITORING_MAX_CPU_PERCENT); tripping when strictly above. */
  readonly pluginCpuBudget?: number;
  /** The plugin's own memory budget, MB (MONITORING_MAX_MEMORY_MB); tripping when strictly above. */
  readonly pluginMemoryBudgetMb?: number;
  /** Consecutive over-limit readings before it trips; 1 trips on the first. */
  readonly tripAfterReadings?: number;
  /** Wall-clock ms: `since` is shown in /health as a date. */
  readonly now: () => number;
}

/** Readings over this many consecutive cycles trip the breaker (90 s at the default 30 s interval). */
export const TRIP_AFTER_READINGS = 3;

export interface BreakerReading {
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  /** The plugin's own CPU, % of one core over the last cycle; NaN when unknown. */
  readonly pluginCpuPercent?: number;
  /** The plugin's own retained memory (an estimate, see README), MB; NaN when unknown. */
  readonly pluginMemoryMb?: number;
}

export type BreakerTransitionType = 'tripped' | 'recovered' | 'gave_up' | 'reset';

export interface BreakerTransition {
  readonly type: BreakerTransitionType;
  /** Human and secret-free: it goes into the alert and /health. */
  readonly reason: string;
  readonly at: number;
  /** Recovery attempts made during this trip, including the one that recovered. */
  readonly attempts: number;
}

export interface BreakerState {
  readonly tripped: boolean;
  /** Out of recovery attempts: only reset() closes it now. */
  readonly gaveUp: boolean;
  /** Why it tripped; null while closed. */
  readonly reason: string | null;
  readonly since: number | null;
  readonly recoveryAttempts: number;
  readonly lastAttemptAt: number | null;
}

/** Share of the trip threshold a reading must fall below before the breaker closes again. */
const RECOVERY_RATIO_NUMERATOR = 4;
const RECOVERY_RATIO_DENOMINATOR = 5;

/**
 * 0.8 × threshold without float drift: `0.8 * 87` is 69.60000000000001, which would let a reading
 * of exactly 69.6 % pass a strict "below 69.6 %" test.
 */
const recoveryLimit = (threshold: number): number =>
  (threshold * RECOVERY_RATIO_NUMERATOR) / RECOVERY_RATIO_DENOMINATOR;

/**
 * One decimal is enough for a human, unless rounding would make the message contradict itself
 * ("90.0 % > 90 %" for 90.04).
 */
function show(value: number, limit: number): string {
  const rounded = Math.round(value * 10) / 10;
  return String(Math.sign(rounded - limit) === Math.sign(value - limit) ? rounded : value);
}

export class MonitoringCircuitBreaker {
  private tripped = false;
  private gaveUp = false;
  private reason: string | null = null;
  private since: number | null = null;
  private attempts = 0;
  private lastAttemptAt: number | null = null;
  /** The interval to the next attempt runs from here: the trip, or the last attempt. */
  private attemptBase = 0;
  private readonly cpuRecovery: number;
  private readonly memoryRecovery: number;
  private readonly tripAfter: number;
  /** Consecutive readings with some load over its limit, while closed. */
  private overReadings = 0;

  constructor(private readonly opts: BreakerOptions) {
    this.cpuRecovery = recoveryLimit(opts.cpuThreshold);
    this.memoryRecovery = recoveryLimit(opts.memoryThreshold);
    this.tripAfter = Math.max(1, Math.floor(opts.tripAfterReadings ?? TRIP_AFTER_READINGS));
  }

  /** Call once per evaluation cycle with a fresh reading; returns what changed, if anything. */
  evaluate(reading: BreakerReading): BreakerTransition | null {
    if (!this.opts.enabled) return null;
    const now = this.opts.now();
    return this.tripped ? this.tryRecovery(reading, now) : this.tryTrip(reading, now);
  }

  /** Manual reset (admin call or signal): closes the breaker whatever its state. */
  reset(by: 'admin' | 'signal'): BreakerTransition | null {
    if (!this.tripped) return null;
    const attempts = this.attempts;
    this.close();
    return { type: 'reset', reason: `manual reset by ${by}`, at: this.opts.now(), attempts };
  }

  get state(): BreakerState {
    return {
      tripped: this.tripped,
      gaveUp: this.gaveUp,
      reason: this.reason,
      since: this.since,
      recoveryAttempts: this.attempts,
      lastAttemptAt: this.lastAttemptAt,
    };
  }

  /** What is over its limit in this reading, in words for the alert and /health. */
  private overLimits(reading: BreakerReading): string[] {
    const { cpuThreshold, memoryThreshold, pluginCpuBudget, pluginMemoryBudgetMb } = this.opts;
    // `NaN > x` is false, so a broken reading can never trip; each value is judged on its own so
    // a broken CPU reading cannot hide real memory pressure.
    const causes: string[] = [];
    const { pluginCpuPercent: pluginCpu = Number.NaN, pluginMemoryMb: pluginMemory = Number.NaN } = reading;
    if (pluginCpuBudget !== undefined && Number.isFinite(pluginCpu) && pluginCpu > pluginCpuBudget) {
      causes.push(`plugin CPU ${show(pluginCpu, pluginCpuBudget)} % of a core > budget ${pluginCpuBudget} %`);
    }
    if (pluginMemoryBudgetMb !== undefined && Number.isFinite(pluginMemory) && pluginMemory > pluginMemoryBudgetMb) {
      causes.push(`plugin memory ${show(pluginMemory, pluginMemoryBudgetMb)} MB > budget ${pluginMemoryBudgetMb} MB`);
    }
    if (Number.isFinite(reading.cpuPercent) && reading.cpuPercent > cpuThreshold) {
      causes.push(`system CPU ${show(reading.cpuPercent, cpuThreshold)} % > ${cpuThreshold} %`);
    }
    if (Number.isFinite(reading.memoryPercent) && reading.memoryPercent > memoryThreshold) {
      causes.push(`system memory ${show(reading.memoryPercent, memoryThreshold)} % > ${memoryThreshold} %`);
    }
    return causes;
  }

  private tryTrip(reading: BreakerReading, now: number): BreakerTransition | null {
    const causes = this.overLimits(reading);
    if (causes.length === 0) {
      this.overReadings = 0;
      return null;
    }
    if (++this.overReadings < this.tripAfter) return null;
    const reason = `${causes.join(', ')}${this.tripAfter > 1 ? ` for ${this.tripAfter} consecutive checks` : ''}`;
    this.overReadings = 0;
    this.tripped = true;
    this.reason = reason;
    this.since = now;
    this.attemptBase = now;
    return { type: 'tripped', reason, at: now, attempts: 0 };
  }

  private tryRecovery(reading: BreakerReading, now: number): BreakerTransition | null {
    const { cpuPercent, memoryPercent } = reading;
    const { recoveryEnabled, recoveryIntervalMs, maxRecoveryAttempts } = this.opts;
    if (this.gaveUp || !recoveryEnabled) return null;
    // A wall clock stepped backwards would otherwise hold off the next attempt by the size of the step.
    if (now < this.attemptBase) this.attemptBase = now;
    if (now - this.attemptBase < recoveryIntervalMs) return null;
    // An unreadable host proves nothing either way: wait for a real reading rather than spend an attempt.
    if (!Number.isFinite(cpuPercent) || !Number.isFinite(memoryPercent)) return null;

    this.attempts += 1;
    this.lastAttemptAt = now;
    // From the attempt itself, not the schedule: a late cycle gets one attempt, never a burst.
    this.attemptBase = now;

    const cpuOk = cpuPercent < this.cpuRecovery;
    const memoryOk = memoryPercent < this.memoryRecovery;
    const pluginStill = this.pluginOverRecovery(reading);
    if (cpuOk && memoryOk && pluginStill.length === 0) {
      const attempts = this.attempts;
      const reason =
        `system CPU ${show(cpuPercent, this.cpuRecovery)} % < ${this.cpuRecovery} % and ` +
        `system memory ${show(memoryPercent, this.memoryRecovery)} % < ${this.memoryRecovery} %` +
        (this.opts.pluginCpuBudget !== undefined || this.opts.pluginMemoryBudgetMb !== undefined ? ', plugin within 80 % of its budget' : '');
      this.close();
      return { type: 'recovered', reason, at: now, attempts };
    }

    if (this.attempts < maxRecoveryAttempts) return null;
    this.gaveUp = true;
    const still: string[] = [];
    if (!cpuOk) still.push(`system CPU ${show(cpuPercent, this.cpuRecovery)} % ≥ ${this.cpuRecovery} %`);
    if (!memoryOk) still.push(`system memory ${show(memoryPercent, this.memoryRecovery)} % ≥ ${this.memoryRecovery} %`);
    still.push(...pluginStill);
    return {
      type: 'gave_up',
      reason: `${this.attempts} recovery attempts failed (last: ${still.join(', ')}); stays tripped until a manual reset`,
      at: now,
      attempts: this.attempts,
    };
  }

  /** The plugin's loads not yet under 80 % of their budgets (an unknown reading does not hold recovery up). */
  private pluginOverRecovery({ pluginCpuPercent = Number.NaN, pluginMemoryMb = Number.NaN }: BreakerReading): string[] {
    const still: string[] = [];
    const { pluginCpuBudget, pluginMemoryBudgetMb } = this.opts;
    if (pluginCpuBudget !== undefined && pluginCpuPercent >= recoveryLimit(pluginCpuBudget)) {
      still.push(`plugin CPU ${show(pluginCpuPercent, recoveryLimit(pluginCpuBudget))} % ≥ ${recoveryLimit(pluginCpuBudget)} % of a core`);
    }
    if (pluginMemoryBudgetMb !== undefined && pluginMemoryMb >= recoveryLimit(pluginMemoryBudgetMb)) {
      still.push(`plugin memory ${show(pluginMemoryMb, recoveryLimit(pluginMemoryBudgetMb))} MB ≥ ${recoveryLimit(pluginMemoryBudgetMb)} MB`);
    }
    return still;
  }

  private close(): void {
    this.overReadings = 0;
    this.tripped = false;
    this.gaveUp = false;
    this.reason = null;
    this.since = null;
    this.attempts = 0;
    this.lastAttemptAt = null;
  }
}
