/**
 * The endpoints part: /metrics on METRICS_PORT, /health, /livez, /readyz and the admin reset on
 * DASHBOARD_PORT. They open once the first cycle has run (or after a bound), and a port that
 * cannot be bound is one log line, never a crashed bot.
 */
import type { MonitoringConfig } from '../core/config.js';
import { log } from '../core/log.js';
import { adminRoutes } from '../http/admin.js';
import { requireBearer } from '../http/auth.js';
import { healthRoutes } from '../http/health.js';
import { metricsRoute } from '../http/metrics.js';
import { startServer, type RunningServer } from '../http/server.js';
import type { BreakerTransition, MonitoringCircuitBreaker } from '../rules/breaker.js';
import type { HealthBoard } from '../state/health-board.js';
import type { SystemSampler } from '../state/system-sampler.js';
import type { Telemetry } from './telemetry.js';

export interface Endpoints {
  /** Bound ports, once listening (undefined when a server is off or failed to start). */
  readonly ports: { metrics?: number; health?: number };
  /** Settles once both servers have bound their ports or given up. */
  readonly listening: Promise<void>;
  stop(): Promise<void>;
}

export interface EndpointsOptions {
  readonly config: MonitoringConfig;
  readonly telemetry: Telemetry;
  readonly board: HealthBoard;
  readonly sampler: SystemSampler;
  readonly breaker: MonitoringCircuitBreaker;
  readonly onBreakerReset: (transition: BreakerTransition) => void;
  readonly ready: () => boolean;
  /** The servers open once this settles. */
  readonly openAfter: Promise<unknown>;
  readonly now: () => number;
}

export function startEndpoints({ config, telemetry, board, sampler, breaker, onBreakerReset, ready, openAfter, now }: EndpointsOptions): Endpoints {
  const onError = (message: string): void => {
    log().error(message);
  };
  const ports: Endpoints['ports'] = {};
  const tls =
    config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined ? { tls: { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile } } : {};
  const onInfo = (message: string): void => void log().info(message);
  const servers: (() => Promise<RunningServer | undefined>)[] = [];
  const { prometheus } = telemetry;
  if (prometheus) {
    const route = metricsRoute(prometheus, {
      onScrape: telemetry.scraped,
      onServed: (ms) => telemetry.selfTime('collection', ms),
      onError: (message) => log().warn(message),
      exemplars: telemetry.exemplars,
    });
    servers.push(() =>
      startServer({
        name: 'metrics',
        host: config.metricsHost ?? config.host,
        port: config.metricsPort,
        onError,
        onInfo,
        ...tls,
        routes: { '/metrics': requireBearer(route, config.authToken) },
      }).then((server) => {
        if (server) ports.metrics = server.port;
        return server;
      }),
    );
  }
  if (config.dashboardEnabled) {
    const health = healthRoutes({
      board,
      sampler,
      breaker: () => breaker.state,
      ready,
      now,
      // Three missed cycles: the evaluation has stopped, and what the board holds is history.
      staleAfterMs: 3 * config.monitorIntervalSeconds * 1000,
    });
    const routes = {
      ...health,
      // /livez and /readyz say nothing but "up"/"ready": left open for probes that carry no token.
      '/health': requireBearer(health['/health']!, config.authToken),
      ...adminRoutes(
        config.adminToken,
        () => {
          const transition = breaker.reset('admin');
          if (transition) onBreakerReset(transition);
          return transition;
        },
        () => breaker.state,
      ),
    };
    servers.push(() =>
      startServer({ name: 'health', host: config.host, port: config.dashboardPort, onError, onInfo, ...tls, routes }).then((server) => {
        if (server) ports.health = server.port;
        return server;
      }),
    );
  }
  // Not awaited by the caller: a slow bind (a host name to resolve) must not hold up the bot's first line.
  const running = openAfter.then(() => Promise.all(servers.map((open) => open())));
  return {
    ports,
    listening: running.then(() => undefined),
    stop: async () => {
      await running.then((list) => Promise.allSettled(list.map((server) => server?.close())));
    },
  };
}
