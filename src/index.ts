/**
 * Public API for bots that prefer code to environment variables:
 *
 *     import { startMonitoring } from 'polymarket-bot-monitoring';
 *     const monitor = await startMonitoring({ metricsPort: 9464 });
 *
 * Options win over the environment; everything not given comes from it (see the README).
 */
export { startMonitoring, shutdown, type Monitor, type MonitoringOptions } from './plugin/monitor.js';
export { ConfigError, CONFIG_FIELDS, loadConfig, type MonitoringConfig } from './core/config.js';
export { METRICS, type MetricDef } from './metrics/catalog.js';
export { COMPONENTS, HEALTH_STATUSES, SEVERITIES, type Component, type HealthStatus, type Severity } from './core/model.js';
export type { HealthReport } from './http/health.js';
/** For a bundled bot (the CLOB client inlined, never loaded as a module): `handOverClobClient(ClobClient)` after startMonitoring. */
export { handOverClobClient } from './ingest/clob-client.js';
