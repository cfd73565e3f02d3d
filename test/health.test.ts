import { describe, expect, it } from 'vitest';
import { HealthBoard, overallStatus } from '../src/state/health-board.js';
import { checkAlertSystem, checkCircuitBreaker, type ComponentInputs } from '../src/rules/checks.js';
import { BotState } from '../src/state/bot-state.js';
import type { ComponentStatus } from '../src/core/model.js';

describe('overall status (the seed rule)', () => {
  const cases: [ComponentStatus[], string][] = [
    [[], 'healthy'],
    [['healthy', 'healthy'], 'healthy'],
    [['unknown', 'unknown', 'healthy'], 'healthy'],
    [['degraded', 'healthy'], 'degraded'],
    [['degraded', 'unknown'], 'degraded'],
    [['degraded', 'degraded'], 'critical'],
    [['critical', 'healthy'], 'critical'],
    [['unknown', 'critical'], 'critical'],
  ];
  it.each(cases)('%j → %s', (statuses, expected) => {
    expect(overallStatus(statuses)).toBe(expected);
  });
});

describe('HealthBoard', () => {
  it('starts every component unknown, never made up', () => {
    const board = new HealthBoard();
    for (const [, health] of board.entries()) {
      expect(health).toEqual({ status: 'unknown', message: 'not reported yet', checkedAt: null });
    }
    expect(board.checksDone).toBe(0);
  });

  it('does not count a partial cycle (breaker tripped) as a health check', () => {
    const board = new HealthBoard();
    board.record(new Map([['circuit_breaker', { status: 'degraded', message: 'tripped' }]]), 1000, false);
    expect(board.checksDone).toBe(0);
    expect(board.lastCycleAt).toBeNull();
    expect(board.get('circuit_breaker').status).toBe('degraded');
  });

  it('records a cycle and keeps components that were not checked', () => {
    const board = new HealthBoard();
    board.record(new Map([['alert_system', { status: 'degraded', message: 'x' }]]), 1000);
    const overall = board.record(new Map([['circuit_breaker', { status: 'degraded', message: 'y' }]]), 2000);
    expect(overall).toBe('critical');
    expect(board.get('alert_system')).toEqual({ status: 'degraded', message: 'x', checkedAt: 1000 });
    expect(board.get('circuit_breaker').checkedAt).toBe(2000);
    expect(board.checksDone).toBe(2);
    expect(board.lastCycleAt).toBe(2000);
  });
});

describe('plugin-owned checks', () => {
  const inputs = (over: Partial<ComponentInputs>): ComponentInputs => ({
    breaker: { tripped: false, reason: null },
    alerts: { telegramConfigured: false, lastDelivery: null },
    bot: new BotState(() => 0),
    now: 0,
    ...over,
  });

  it('circuit breaker: tripped is degraded, with the reason', () => {
    expect(checkCircuitBreaker([], inputs({})).status).toBe('healthy');
    const tripped = checkCircuitBreaker([], inputs({ breaker: { tripped: true, reason: 'cpu 95%' } }));
    expect(tripped).toMatchObject({ status: 'degraded', message: expect.stringContaining('cpu 95%') });
  });

  it('alert system: log only is healthy, a failed delivery is degraded', () => {
    expect(checkAlertSystem([], inputs({}))).toMatchObject({ status: 'healthy', message: expect.stringContaining('log only') });
    expect(checkAlertSystem([], inputs({ alerts: { telegramConfigured: true, lastDelivery: 'failed' } })).status).toBe('degraded');
    expect(checkAlertSystem([], inputs({ alerts: { telegramConfigured: true, lastDelivery: 'ok' } })).status).toBe('healthy');
  });
});
