// The monitoring set-ups a bot is measured under, each on its own free loopback ports.
import { AUTO_PRELOAD, LIBRARIES_PRELOAD, NODESDK_PRELOAD, PROM_CLIENT_PRELOAD, REGISTER, freePorts } from './lib.mjs';

export const LABELS = {
  none: 'no monitoring',
  plugin: 'this plugin',
  nodesdk: 'bare NodeSDK + Prometheus',
  auto: 'auto-instrumentations-node',
  promclient: 'prom-client (hand-written)',
  libraries: "the plugin's libraries, loaded and never started",
};

/** { preload, env, metricsUrl } for one variant, with fresh ports. */
export async function variant(name, extraEnv = {}) {
  const [metricsPort, healthPort] = await freePorts(2);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  switch (name) {
    case 'none':
      return { name, preload: undefined, env: { ...extraEnv } };
    case 'plugin':
      return {
        name,
        // BENCH_REGISTER: another build of the plugin, for A/B runs with bench/paired-cpu.mjs.
        preload: extraEnv.BENCH_REGISTER ?? REGISTER,
        env: { METRICS_PORT: metricsPort, DASHBOARD_PORT: healthPort, MONITORING_HOST: '127.0.0.1', ...extraEnv },
        metricsUrl,
      };
    case 'libraries':
      return { name, preload: LIBRARIES_PRELOAD, env: { ...extraEnv } };
    case 'nodesdk':
      return { name, preload: NODESDK_PRELOAD, env: { BASELINE_METRICS_PORT: metricsPort, ...extraEnv }, metricsUrl };
    case 'auto':
      return {
        name,
        preload: AUTO_PRELOAD,
        env: {
          OTEL_METRICS_EXPORTER: 'prometheus',
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_EXPORTER_PROMETHEUS_PORT: metricsPort,
          // Everything but the cloud detectors: they would dial metadata servers off loopback.
          OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance',
          ...extraEnv,
        },
        metricsUrl,
      };
    case 'promclient':
      return { name, preload: PROM_CLIENT_PRELOAD, env: { PROM_CLIENT_PORT: metricsPort, ...extraEnv }, metricsUrl };
    default:
      throw new Error(`unknown variant ${name}`);
  }
}
