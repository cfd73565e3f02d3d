import { describe, expect, it } from 'vitest';
import { HealthBoard } from '../src/state/health-board.js';
import { SystemSampler } from '../src/state/system-sampler.js';
import { healthRoutes, type HealthReport } from '../src/http/health.js';
import type { Component, ComponentStatus } from '../src/core/model.js';

const INTERVAL_MS = 30_000;

function setup(staleAfterMs: number | undefined = 3 * INTERVAL_MS) {
  const clock = { t: Date.UTC(2026, 11, 5) };
  const board = new HealthBoard();
  const routes = healthRoutes({
    board,
    sampler: new SystemSampler(),
    breaker: () => ({ tripped: false, gaveUp: false, reason: null, since: null, recoveryAttempts: 0, lastAttemptAt: null }),
    ready: () => true,
    now: () => clock.t,
    ...(staleAfterMs === undefined ? {} : { staleAfterMs }),
  });
  const record = (statuses: Partial<Record<Component, ComponentStatus>>): void => {
    board.record(new Map(Object.entries(statuses).map(([c, status]) => [c as Component, { status: status!, message: `${c} says ${status}` }])), clock.t);
  };
  const get = (): { status: number; body: HealthReport } => {
    let status = 0;
    let text = '';
    const res = {
      writeHead: (code: number) => {
        status = code;
        return res;
      },
      end: (chunk: string) => {
        text = chunk;
      },
    };
    routes['/health']!.handler({ method: 'GET', url: '/health', headers: {} } as never, res as never);
    return { status, body: JSON.parse(text) as HealthReport };
  };
  return { clock, record, get };
}

describe('GET /health', () => {
  it('answers 503 when the overall status is critical', () => {
    const { record, get } = setup();
    record({ trade_executor: 'critical' });
    expect(get()).toMatchObject({ status: 503, body: { status: 'critical' } });
  });

  it('answers 200 when degraded', () => {
    const { record, get } = setup();
    record({ trade_executor: 'degraded' });
    expect(get()).toMatchObject({ status: 200, body: { status: 'degraded' } });
  });

  it('answers 200 when healthy', () => {
    const { record, get } = setup();
    record({ trade_executor: 'healthy', wallet_monitor: 'healthy' });
    expect(get()).toMatchObject({ status: 200, body: { status: 'healthy' } });
  });

  it('shows the age of each component’s last check', () => {
    const { clock, record, get } = setup();
    record({ wallet_monitor: 'healthy' });
    clock.t += 12_345;
    const { body } = get();
    expect(body.components.wallet_monitor).toMatchObject({ status: 'healthy', age_seconds: 12.3 });
    expect(body.components.main_bot.age_seconds).toBeNull();
  });

  it('never shows a component checked longer ago than its staleness bound as healthy', () => {
    const { clock, record, get } = setup();
    record({ wallet_monitor: 'healthy' });
    clock.t += 3 * INTERVAL_MS + 1;
    const { status, body } = get();
    expect(body.components.wallet_monitor.status).toBe('unknown');
    expect(body.components.wallet_monitor.message).toBe('stale: last checked 90 s ago (wallet_monitor says healthy)');
    expect(status).toBe(200);
  });

  it('keeps the status of a component checked within the bound', () => {
    const { clock, record, get } = setup();
    record({ wallet_monitor: 'healthy' });
    clock.t += 3 * INTERVAL_MS;
    expect(get().body.components.wallet_monitor.status).toBe('healthy');
  });

  it('says degraded, never healthy, while anything rests on a stale check', () => {
    const { clock, record, get } = setup();
    record({ wallet_monitor: 'healthy', trade_executor: 'healthy' });
    clock.t += 3 * INTERVAL_MS + 1;
    expect(get()).toMatchObject({ status: 200, body: { status: 'degraded' } });
  });

  it('does not answer 503 for a critical nobody has re-checked: it is unknown, not current', () => {
    const { clock, record, get } = setup();
    record({ trade_executor: 'critical' });
    clock.t += 3 * INTERVAL_MS + 1;
    expect(get()).toMatchObject({ status: 200, body: { status: 'degraded', components: { trade_executor: { status: 'unknown' } } } });
  });
});
