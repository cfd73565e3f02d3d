import { describe, expect, it } from 'vitest';
import { MonitoringCircuitBreaker, type BreakerOptions } from '../../src/rules/breaker.js';

const INTERVAL = 60_000;
const CALM = { cpuPercent: 10, memoryPercent: 10 };
const HOT = { cpuPercent: 95, memoryPercent: 10 };
/** Below the trip threshold but not below 0.8 × of it: a recovery attempt fails on it. */
const WARM = { cpuPercent: 80, memoryPercent: 10 };

function setup(overrides: Partial<BreakerOptions> = {}) {
  const clock = { t: 1_000_000 };
  const breaker = new MonitoringCircuitBreaker({
    enabled: true,
    cpuThreshold: 90,
    memoryThreshold: 85,
    recoveryEnabled: true,
    recoveryIntervalMs: INTERVAL,
    maxRecoveryAttempts: 3,
    // The single-reading cases below; the hysteresis has its own tests.
    tripAfterReadings: 1,
    now: () => clock.t,
    ...overrides,
  });
  return { clock, breaker };
}

/** Trips at t0 and returns a helper that jumps the clock to t0 + ms. */
function tripped(overrides: Partial<BreakerOptions> = {}) {
  const ctx = setup(overrides);
  const t0 = ctx.clock.t;
  expect(ctx.breaker.evaluate(HOT)?.type).toBe('tripped');
  return { ...ctx, t0, at: (ms: number) => (ctx.clock.t = t0 + ms) };
}

describe('MonitoringCircuitBreaker', () => {
  it('trips when system CPU is above its threshold, naming the reading and the threshold', () => {
    const { breaker, clock } = setup();
    const transition = breaker.evaluate({ cpuPercent: 95.23, memoryPercent: 40 });
    expect(transition).toEqual({ type: 'tripped', reason: 'system CPU 95.2 % > 90 %', at: clock.t, attempts: 0 });
    expect(breaker.state).toMatchObject({ tripped: true, gaveUp: false, reason: 'system CPU 95.2 % > 90 %', since: clock.t });
  });

  it('trips when system memory is above its threshold', () => {
    const { breaker } = setup();
    expect(breaker.evaluate({ cpuPercent: 5, memoryPercent: 86 })).toMatchObject({
      type: 'tripped',
      reason: 'system memory 86 % > 85 %',
    });
  });

  it('does not trip at the threshold exactly', () => {
    const { breaker } = setup();
    expect(breaker.evaluate({ cpuPercent: 90, memoryPercent: 85 })).toBeNull();
    expect(breaker.state.tripped).toBe(false);
  });

  it('does not let rounding make the reason contradict itself just above the threshold', () => {
    const { breaker } = setup();
    expect(breaker.evaluate({ cpuPercent: 90.04, memoryPercent: 0 })?.reason).toBe('system CPU 90.04 % > 90 %');
  });

  it('ignores non-finite readings instead of tripping on them', () => {
    const { breaker } = setup();
    expect(breaker.evaluate({ cpuPercent: Number.NaN, memoryPercent: Number.NaN })).toBeNull();
    expect(breaker.evaluate({ cpuPercent: Number.POSITIVE_INFINITY, memoryPercent: 10 })).toBeNull();
    expect(breaker.state.tripped).toBe(false);
  });

  it('still trips on memory when only the CPU reading is broken', () => {
    const { breaker } = setup();
    expect(breaker.evaluate({ cpuPercent: Number.NaN, memoryPercent: 99 })?.reason).toBe('system memory 99 % > 85 %');
  });

  it('does nothing while closed on a reading between 0.8 × threshold and the threshold (hysteresis)', () => {
    const { breaker } = setup();
    expect(breaker.evaluate({ cpuPercent: 89, memoryPercent: 84 })).toBeNull();
    expect(breaker.state).toMatchObject({ tripped: false, recoveryAttempts: 0 });
  });

  it('makes no recovery attempt before the interval has elapsed since the trip', () => {
    const { breaker, at } = tripped();
    at(INTERVAL - 1);
    expect(breaker.evaluate(CALM)).toBeNull();
    expect(breaker.state).toMatchObject({ tripped: true, recoveryAttempts: 0, lastAttemptAt: null });
  });

  it('attempts recovery once the interval has elapsed since the trip', () => {
    const { breaker, at, t0 } = tripped();
    at(INTERVAL);
    expect(breaker.evaluate(CALM)).toEqual({
      type: 'recovered',
      reason: 'system CPU 10 % < 72 % and system memory 10 % < 68 %',
      at: t0 + INTERVAL,
      attempts: 1,
    });
  });

  it('makes exactly one attempt per interval however often it is evaluated in between', () => {
    const { breaker, at, t0 } = tripped();
    for (let ms = 0; ms < 3 * INTERVAL; ms += 5_000) {
      at(ms);
      breaker.evaluate(WARM);
    }
    // Attempts at +60 s and +120 s; +180 s has not been reached.
    expect(breaker.state).toMatchObject({ recoveryAttempts: 2, lastAttemptAt: t0 + 2 * INTERVAL });
  });

  it('times the next attempt from the last attempt, so a late cycle gets one attempt, not a burst', () => {
    const { breaker, at, t0 } = tripped();
    at(2.5 * INTERVAL); // two and a half intervals late
    breaker.evaluate(WARM);
    expect(breaker.state).toMatchObject({ recoveryAttempts: 1, lastAttemptAt: t0 + 2.5 * INTERVAL });
    at(3.5 * INTERVAL - 1);
    breaker.evaluate(WARM);
    expect(breaker.state.recoveryAttempts).toBe(1);
    at(3.5 * INTERVAL);
    breaker.evaluate(WARM);
    expect(breaker.state.recoveryAttempts).toBe(2);
  });

  it('recovers only when both readings are below 0.8 × their thresholds', () => {
    const { breaker, at } = tripped();
    at(INTERVAL);
    expect(breaker.evaluate({ cpuPercent: 72, memoryPercent: 10 })).toBeNull(); // CPU not below 72
    at(2 * INTERVAL);
    expect(breaker.evaluate({ cpuPercent: 10, memoryPercent: 68 })).toBeNull(); // memory not below 68
    expect(breaker.state).toMatchObject({ tripped: true, recoveryAttempts: 2 });
  });

  it('does not recover at exactly 0.8 × threshold, even where 0.8 × threshold is inexact in floating point', () => {
    // 0.8 * 87 is 69.60000000000001 in floating point.
    const { breaker, at } = tripped({ memoryThreshold: 87 });
    at(INTERVAL);
    expect(breaker.evaluate({ cpuPercent: 10, memoryPercent: 69.6 })).toBeNull();
  });

  it('spends no attempt on a non-finite reading while tripped', () => {
    const { breaker, at } = tripped();
    at(INTERVAL);
    expect(breaker.evaluate({ cpuPercent: Number.NaN, memoryPercent: 10 })).toBeNull();
    expect(breaker.state.recoveryAttempts).toBe(0);
    at(INTERVAL + 5_000);
    expect(breaker.evaluate(CALM)?.type).toBe('recovered');
  });

  it('resets the attempt counter on recovery, so the next trip gets the full set of attempts', () => {
    const { breaker, at } = tripped();
    at(INTERVAL);
    breaker.evaluate(WARM);
    at(2 * INTERVAL);
    breaker.evaluate(WARM);
    at(3 * INTERVAL);
    expect(breaker.evaluate(CALM)).toMatchObject({ type: 'recovered', attempts: 3 });
    expect(breaker.state).toMatchObject({ tripped: false, recoveryAttempts: 0, lastAttemptAt: null, since: null, reason: null });

    at(4 * INTERVAL);
    breaker.evaluate(HOT);
    at(5 * INTERVAL);
    breaker.evaluate(WARM);
    expect(breaker.state).toMatchObject({ tripped: true, gaveUp: false, recoveryAttempts: 1 });
  });

  it('gives up after the maximum number of failed attempts, saying so exactly once', () => {
    const { breaker, at, t0 } = tripped();
    const transitions = [];
    for (let ms = 5_000; ms <= 10 * INTERVAL; ms += 5_000) {
      at(ms);
      const transition = breaker.evaluate(WARM);
      if (transition) transitions.push(transition);
    }
    expect(transitions).toEqual([
      {
        type: 'gave_up',
        reason: '3 recovery attempts failed (last: system CPU 80 % ≥ 72 %); stays tripped until a manual reset',
        at: t0 + 3 * INTERVAL,
        attempts: 3,
      },
    ]);
    expect(breaker.state).toMatchObject({ tripped: true, gaveUp: true, recoveryAttempts: 3 });
  });

  it('stays tripped after giving up even when the readings are fine again', () => {
    const { breaker, at } = tripped({ maxRecoveryAttempts: 1 });
    at(INTERVAL);
    expect(breaker.evaluate(WARM)?.type).toBe('gave_up');
    for (let i = 2; i < 10; i += 1) {
      at(i * INTERVAL);
      expect(breaker.evaluate(CALM)).toBeNull();
    }
    expect(breaker.state).toMatchObject({ tripped: true, gaveUp: true, recoveryAttempts: 1 });
  });

  it('closes on a manual reset, even after giving up', () => {
    const { breaker, at, t0 } = tripped({ maxRecoveryAttempts: 1 });
    at(INTERVAL);
    breaker.evaluate(WARM);
    at(INTERVAL + 1);
    expect(breaker.reset('admin')).toEqual({ type: 'reset', reason: 'manual reset by admin', at: t0 + INTERVAL + 1, attempts: 1 });
    expect(breaker.state).toEqual({
      tripped: false,
      gaveUp: false,
      reason: null,
      since: null,
      recoveryAttempts: 0,
      lastAttemptAt: null,
    });
  });

  it('returns null from a manual reset when it was not tripped', () => {
    const { breaker } = setup();
    expect(breaker.reset('signal')).toBeNull();
  });

  it('can trip again right after a manual reset', () => {
    const { breaker } = tripped();
    breaker.reset('signal');
    expect(breaker.evaluate(HOT)?.type).toBe('tripped');
  });

  it('never attempts recovery when recovery is disabled', () => {
    const { breaker, at } = tripped({ recoveryEnabled: false });
    for (let i = 1; i <= 20; i += 1) {
      at(i * INTERVAL);
      expect(breaker.evaluate(CALM)).toBeNull();
    }
    expect(breaker.state).toMatchObject({ tripped: true, gaveUp: false, recoveryAttempts: 0 });
  });

  it('never trips when disabled', () => {
    const { breaker } = setup({ enabled: false });
    expect(breaker.evaluate({ cpuPercent: 100, memoryPercent: 100 })).toBeNull();
    expect(breaker.state.tripped).toBe(false);
  });

  it('restarts the interval when the wall clock steps backwards instead of waiting out the step', () => {
    const { breaker, at, t0 } = tripped();
    at(-3_600_000);
    breaker.evaluate(WARM);
    at(-3_600_000 + INTERVAL);
    breaker.evaluate(WARM);
    expect(breaker.state).toMatchObject({ recoveryAttempts: 1, lastAttemptAt: t0 - 3_600_000 + INTERVAL });
  });
});

describe('MonitoringCircuitBreaker hysteresis and the plugin budget', () => {
  it('trips only after the load stays over its limit for the configured consecutive readings', () => {
    const { breaker } = setup({ tripAfterReadings: 3 });
    expect(breaker.evaluate(HOT)).toBeNull();
    expect(breaker.evaluate(HOT)).toBeNull();
    const transition = breaker.evaluate(HOT);
    expect(transition?.type).toBe('tripped');
    expect(transition?.reason).toBe('system CPU 95 % > 90 % for 3 consecutive checks');
  });

  it("starts counting again when a reading falls back under the limit (a neighbour's bursts do not add up)", () => {
    const { breaker } = setup({ tripAfterReadings: 3 });
    for (let i = 0; i < 10; i++) {
      expect(breaker.evaluate(HOT)).toBeNull();
      expect(breaker.evaluate(HOT)).toBeNull();
      expect(breaker.evaluate(CALM)).toBeNull();
    }
    expect(breaker.state.tripped).toBe(false);
  });

  it('defaults to three consecutive readings', () => {
    const { breaker } = setup({ tripAfterReadings: undefined });
    expect(breaker.evaluate(HOT)).toBeNull();
    expect(breaker.evaluate(HOT)).toBeNull();
    expect(breaker.evaluate(HOT)?.type).toBe('tripped');
  });

  it("trips on the plugin's own CPU over its budget, on a calm host, and says so", () => {
    const { breaker } = setup({ pluginCpuBudget: 1 });
    expect(breaker.evaluate({ ...CALM, pluginCpuPercent: 1 })).toBeNull();
    const transition = breaker.evaluate({ ...CALM, pluginCpuPercent: 2.5 });
    expect(transition?.reason).toBe('plugin CPU 2.5 % of a core > budget 1 %');
  });

  it("trips on the plugin's own memory over its budget", () => {
    const { breaker } = setup({ pluginMemoryBudgetMb: 100 });
    expect(breaker.evaluate({ ...CALM, pluginMemoryMb: 100 })).toBeNull();
    expect(breaker.evaluate({ ...CALM, pluginMemoryMb: 120 })?.reason).toBe('plugin memory 120 MB > budget 100 MB');
  });

  it('does not trip on an unknown plugin reading', () => {
    const { breaker } = setup({ pluginCpuBudget: 1, pluginMemoryBudgetMb: 100 });
    expect(breaker.evaluate({ ...CALM, pluginCpuPercent: Number.NaN, pluginMemoryMb: Number.NaN })).toBeNull();
  });

  it('recovers only once the plugin is under 80 % of its budget as well as the host calm', () => {
    const { breaker, clock } = setup({ pluginCpuBudget: 1 });
    expect(breaker.evaluate({ ...CALM, pluginCpuPercent: 3 })?.type).toBe('tripped');
    clock.t += INTERVAL;
    expect(breaker.evaluate({ ...CALM, pluginCpuPercent: 0.9 })).toBeNull();
    clock.t += INTERVAL;
    expect(breaker.evaluate({ ...CALM, pluginCpuPercent: 0.5 })?.type).toBe('recovered');
  });
});
