/**
 * The whole stack, for real: two demo bots with the plugin (one healthy, one whose every scan and
 * trade fails), a real Prometheus scraping them with the project's rules, and a real Alertmanager
 * routing through the project's config to a fake Telegram Bot API on loopback.
 *
 * Proves that no dashboard panel or rule queries a series that does not exist, that the rules
 * and their unit tests pass promtool, that the exposition passes `promtool check metrics` (with
 * hostile resource attributes), that Prometheus finds the bots through the shipped file_sd job
 * and scrapes OpenMetrics with exemplars, that alerts are per bot, and that a failing bot pages
 * through Alertmanager.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { allExpressions } from '../../scripts/dashboards.js';
import { METRIC_LIST } from '../../src/metrics/catalog.js';
import { ROOT, freePort, get, spawnBot, type Bot } from '../e2e/harness.js';
import { requireBinaries, type Binaries } from './binaries.js';

const RULES_DIR = path.join(ROOT, 'prometheus/rules');
const RULE_TESTS_DIR = path.join(ROOT, 'prometheus/tests');
const ALERTMANAGER_CONFIG = path.join(ROOT, 'deploy/alertmanager/alertmanager.yml');
const TOKEN = '123456789:AAEhBP0av28pcZnbyeEx3l8kL8DHxjTcRfk';

let bins: Binaries;
let work: string;
const children: ChildProcess[] = [];
const bots: Bot[] = [];
let promUrl: string;
let amUrl: string;
let telegram: { server: http.Server; messages: { text: string }[] };
let botPorts: number[] = [];
let targetsFile: string;
/** Resource attributes no label name can be made of as they are: a leading digit, dots, dashes, a quote, a newline, a clash. */
const HOSTILE_ATTRIBUTES = '1team=desk,deployment.environment.name=stack-test,a-b=x,a_b=y,quote=%22q%22,multi=line%0Anext';

function startProcess(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${path.basename(command)} exited ${code}:\n${output.slice(-2000)}\n`);
  });
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface PromResult {
  status: string;
  error?: string;
  data: { resultType: string; result: unknown[] };
}

async function query(expr: string): Promise<PromResult> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResult;
}

function ruleExpressions(): { name: string; expr: string }[] {
  const out: { name: string; expr: string }[] = [];
  for (const file of readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(readFileSync(path.join(RULES_DIR, file), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
    for (const group of doc.groups) for (const rule of group.rules) out.push({ name: rule.alert ?? rule.record ?? '?', expr: String(rule.expr) });
  }
  return out;
}

/** The metric names an expression selects (catalog, host metrics, recording rules, `up`). */
function metricNames(expr: string): string[] {
  const names = expr.match(/\b(?:monitoring|process|system|polymarket_bot:[a-z0-9_:]*|up)[a-z0-9_:]*\b/g) ?? [];
  return [...new Set(names)].filter((n) => !['process', 'system', 'monitoring'].includes(n));
}

beforeAll(async () => {
  bins = requireBinaries();
  work = mkdtempSync(path.join(os.tmpdir(), 'pbm-stack-'));

  // A fake Telegram Bot API: records what Alertmanager sends.
  const messages: { text: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        const params = req.headers['content-type']?.includes('json') ? JSON.parse(body) : Object.fromEntries(new URLSearchParams(body));
        if (req.url?.endsWith('/sendMessage')) messages.push({ text: String(params.text ?? '') });
      } catch {
        // record nothing for an unparsable body
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, result: { message_id: messages.length, date: 0, chat: { id: 42, type: 'private' } } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  telegram = { server, messages };
  const telegramPort = (server.address() as { port: number }).port;

  // Two bots: one healthy enough that every panel has data, reporting through the probe; one whose
  // every scan fails and whose trades go through the real @polymarket/clob-client, with no
  // monitoring code, to a CLOB that answers 500.
  // Both export their spans (console, to stdout): the scan and trade buckets carry exemplars.
  const common = {
    MONITOR_INTERVAL_SECONDS: '5',
    DEMO_SCAN_INTERVAL_MS: '300',
    DEMO_FEED_INTERVAL_MS: '400',
    DEMO_LATENCY_SCALE: '0.05',
    OTEL_TRACES_EXPORTER: 'console',
    OTEL_RESOURCE_ATTRIBUTES: HOSTILE_ATTRIBUTES,
  };
  for (const failing of [false, true]) {
    const metricsPort = await freePort();
    botPorts.push(metricsPort);
    // The healthy bot also sends its own alerts to the fake Telegram (ALERT_ROUTE=plugin, the
    // default) and is past its daily-loss warning level (13 %, below the demo's own 15 % breaker,
    // so it keeps trading): Alertmanager must mute its copy of that alert.
    const env = failing
      ? { DEMO_FAILURE_RATE: '1', DEMO_CLOB: 'http500' }
      : {
          DEMO_FAILURE_RATE: '0.1',
          DEMO_DAILY_LOSS_PERCENT: '13',
          TELEGRAM_BOT_TOKEN: TOKEN,
          TELEGRAM_CHAT_ID: '42',
          TELEGRAM_API_URL: `http://127.0.0.1:${telegramPort}`,
          ALERT_ON_TRADE: 'off',
        };
    bots.push(spawnBot({ env: { ...common, ...env, METRICS_PORT: String(metricsPort), DASHBOARD_PORT: String(await freePort()) } }));
  }
  await Promise.all(bots.map((bot) => bot.waitForLine(/monitoring started/)));

  // Alertmanager: the project's config, pointed at the fake Telegram and made quick.
  const amPort = await freePort();
  const am = parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as Record<string, any>;
  const patchTelegram = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(patchTelegram);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'telegram_configs') {
          for (const cfg of value as Record<string, unknown>[]) {
            delete cfg.bot_token_file;
            delete cfg.chat_id_file;
            Object.assign(cfg, { api_url: `http://127.0.0.1:${telegramPort}`, bot_token: TOKEN, chat_id: 42 });
          }
        } else patchTelegram(value);
      }
    }
  };
  patchTelegram(am.receivers);
  Object.assign(am.route, { group_wait: '1s', group_interval: '5s' });
  writeFileSync(path.join(work, 'alertmanager.yml'), stringify(am));
  startProcess(bins.alertmanager, [
    `--config.file=${path.join(work, 'alertmanager.yml')}`,
    `--storage.path=${path.join(work, 'am-data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  amUrl = `http://127.0.0.1:${amPort}`;
  await waitFor('Alertmanager', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined), 30_000);

  // Prometheus: the project's rules and the shipped bot job, which finds its targets through
  // file_sd (prometheus/targets/*.yml); here the targets file lists the two bots, and the job
  // re-reads it every second. Every scrape negotiates OpenMetrics, exemplars kept.
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  const shipped = parse(readFileSync(path.join(ROOT, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Record<string, any>[] };
  const botJob = shipped.scrape_configs.find((job) => job.job_name === 'polymarket-bot')!;
  expect(botJob.file_sd_configs?.[0]?.files).toEqual(['targets/*.yml']);
  targetsFile = path.join(work, 'targets', 'bots.yml');
  mkdirSync(path.dirname(targetsFile));
  writeFileSync(targetsFile, stringify(botPorts.map((port, i) => ({ targets: [`127.0.0.1:${port}`], labels: { bot: i === 0 ? 'healthy' : 'failing' } }))));
  writeFileSync(
    path.join(work, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [path.join(RULES_DIR, '*.yml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [{ ...botJob, file_sd_configs: [{ files: [path.join(work, 'targets', '*.yml')], refresh_interval: '1s' }] }],
    }),
  );
  startProcess(bins.prometheus, [
    `--config.file=${path.join(work, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(work, 'prom-data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--enable-feature=exemplar-storage',
  ]);
  await waitFor('Prometheus', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), 30_000);
  // Rates and quantiles need a few scrapes of increasing counters.
  await waitFor(
    'both bots scraped with scans recorded',
    async () => {
      const r = await query('sum by (instance) (rate(monitoring_wallet_scan_duration_seconds_count[1m]))');
      return r.data.result.length === 2 ? true : undefined;
    },
    60_000,
  );
  await new Promise((r) => setTimeout(r, 10_000));
}, 150_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const bot of bots) bot.kill('SIGKILL');
  telegram?.server.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the stack', () => {
  it('passes promtool check rules and the rules unit tests', () => {
    const rules = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).map((f) => path.join(RULES_DIR, f));
    expect(() => execFileSync(bins.promtool, ['check', 'rules', ...rules], { encoding: 'utf8' })).not.toThrow();
    const tests = readdirSync(RULE_TESTS_DIR).filter((f) => f.endsWith('.yml')).map((f) => path.join(RULE_TESTS_DIR, f));
    expect(tests.length).toBeGreaterThan(0);
    const out = execFileSync(bins.promtool, ['test', 'rules', ...tests], { cwd: path.join(ROOT, 'prometheus'), encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
  });

  it('exposes nothing promtool check metrics objects to beyond the seed’s own names', async () => {
    const exposition = (await get(`http://127.0.0.1:${botPorts[0]}/metrics`)).body;
    let report = '';
    try {
      report = execFileSync(bins.promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      report = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    const problems = report.split('\n').filter((line) => line.trim() !== '');
    // monitoring_memory_usage_mb keeps the predecessor's name (dashboards depend on it): its
    // non-base unit is the one finding allowed.
    const unexpected = problems.filter((line) => !line.startsWith('monitoring_memory_usage_mb'));
    expect(unexpected).toEqual([]);
  });

  it('answers every dashboard query with data from the live bots', async () => {
    const expressions = allExpressions() as { dashboard: string; panel: string; expr: string }[];
    expect(expressions.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of expressions) {
      const result = await query(expr);
      expect(result.status, `${dashboard} / ${panel}: ${expr}: ${result.error}`).toBe('success');
      if (result.data.result.length === 0) empty.push(`${dashboard} / ${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('parses every rule expression and finds every series it selects', async () => {
    const missing: string[] = [];
    for (const { name, expr } of ruleExpressions()) {
      const result = await query(expr);
      expect(result.status, `${name}: ${expr}: ${result.error}`).toBe('success');
      for (const metric of metricNames(expr)) {
        if (metric === 'up') continue;
        const found = await query(`count({__name__="${metric}"})`);
        if (found.data.result.length === 0) missing.push(`${name}: ${metric}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('finds the bots through the shipped file_sd job, each its own instance with its file labels, and follows the file without a restart', async () => {
    const up = await query('up{job="polymarket-bot"}');
    const byInstance = Object.fromEntries((up.data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => [r.metric.instance, [r.metric.bot, r.value[1]]]));
    expect(byInstance).toEqual({ [`127.0.0.1:${botPorts[0]}`]: ['healthy', '1'], [`127.0.0.1:${botPorts[1]}`]: ['failing', '1'] });
    // A third bot added to the targets file appears within the refresh (down: nothing listens there).
    const extra = await freePort();
    writeFileSync(targetsFile, `${readFileSync(targetsFile, 'utf8')}- targets: ['127.0.0.1:${extra}']\n  labels: { bot: added }\n`);
    const added = await waitFor(
      'the added target',
      async () => {
        const res = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: Record<string, string> }[] } };
        return res.data.activeTargets.find((t) => t.labels.instance === `127.0.0.1:${extra}`);
      },
      20_000,
    );
    expect(added.labels).toMatchObject({ job: 'polymarket-bot', bot: 'added' });
  });

  it('keeps the trace-id exemplars of the scan and trade latency buckets (OpenMetrics scrape)', async () => {
    const end = Date.now() / 1000;
    const res = (await (
      await fetch(`${promUrl}/api/v1/query_exemplars?query=${encodeURIComponent('monitoring_wallet_scan_duration_seconds_bucket')}&start=${end - 600}&end=${end}`)
    ).json()) as { data: { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string> }[] }[] };
    const exemplars = res.data.flatMap((series) => series.exemplars.map((e): Record<string, string | undefined> => ({ instance: series.seriesLabels.instance, ...e.labels })));
    expect(exemplars.length).toBeGreaterThan(0);
    for (const e of exemplars) expect(e).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/), span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // The trace exists: the bot that measured it exported its spans (console exporter, stdout).
    const { trace_id, instance } = exemplars[0]!;
    const bot = bots[botPorts.findIndex((port) => instance === `127.0.0.1:${port}`)]!;
    expect(bot.output()).toContain(`traceId: '${trace_id}'`);
  });

  it('scrapes hostile resource attributes as valid labels (target_info) in both formats', async () => {
    const info = await query('target_info{job="polymarket-bot"}');
    expect(info.data.result.length).toBe(2);
    const labels = (info.data.result[0] as { metric: Record<string, string> }).metric;
    expect(labels).toMatchObject({ key_1team: 'desk', deployment_environment_name: 'stack-test', a_b: 'x;y', quote: '"q"', multi: 'line\nnext' });
    // The classic text format, through promtool: see the next test for its findings.
    const classic = (await get(`http://127.0.0.1:${botPorts[1]}/metrics`)).body;
    expect(classic).toMatch(/^target_info\{key_1team="desk",/m);
  });

  it('keeps the catalog and the live exposition in step', async () => {
    const exposition = (await get(`http://127.0.0.1:${botPorts[0]}/metrics`)).body;
    for (const def of METRIC_LIST) expect(exposition).toContain(def.type === 'histogram' ? `${def.name}_bucket` : def.name);
  });

  it('sends one message for one condition: the plugin\'s own, with Alertmanager\'s copy inhibited (ALERT_ROUTE=plugin)', async () => {
    const healthy = `127.0.0.1:${botPorts[0]}`;
    // Alertmanager holds the bot's PolymarketBotDailyLossWarning, inhibited by the route marker.
    const held = await waitFor(
      'the daily-loss alert at Alertmanager, inhibited',
      async () => {
        const alerts = (await (await fetch(`${amUrl}/api/v2/alerts?inhibited=true&silenced=false&active=true`)).json()) as {
          labels: Record<string, string>;
          status: { inhibitedBy: string[] };
        }[];
        return alerts.find((a) => a.labels.alertname === 'PolymarketBotDailyLossWarning' && a.labels.instance === healthy && a.status.inhibitedBy.length > 0);
      },
      180_000,
    );
    expect(held.labels.in_process).toBe('true');
    // The plugin's message came; Alertmanager's (its template starts with FIRING) did not.
    const ours = telegram.messages.filter((m) => m.text.includes('PolymarketBotDailyLossWarning'));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((m) => m.text.includes('FIRING'))).toEqual([]);
  });

  it('pages Telegram through Alertmanager when every trade through the real CLOB client fails', async () => {
    const message = await waitFor(
      'the trade-failure alert at the fake Telegram',
      async () => telegram.messages.find((m) => /TradeFailures/.test(m.text)),
      180_000,
    );
    expect(message.text).toMatch(/TradeFailures/);
    expect(message.text).not.toContain(TOKEN);
    // Per bot: the failing bot's alert names it, and the healthy bot has no such alert.
    const failing = `127.0.0.1:${botPorts[1]}`;
    expect(message.text).toContain(failing);
    const firing = await query('ALERTS{alertname="PolymarketBotTradeFailures", alertstate="firing"}');
    expect((firing.data.result as { metric: Record<string, string> }[]).map((r) => r.metric.instance)).toEqual([failing]);
  });
});
