/**
 * The monitoring circuit breaker: when the host is under stress, monitoring sheds its own work so
 * it never competes with trading for CPU or memory. A plain state machine driven once per
 * evaluation cycle; the caller samples the host, acts on the transition returned (alert, gauge,
 * shedding) and owns every side effect.
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
  /** Wall-clock ms: `since` is shown in /health as a date. */
  readonly now: () => number;
}

export interface BreakerReading {
  readonly cpuPercent: number;
  readonly memoryPercent: number;
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

  constructor(private readonly opts: BreakerOptions) {
    this.cpuRecovery = recoveryLimit(opts.cpuThreshold);
    this.memoryRecovery = recoveryLimit(opts.memoryThreshold);
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

  private tryTrip({ cpuPercent, memoryPercent }: BreakerReading, now: number): BreakerTransition | null {
    const { cpuThreshold, memoryThreshold } = this.opts;
    // `NaN > x` is false, so a broken reading can never trip; each value is judged on its own so
    // a broken CPU reading cannot hide real memory pressure.
    const causes: string[] = [];
    if (Number.isFinite(cpuPercent) && cpuPercent > cpuThreshold) {
      causes.push(`system CPU ${show(cpuPercent, cpuThreshold)} % > ${cpuThreshold} %`);
    }
    if (Number.isFinite(memoryPercent) && memoryPercent > memoryThreshold) {
      causes.push(`system memory ${show(memoryPercent, memoryThreshold)} % > ${memoryThreshold} %`);
    }
    if (causes.length === 0) return null;
    const reason = causes.join(', ');
    this.tripped = true;
    this.reason = reason;
    this.since = now;
    this.attemptBase = now;
    return { type: 'tripped', reason, at: now, attempts: 0 };
  }

  private tryRecovery({ cpuPercent, memoryPercent }: BreakerReading, now: number): BreakerTransition | null {
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
    if (cpuOk && memoryOk) {
      const attempts = this.attempts;
      const reason =
        `system CPU ${show(cpuPercent, this.cpuRecovery)} % < ${this.cpuRecovery} % and ` +
        `system memory ${show(memoryPercent, this.memoryRecovery)} % < ${this.memoryRecovery} %`;
      this.close();
      return { type: 'recovered', reason, at: now, attempts };
    }

    if (this.attempts < maxRecoveryAttempts) return null;
    this.gaveUp = true;
    const still: string[] = [];
    if (!cpuOk) still.push(`system CPU ${show(cpuPercent, this.cpuRecovery)} % ≥ ${this.cpuRecovery} %`);
    if (!memoryOk) still.push(`system memory ${show(memoryPercent, this.memoryRecovery)} % ≥ ${this.memoryRecovery} %`);
    return {
      type: 'gave_up',
      reason: `${this.attempts} recovery attempts failed (last: ${still.join(', ')}); stays tripped until a manual reset`,
      at: now,
      attempts: this.attempts,
    };
  }

  private close(): void {
    this.tripped = false;
    this.gaveUp = false;
    this.reason = null;
    this.since = null;
    this.attempts = 0;
    this.lastAttemptAt = null;
  }
}
