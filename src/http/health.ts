/**
 * GET /health, /livez, /readyz. The JSON shape is a documented contract (README, "Health
 * endpoint"); it carries statuses and readings only — no configuration value, path, version or
 * secret — so it is safe to expose to whoever can reach the port.
 */
import type { Component, ComponentStatus, HealthStatus } from '../core/model.js';
import { overallStatus, type HealthBoard } from '../state/health-board.js';
import type { SystemSampler } from '../state/system-sampler.js';
import { READ_METHODS, send, type Route } from './server.js';

export interface BreakerSnapshot {
  readonly tripped: boolean;
  readonly reason: string | null;
  /** Wall-clock ms when it tripped, null while closed. */
  readonly since: number | null;
  readonly recoveryAttempts: number;
}

export interface HealthSources {
  readonly board: HealthBoard;
  readonly sampler: SystemSampler;
  readonly breaker: () => BreakerSnapshot;
  /** True once the first evaluation cycle has run. */
  readonly ready: () => boolean;
  readonly now: () => number;
  /**
   * A component checked longer ago than this is shown `unknown`, never with the status it had:
   * the evaluation that keeps it current has stopped. Unset: never.
   */
  readonly staleAfterMs?: number;
}

export interface HealthReport {
  status: HealthStatus;
  timestamp: string;
  components: Record<Component, { status: ComponentStatus; message: string; checked_at: string | null; age_seconds: number | null }>;
  circuit_breaker: { tripped: boolean; reason: string | null; since: string | null; recovery_attempts: number };
  performance: {
    cpu_percent: number;
    memory_mb: number;
    memory_percent: number;
    system_memory_percent: number;
    uptime_seconds: number;
    health_checks: number;
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
const MIB = 1024 * 1024;

export function healthReport(sources: HealthSources): HealthReport {
  const { board, sampler } = sources;
  const sample = sampler.last;
  const breaker = sources.breaker();
  const components = {} as HealthReport['components'];
  const now = sources.now();
  const shown: ComponentStatus[] = [];
  let anyStale = false;
  for (const [component, health] of board.entries()) {
    const ageMs = health.checkedAt === null ? null : Math.max(0, now - health.checkedAt);
    const isStale = ageMs !== null && sources.staleAfterMs !== undefined && ageMs > sources.staleAfterMs;
    components[component] = {
      status: isStale ? 'unknown' : health.status,
      message: isStale ? `stale: last checked ${Math.round(ageMs / 1000)} s ago (${health.message})` : health.message,
      checked_at: iso(health.checkedAt),
      age_seconds: ageMs === null ? null : round(ageMs / 1000, 1),
    };
    shown.push(components[component].status);
    anyStale ||= isStale;
  }
  // Stale components count as unknown, and the whole is at best degraded: no "healthy" resting on
  // data nobody refreshes. Never critical for staleness alone: a 503 can get the bot restarted,
  // and a stopped evaluation is monitoring's trouble, not the bot's.
  let overall = sources.staleAfterMs === undefined ? board.overall : overallStatus(shown);
  if (anyStale && overall === 'healthy') overall = 'degraded';
  return {
    status: overall,
    timestamp: new Date(now).toISOString(),
    components,
    circuit_breaker: {
      tripped: breaker.tripped,
      reason: breaker.reason,
      since: iso(breaker.since),
      recovery_attempts: breaker.recoveryAttempts,
    },
    performance: {
      cpu_percent: round(sample.cpuPercent),
      memory_mb: round(sample.rssBytes / MIB),
      memory_percent: sample.totalMemoryBytes > 0 ? round((100 * sample.rssBytes) / sample.totalMemoryBytes) : 0,
      system_memory_percent: round(sample.memoryPercent),
      uptime_seconds: round(process.uptime(), 1),
      health_checks: board.checksDone,
    },
  };
}

function json(res: Parameters<Route['handler']>[1], status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
}

export function healthRoutes(sources: HealthSources): Record<string, Route> {
  return {
    '/health': {
      methods: READ_METHODS,
      handler: (_req, res) => {
        const report = healthReport(sources);
        // 200 while the bot can still trade safely (healthy or degraded); 503 tells a load
        // balancer or systemd check that a human is needed.
        json(res, report.status === 'critical' ? 503 : 200, report);
      },
    },
    '/livez': { methods: READ_METHODS, handler: (_req, res) => json(res, 200, { status: 'ok' }) },
    '/readyz': {
      methods: READ_METHODS,
      handler: (_req, res) =>
        sources.ready() ? json(res, 200, { status: 'ready' }) : json(res, 503, { status: 'starting' }),
    },
  };
}
