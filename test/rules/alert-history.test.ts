import { describe, expect, it } from 'vitest';
import { AlertHistory, type Condition } from '../../src/rules/alert-history.js';
import type { Severity } from '../../src/core/model.js';

const MINUTE = 60_000;
const WINDOW = 10 * MINUTE;
const COOLDOWN = 5 * MINUTE;

function setup(maxEntries?: number) {
  const clock = { t: 0 };
  const history = new AlertHistory({ duplicateWindowMs: WINDOW, cooldownMs: COOLDOWN, now: () => clock.t, maxEntries });
  /** Runs one cycle at `at` ms. */
  const cycle = (at: number, ...firing: Condition[]) => {
    clock.t = at;
    return history.evaluate(firing);
  };
  return { history, cycle };
}

function condition(rule: string, severity: Severity = 'warning', component = 'trade_executor', description = ''): Condition {
  // One family per rule here: the rules of one family (a warning and its critical) are the cases that share a name.
  return { rule, family: rule, component, severity, title: `${rule} on ${component}`, description: description || `${rule} ${severity}` };
}

const lossWarning = condition('DailyLoss', 'warning');
const lossCritical = condition('DailyLoss', 'critical');
const apiDown = condition('ApiFailures', 'warning');

describe('AlertHistory', () => {
  it('sends a condition the first time it fires', () => {
    const { cycle } = setup();
    expect(cycle(0, lossWarning)).toEqual({
      send: [{ kind: 'firing', condition: lossWarning, cause: 'new' }],
      suppressed: 0,
    });
  });

  it('holds back the same alert inside the duplicate window, counting one suppression per cycle', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    let suppressed = 0;
    for (let t = 30_000; t < WINDOW; t += 30_000) {
      const out = cycle(t, lossWarning);
      expect(out.send).toEqual([]);
      suppressed += out.suppressed;
    }
    expect(suppressed).toBe(19);
  });

  it('sends a reminder once the duplicate window has passed and it still fires', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    expect(cycle(WINDOW - 1, lossWarning).send).toEqual([]);
    expect(cycle(WINDOW, lossWarning).send).toEqual([{ kind: 'firing', condition: lossWarning, cause: 'reminder' }]);
  });

  it('does not treat a changed description as a new alert', () => {
    const { cycle } = setup();
    cycle(0, condition('DailyLoss', 'warning', 'trade_executor', 'loss $1,201.17'));
    expect(cycle(30_000, condition('DailyLoss', 'warning', 'trade_executor', 'loss $1,207.90'))).toEqual({
      send: [],
      suppressed: 1,
    });
  });

  it('keeps apart alerts of the same rule on different components', () => {
    const { cycle } = setup();
    cycle(0, condition('HighMemory', 'warning', 'wallet_monitor'));
    expect(cycle(30_000, condition('HighMemory', 'warning', 'wallet_monitor'), condition('HighMemory', 'warning', 'main_bot')).send).toEqual([
      { kind: 'firing', condition: condition('HighMemory', 'warning', 'main_bot'), cause: 'new' },
    ]);
  });

  it('suppresses another rule on a component in cooldown and sends it once the cooldown ends', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    expect(cycle(MINUTE, lossWarning, apiDown)).toEqual({ send: [], suppressed: 2 });
    expect(cycle(COOLDOWN - 1, lossWarning, apiDown)).toEqual({ send: [], suppressed: 2 });
    expect(cycle(COOLDOWN, lossWarning, apiDown)).toEqual({
      send: [{ kind: 'firing', condition: apiDown, cause: 'new' }],
      suppressed: 1,
    });
  });

  it('sends only one of several new alerts on the same component, the most severe', () => {
    const { cycle } = setup();
    const stale = condition('StaleLoop', 'info');
    expect(cycle(0, stale, apiDown, lossCritical)).toEqual({
      send: [{ kind: 'firing', condition: lossCritical, cause: 'new' }],
      suppressed: 2,
    });
  });

  it('sends an escalation from warning to critical at once, inside both the window and the cooldown', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    expect(cycle(30_000, lossCritical)).toEqual({
      send: [{ kind: 'firing', condition: lossCritical, cause: 'escalation' }],
      suppressed: 0,
    });
  });

  it('counts a rule reporting warning and critical in one cycle as one alert, the critical', () => {
    const { cycle } = setup();
    expect(cycle(0, lossWarning, lossCritical)).toEqual({
      send: [{ kind: 'firing', condition: lossCritical, cause: 'new' }],
      suppressed: 0,
    });
  });

  it('treats a de-escalation as still firing: no resolved, no new send until a reminder is due', () => {
    const { cycle } = setup();
    cycle(0, lossCritical);
    for (let t = 30_000; t < WINDOW; t += 30_000) {
      expect(cycle(t, lossWarning)).toEqual({ send: [], suppressed: 1 });
    }
    expect(cycle(WINDOW, lossWarning).send).toEqual([{ kind: 'firing', condition: lossWarning, cause: 'reminder' }]);
  });

  it('sends exactly one resolved message, with the condition as last sent, when an announced alert clears', () => {
    const { cycle } = setup();
    cycle(0, lossCritical);
    expect(cycle(30_000, lossWarning).send).toEqual([]);
    expect(cycle(60_000).send).toEqual([{ kind: 'resolved', condition: lossCritical }]);
    expect(cycle(90_000).send).toEqual([]);
    expect(cycle(WINDOW * 3).send).toEqual([]);
  });

  it('sends no resolved message for a condition that was never sent', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    cycle(MINUTE, lossWarning, apiDown); // apiDown held back by the cooldown
    expect(cycle(2 * MINUTE, lossWarning)).toEqual({ send: [], suppressed: 1 });
  });

  it('sends a resolved message at once, inside the component’s cooldown', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    expect(cycle(30_000).send).toEqual([{ kind: 'resolved', condition: lossWarning }]);
  });

  it('does not start a cooldown with a resolved message', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    cycle(COOLDOWN - 1); // resolved just before the cooldown ends
    expect(cycle(COOLDOWN, apiDown).send).toEqual([{ kind: 'firing', condition: apiDown, cause: 'new' }]);
  });

  it('announces a condition that fires again after it resolved, once the cooldown allows', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    cycle(30_000);
    expect(cycle(60_000, lossWarning)).toEqual({ send: [], suppressed: 1 });
    expect(cycle(COOLDOWN, lossWarning).send).toEqual([{ kind: 'firing', condition: lossWarning, cause: 'new' }]);
  });

  it('sends a critical at once when it follows a resolved warning of the same rule', () => {
    const { cycle } = setup();
    cycle(0, lossWarning);
    cycle(30_000);
    expect(cycle(60_000, lossCritical).send).toEqual([{ kind: 'firing', condition: lossCritical, cause: 'escalation' }]);
  });

  it('sends exactly one critical for a daily loss of 16 % held for 10 cycles at 5 s', () => {
    const { cycle } = setup();
    const sends = [];
    let suppressed = 0;
    for (let i = 0; i < 10; i += 1) {
      const loss = condition('DailyLoss', 'critical', 'trade_executor', `daily loss 16 % ($${(1600 + i * 3.17).toFixed(2)})`);
      // The rule also reports the warning level it has passed.
      const out = cycle(i * 5_000, { ...loss, severity: 'warning' }, loss);
      sends.push(...out.send);
      suppressed += out.suppressed;
    }
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ kind: 'firing', cause: 'new', condition: { rule: 'DailyLoss', severity: 'critical' } });
    expect(suppressed).toBe(9);
  });

  it('never holds more than maxEntries alerts, even when 10 000 distinct ones fire at once', () => {
    const { history, cycle } = setup(1000);
    const many = Array.from({ length: 10_000 }, (_, i) => condition(`Rule${i}`, 'warning', `component${i}`));
    const out = cycle(0, ...many);
    expect(out.send).toHaveLength(10_000);
    expect(history.size).toBe(1000);
  });

  it('forgets cleared alerts once neither the window nor the cooldown can apply, so memory stays bounded', () => {
    const { history, cycle } = setup(100_000);
    for (let i = 0; i < 10_000; i += 1) cycle(i * 30_000, condition(`Rule${i}`));
    // One distinct rule per 30 s cycle; only those seen within the last 10 minutes are kept.
    expect(history.size).toBe(WINDOW / 30_000);
  });

  it('shortens windows to at most their length when the wall clock steps backwards', () => {
    const { cycle } = setup();
    cycle(3_600_000, lossWarning);
    cycle(0, lossWarning); // clock stepped back an hour
    expect(cycle(WINDOW, lossWarning).send).toEqual([{ kind: 'firing', condition: lossWarning, cause: 'reminder' }]);
  });

  it('lets a more severe alert from another rule through a component cooldown at once, as news', () => {
    const { cycle } = setup();
    cycle(0, apiDown);
    const breakerCritical = condition('TradeCircuitBreakerOpen', 'critical');
    expect(cycle(MINUTE, apiDown, breakerCritical).send).toEqual([{ kind: 'firing', condition: breakerCritical, cause: 'new' }]);
  });

  it('still holds back another rule of the same or lower severity inside the cooldown', () => {
    const { cycle } = setup();
    cycle(0, lossCritical);
    const other = condition('MemoryHigh', 'critical');
    expect(cycle(MINUTE, lossCritical, other)).toEqual({ send: [], suppressed: 2 });
  });
});

describe('AlertHistory: an escalation inside the cooldown keeps its start', () => {
  it('lets another alert on the component through once the cooldown from the first notice is over, not from the escalation', () => {
    const { cycle } = setup();
    const breakerOpen = condition('TradeCircuitBreakerOpen', 'warning');
    expect(cycle(0, lossWarning).send).toHaveLength(1);
    // Escalated at 3 min: sent at once, inside the cooldown that began at 0.
    expect(cycle(3 * MINUTE, lossCritical).send.map((d) => d.condition.severity)).toEqual(['critical']);
    // At 5 min the cooldown that began at 0 is over: a new warning on the component goes at once.
    // Had the escalation restarted it, the warning would wait until 8 min.
    const out = cycle(5 * MINUTE, lossCritical, breakerOpen);
    expect(out.send.map((d) => d.condition.rule)).toEqual(['TradeCircuitBreakerOpen']);
  });
});
