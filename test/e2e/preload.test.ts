/**
 * The preload end to end: the demo bot started with `--import dist/register.js`, real ports on
 * loopback, real scrapes. `npm test` builds dist/ first (pretest).
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC_LIST } from '../../src/metrics/catalog.js';
import { freePort, get, killAll, parseExposition, spawnBot } from './harness.js';

afterEach(() => killAll());

async function ports() {
  return { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) };
}

async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('demo bot with the preload', () => {
  it('exports the eight seed series with live values on /metrics', async () => {
    const env = await ports();
    const bot = spawnBot({ env: { ...env, MONITOR_INTERVAL_SECONDS: '5' } });
    await bot.waitForLine(/monitoring started/);
    const { status, body, headers } = await get(`http://127.0.0.1:${env.METRICS_PORT}/metrics`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parseExposition(body);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    for (const def of METRIC_LIST.filter((m) => m.seed)) {
      const exposed = def.type === 'histogram' ? `${def.name}_count` : def.name;
      expect(samples.some((s) => s.name === exposed), `${exposed} missing from:\n${body}`).toBe(true);
    }
    // The first cycle ran before the first scrape was answered.
    expect(value('monitoring_health_checks_total', { status: 'healthy' })).toBeGreaterThanOrEqual(1);
    expect(value('monitoring_health_checks_total', { status: 'critical' })).toBe(0);
    expect(value('monitoring_health_check_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('monitoring_health_check_duration_seconds_sum')).toBeLessThan(1);
    for (const severity of ['critical', 'warning', 'info']) expect(value('monitoring_alerts_sent_total', { severity })).toBe(0);
    expect(value('monitoring_alerts_suppressed_total')).toBe(0);
    const cpu = value('monitoring_cpu_usage_percent')!;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(100);
    // RSS of a Node process with the SDK loaded: tens of MiB, not bytes and not GiB.
    expect(value('monitoring_memory_usage_mb')).toBeGreaterThan(20);
    expect(value('monitoring_memory_usage_mb')).toBeLessThan(1024);
    expect(value('monitoring_circuit_breaker')).toBe(0);
    expect(value('monitoring_component_status', { component: 'circuit_breaker' })).toBe(1);
    expect(value('monitoring_component_status', { component: 'alert_system' })).toBe(1);
    // The exporter labels every sample with its scope; queries and dashboards must tolerate it.
    expect(samples.find((s) => s.name === 'monitoring_circuit_breaker')?.labels.otel_scope_name).toBe('polymarket-bot-monitoring');
    // The resource carries service.name (target_info) but never the command line.
    expect(body).toMatch(/target_info\{[^}]*service_name="polymarket-bot"/);
    expect(body).not.toMatch(/process_command_args/);
    expect(body).toMatch(/target_info\{[^}]*host_name="/);
    // Host metrics ride along.
    expect(body).toMatch(/^process_memory_usage/m);
  });

  it('takes the resource from the standard OTEL_* variables, as NodeSDK would', async () => {
    const env = await ports();
    const bot = spawnBot({
      env: {
        ...env,
        OTEL_SERVICE_NAME: 'copy-bot-eu',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
        OTEL_NODE_RESOURCE_DETECTORS: 'env',
      },
    });
    await bot.waitForLine(/monitoring started/);
    const { body } = await get(`http://127.0.0.1:${env.METRICS_PORT}/metrics`);
    const target = /^target_info\{([^}]*)\}/m.exec(body)?.[1] ?? '';
    expect(target).toMatch(/service_name="copy-bot-eu"/);
    expect(target).toMatch(/deployment_environment_name="staging"/);
    // Only the env detector asked for: no host.
    expect(target).not.toMatch(/host_name=/);
  });

  it('turns what the demo bot publishes through the probe into every catalog series', async () => {
    const env = await ports();
    const bot = spawnBot({ env: { ...env, MONITOR_INTERVAL_SECONDS: '5', DEMO_SCAN_INTERVAL_MS: '100', DEMO_LATENCY_SCALE: '0.05' } });
    await bot.waitForLine(/monitoring started/);
    const url = `http://127.0.0.1:${env.METRICS_PORT}/metrics`;
    let samples: ReturnType<typeof parseExposition> = [];
    const missing = () =>
      METRIC_LIST.filter((def) => !samples.some((s) => s.name === (def.type === 'histogram' ? `${def.name}_count` : def.name))).map((d) => d.name);
    // Event-loop gauges appear after the second cycle (5 s); trades are random: poll, bounded.
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      samples = parseExposition((await get(url)).body);
      if (missing().length === 0) break;
    }
    expect(missing()).toEqual([]);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('monitoring_wallet_scan_duration_seconds_count', { outcome: 'success' })).toBeGreaterThan(0);
    expect(value('monitoring_wallets_watched')).toBe(25);
    expect(value('monitoring_api_requests_total', { api: 'data_api', outcome: 'success' })).toBeGreaterThan(0);
    expect(value('monitoring_api_success_ratio', { api: 'data_api' })).toBeGreaterThan(0.5);
    expect(value('monitoring_daily_loss_ratio')).toBeGreaterThanOrEqual(0);
    expect(value('monitoring_trade_executor_circuit_breaker')).toBe(0);
    // The last successful scan was moments ago (clock of the same machine).
    expect(Math.abs(Date.now() / 1000 - value('monitoring_last_wallet_scan_timestamp_seconds')!)).toBeLessThan(10);
    expect(value('monitoring_eventloop_delay_p99_seconds')).toBeLessThan(1);
    expect(value('monitoring_self_time_seconds_total', { activity: 'collection' })).toBeGreaterThan(0);
    // No raw address or order id in any label.
    for (const s of samples) for (const v of Object.values(s.labels)) expect(v).not.toMatch(/0x[0-9a-f]{40}/i);
  });

  it('answers /health with JSON describing every component', async () => {
    const env = await ports();
    const bot = spawnBot({ env });
    await bot.waitForLine(/monitoring started/);
    const { status, body, headers } = await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/health`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    const health = JSON.parse(body);
    expect(health.status).toBe('healthy');
    expect(Object.keys(health.components).sort()).toEqual(['alert_system', 'circuit_breaker', 'main_bot', 'trade_executor', 'wallet_monitor']);
    // The demo bot reports its configuration flags and main-loop heartbeat through the probe.
    expect(health.components.main_bot).toMatchObject({ status: 'healthy', message: 'configuration ok, main loop running' });
    expect(health.components.alert_system.status).toBe('healthy');
    expect(health.circuit_breaker).toEqual({ tripped: false, reason: null, since: null, recovery_attempts: 0 });
    expect(health.performance.health_checks).toBeGreaterThanOrEqual(1);
    expect(health.performance.memory_mb).toBeGreaterThan(20);
    expect(health.performance.uptime_seconds).toBeGreaterThan(0);
    expect((await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/livez`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/readyz`)).status).toBe(200);
    const post = await fetch(`http://127.0.0.1:${env.DASHBOARD_PORT}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('shows components the bot never reported on as unknown, never made up', async () => {
    const env = await ports();
    const bot = spawnBot({ env, eval: 'setInterval(() => {}, 1000); console.log("bot ready");' });
    await bot.waitForLine(/monitoring started/);
    const health = JSON.parse((await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/health`)).body);
    for (const component of ['main_bot', 'wallet_monitor', 'trade_executor']) {
      expect(health.components[component]).toMatchObject({ status: 'unknown', message: 'not reported yet' });
    }
    expect(health.status).toBe('healthy');
    const samples = parseExposition((await get(`http://127.0.0.1:${env.METRICS_PORT}/metrics`)).body);
    const reported = samples.filter((s) => s.name === 'monitoring_component_status').map((s) => s.labels.component).sort();
    expect(reported).toEqual(['alert_system', 'circuit_breaker']);
  });

  it('keeps the bot running with one clear line when the metrics port is taken', async () => {
    const env = await ports();
    const blocker = net.createServer().listen(Number(env.METRICS_PORT), '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const bot = spawnBot({ env: { ...env, DEMO_SCAN_INTERVAL_MS: '200' } });
      const line = await bot.waitForLine(/metrics server not started/);
      expect(line).toContain(`127.0.0.1:${env.METRICS_PORT} is already in use`);
      expect(bot.output().match(/metrics server not started/g)).toHaveLength(1);
      // The bot goes on scanning, and the health server still answers.
      await bot.waitForLine(/scanned \d+ wallets/);
      expect((await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/health`)).status).toBe(200);
    } finally {
      blocker.close();
    }
  });

  it('names the bad variable, uses its default and monitors on when a value is invalid', async () => {
    const env = await ports();
    const bot = spawnBot({ env: { ...env, MONITOR_INTERVAL_SECONDS: 'soon', DEMO_SCAN_INTERVAL_MS: '200' } });
    const { message, level } = JSON.parse(await bot.waitForLine(/MONITOR_INTERVAL_SECONDS=/));
    expect({ level, message }).toEqual({
      level: 'warn',
      message: 'MONITOR_INTERVAL_SECONDS="soon" (expected an integer from 5 to 300): using the default 30',
    });
    await bot.waitForLine(/monitoring started/);
    await bot.waitForLine(/scanned \d+ wallets/);
    expect((await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/health`)).status).toBe(200);
  });

  it('refuses to start the bot on an invalid config when MONITORING_STRICT=true', async () => {
    const bot = spawnBot({ env: { METRICS_PORT: 'abc', MONITORING_STRICT: 'true' } });
    const { code } = await bot.exited;
    expect(code).toBe(78);
    expect(bot.output()).toContain('METRICS_PORT="abc"');
    expect(bot.output()).not.toContain('demo bot: watching');
  });

  it('opens no port at all when MONITORING_ENABLED=false', async () => {
    const env = await ports();
    const bot = spawnBot({ env: { ...env, MONITORING_ENABLED: 'false', DEMO_SCAN_INTERVAL_MS: '200' } });
    await bot.waitForLine(/scanned \d+ wallets/);
    expect(await isListening(Number(env.METRICS_PORT))).toBe(false);
    expect(await isListening(Number(env.DASHBOARD_PORT))).toBe(false);
    expect(bot.output()).not.toMatch(/monitoring/);
  });

  it('stays off, with one line and no port, when OTEL_SDK_DISABLED=true', async () => {
    const env = await ports();
    const bot = spawnBot({ env: { ...env, OTEL_SDK_DISABLED: 'true', DEMO_SCAN_INTERVAL_MS: '200' } });
    await bot.waitForLine(/scanned \d+ wallets/);
    expect(await isListening(Number(env.METRICS_PORT))).toBe(false);
    expect(await isListening(Number(env.DASHBOARD_PORT))).toBe(false);
    expect(bot.output().match(/monitoring off: OTEL_SDK_DISABLED=true/g)).toHaveLength(1);
    expect(bot.output()).not.toMatch(/"level":"(error|warn)"/);
  });
});

describe('secrets', () => {
  it('never shows a secret from the environment in the log, /metrics or /health', async () => {
    const env = await ports();
    const secrets = {
      PRIVATE_KEY: `0x${'ab12'.repeat(16)}`,
      CLOB_API_KEY: '6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
      CLOB_SECRET: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
      CLOB_PASS_PHRASE: 'correct-horse-battery-staple-9',
      TELEGRAM_BOT_TOKEN: '123456789:AAEhBP0av28pcZnbyeEx3l8kL8DHxjTcRfk',
      MNEMONIC: 'abandon ability able about above absent absorb abstract absurd abuse access accident',
    };
    // The bot logs its own config error with a secret in it: our line must still be clean.
    const bot = spawnBot({ env: { ...env, ...secrets, TELEGRAM_CHAT_ID: '', MONITORING_LOG_LEVEL: 'debug' } });
    await bot.waitForLine(/monitoring started/);
    const metrics = (await get(`http://127.0.0.1:${env.METRICS_PORT}/metrics`)).body;
    const health = (await get(`http://127.0.0.1:${env.DASHBOARD_PORT}/health`)).body;
    bot.kill('SIGINT');
    await bot.exited;
    for (const [name, secret] of Object.entries(secrets)) {
      for (const [where, text] of Object.entries({ log: bot.output(), metrics, health })) {
        expect(text.includes(secret), `${name} leaked into ${where}`).toBe(false);
      }
    }
    // Half a Telegram configuration is warned about, without echoing the token.
    expect(bot.output()).toMatch(/TELEGRAM_CHAT_ID/);
  });
});

describe('lifecycle', () => {
  const idleBot = 'setInterval(() => {}, 1000); console.log("bot ready");';

  it('lets a bot that ends normally exit at once, with no collector and nothing dialled', async () => {
    // A listener on the OTLP default port proves the stock SDK's default export is off.
    const otlp = net.createServer();
    let dialled = 0;
    otlp.on('connection', (socket) => {
      dialled += 1;
      socket.destroy();
    });
    const otlpListening = await new Promise<boolean>((resolve) => {
      otlp.once('error', () => resolve(false));
      otlp.listen(4318, '127.0.0.1', () => resolve(true));
    });
    try {
      const env = await ports();
      const bot = spawnBot({ env, eval: 'console.log("bot done"); setTimeout(() => {}, 1500);' });
      const { code, signal } = await bot.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(bot.output()).toContain('bot done');
      expect(bot.output()).not.toMatch(/ECONNREFUSED|Unhandled|Error:/);
      if (otlpListening) expect(dialled).toBe(0);
    } finally {
      otlp.close();
    }
  });

  it('survives an unreachable OTLP collector at exit', async () => {
    const env = await ports();
    const closedPort = await freePort();
    const bot = spawnBot({
      env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`, MONITORING_SHUTDOWN_TIMEOUT_MS: '1000' },
      eval: 'console.log("bot done"); setTimeout(() => {}, 500);',
    });
    const started = Date.now();
    const { code } = await bot.exited;
    expect(code).toBe(0);
    // Not kept alive by an exporter retrying a collector that is not there (bound 1 s, plus start-up).
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('is not kept alive by an export waiting on a collector that never answers', async () => {
    // Holds every export open: the stock exporter's socket would hold the bot until its 10 s timeout.
    const requests: string[] = [];
    const stalled = http.createServer((req) => {
      requests.push(req.url ?? '');
      req.resume();
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const env = await ports();
      const bot = spawnBot({
        env: {
          ...env,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(stalled.address() as net.AddressInfo).port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_METRIC_EXPORT_INTERVAL: '300',
          MONITORING_SHUTDOWN_TIMEOUT_MS: '1000',
        },
        // Ends once an export is in flight.
        eval: 'const t = setInterval(() => {}, 100); setTimeout(() => { clearInterval(t); console.log("bot done"); }, 1500);',
      });
      await bot.waitForLine(/bot done/);
      const done = Date.now();
      const { code } = await bot.exited;
      const afterDone = Date.now() - done;
      expect(requests.filter((url) => url === '/v1/metrics').length, 'exports the collector held').toBeGreaterThanOrEqual(1);
      expect(code).toBe(0);
      // The flush bound (1 s) and the process's own end; held by the export it would be 10 s.
      expect(afterDone).toBeLessThan(5_000);
    } finally {
      stalled.closeAllConnections();
      stalled.close();
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('still dies of %s when the bot has no handler of its own', async (signal) => {
    const env = await ports();
    const bot = spawnBot({ env, eval: idleBot });
    await bot.waitForLine(/monitoring started/);
    bot.kill(signal);
    // Killed by the signal: the shell reports 143 / 130, exactly as without the plugin.
    expect(await bot.exited).toEqual({ code: null, signal });
  });

  it('leaves SIGTERM to the bot when it has its own handler', async () => {
    const env = await ports();
    const bot = spawnBot({
      env,
      eval: `${idleBot} process.on('SIGTERM', () => { console.log('bot cleanup'); process.exit(7); });`,
    });
    await bot.waitForLine(/monitoring started/);
    bot.kill('SIGTERM');
    expect(await bot.exited).toEqual({ code: 7, signal: null });
    expect(bot.output()).toContain('bot cleanup');
  });
});
