/**
 * The command line, as a user runs it: the built bin in a real process with an environment, its
 * output and exit status.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './e2e/harness.js';

const BIN = path.join(ROOT, 'dist/cli.js');
const KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('polymarket-bot-monitoring config', () => {
  it('prints every setting with its value and where it came from, secrets masked, and the exporters', () => {
    const { status, stdout } = run(['config'], { METRICS_PORT: '9500', TELEGRAM_BOT_TOKEN: '123456789:AAEhBP0av28pcZnbyeEx3l8kL8DHxjTcRfk', TELEGRAM_CHAT_ID: '-1001234567890', OTEL_EXPORTER_PROMETHEUS_HOST: '::1', OTEL_TRACES_EXPORTER: 'console' });
    expect(status).toBe(0);
    expect(stdout).toMatch(/^METRICS_PORT\s+9500\s+METRICS_PORT$/m);
    expect(stdout).toMatch(/^METRICS_HOST\s+"::1"\s+OTEL_EXPORTER_PROMETHEUS_HOST$/m);
    expect(stdout).toMatch(/^DASHBOARD_PORT\s+8080\s+default \(8080\)$/m);
    expect(stdout).toMatch(/^TELEGRAM_BOT_TOKEN\s+\(set, hidden\)/m);
    expect(stdout).not.toContain('AAEhBP0av28');
    expect(stdout).toContain('span export: console');
    expect(stdout).toContain('no problems');
  });

  it('lists every problem, and masks a key pasted into the wrong variable', () => {
    const { status, stdout } = run(['config'], { PRIVATE_KEY: KEY, METRICS_PORT: 'abc', MONITORING_HOST: KEY, OTEL_METRICS_EXPORTER: 'statsd' });
    expect(status).toBe(0);
    expect(stdout).toMatch(/^METRICS_PORT\s+9464\s+default: METRICS_PORT is invalid$/m);
    expect(stdout).toContain('problems:\n  METRICS_PORT="abc" (expected an integer from 1024 to 65535)');
    expect(stdout).toContain('OTEL_METRICS_EXPORTER="statsd" (expected otlp, prometheus, console or none): ignored');
    expect(stdout).not.toContain(KEY.slice(2, 20));
  });

  it('says /metrics is off because OTEL_METRICS_EXPORTER leaves prometheus out', () => {
    expect(run(['config'], { OTEL_METRICS_EXPORTER: 'otlp' }).stdout).toMatch(/^METRICS_ENABLED\s+false\s+OTEL_METRICS_EXPORTER$/m);
  });

  it('--json gives the same report as data', () => {
    const report = JSON.parse(run(['config', '--json'], { ALERT_ROUTE: 'both' }).stdout) as { settings: { env: string; value: string; source: string }[]; problems: string[] };
    expect(report.settings.find((s) => s.env === 'ALERT_ROUTE')).toEqual({ env: 'ALERT_ROUTE', value: '"both"', source: 'ALERT_ROUTE' });
    expect(report.problems).toEqual([]);
  });
});

describe('polymarket-bot-monitoring check', () => {
  it('exits 0 on a good configuration', () => {
    expect(run(['check'], { DAILY_LOSS_WARNING_PERCENT: '0.1' })).toMatchObject({ status: 0, stdout: '\nno problems\n' });
  });

  it('exits 1 on a bad one, naming each problem on stderr', () => {
    const { status, stderr } = run(['check'], { BOT_ENV: 'qa', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' });
    expect(status).toBe(1);
    expect(stderr).toContain('BOT_ENV="qa"');
    expect(stderr).toContain('OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" (expected an http:// or https:// URL)');
  });

  it('exits 0 with advice only (a warning is not a problem)', () => {
    const { status, stdout } = run(['check'], { TELEGRAM_BOT_TOKEN: '123456789:AAEhBP0av28pcZnbyeEx3l8kL8DHxjTcRfk' });
    expect(status).toBe(0);
    expect(stdout).toContain('warnings:\n  TELEGRAM_BOT_TOKEN is set without TELEGRAM_CHAT_ID: alerts go to the log only');
  });

  it('is the package\'s bin, and says how to use it when asked nothing', () => {
    const pkg = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json").bin)'], { cwd: ROOT, encoding: 'utf8' })) as Record<string, string>;
    expect(pkg).toEqual({ 'polymarket-bot-monitoring': 'dist/cli.js' });
    expect(run([])).toMatchObject({ status: 2 });
    expect(run(['frobnicate']).stderr).toContain('unknown command "frobnicate"');
  });
});
