/**
 * The deployment files (deploy/) and the alert rules' contract, checked without Docker, systemd or
 * promtool: pinned images, mounts that exist, a bounded start-up health check, a config error that
 * is not retried, Alertmanager routes that lead somewhere, and alert rules whose names, labels,
 * annotations, runbook anchors and unit tests follow one convention.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FAILURE_OUTCOMES } from '../src/core/model.js';
import { METRIC_LIST } from '../src/metrics/catalog.js';
import { runbookUrl } from '../src/rules/catalog.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPLOY = path.join(ROOT, 'deploy');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// ------------------------------------------------------------------------------------ compose

interface ComposeService {
  image?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: (string | { type?: string; source?: string })[];
  ports?: (string | { host_ip?: string })[];
  extra_hosts?: string[];
}
const compose = parse(read('deploy/compose.yaml')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
const services = Object.entries(compose.services);

/** The tag of an image reference ('' when there is none); a digest counts as pinned. */
function imageTag(image: string): string {
  if (image.includes('@sha256:')) return image.slice(image.indexOf('@') + 1);
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
}

const isPinned = (image: string): boolean => {
  const tag = imageTag(image);
  return tag.startsWith('sha256:') || (/^v?\d+\.\d+(\.\d+)?([-.][\w.]+)?$/.test(tag) && !/latest/i.test(tag));
};

/** Host paths of bind mounts (short `src:dst[:mode]` or long syntax); named volumes are not paths. */
function bindSources(service: ComposeService): string[] {
  return (service.volumes ?? []).flatMap((v) => {
    const source = typeof v === 'string' ? v.split(':')[0] ?? '' : v.type === 'bind' ? v.source ?? '' : '';
    return source.startsWith('.') || source.startsWith('/') ? [source] : [];
  });
}

describe('deploy/compose.yaml', () => {
  it('runs Prometheus, Alertmanager, Grafana and the OTel Collector', () => {
    const images = services.map(([, s]) => s.image ?? '');
    for (const name of ['prom/prometheus', 'prom/alertmanager', 'grafana/grafana', 'otel/opentelemetry-collector-contrib']) {
      expect(images.some((image) => image.startsWith(`${name}:`))).toBe(true);
    }
  });

  it.each(services)('pins the image of %s to a version', (_name, service) => {
    expect(service.image, 'every service runs a published image').toBeTruthy();
    expect(isPinned(service.image!), `${service.image} is not pinned to a version`).toBe(true);
  });

  it.each(services.filter(([, s]) => bindSources(s).length > 0))('mounts only paths that exist in the repository (%s)', (_name, service) => {
    for (const source of bindSources(service)) {
      expect(existsSync(path.resolve(DEPLOY, source)), `${source} (relative to deploy/) does not exist`).toBe(true);
    }
  });

  it.each(services.filter(([, s]) => (s.ports ?? []).length > 0))('publishes %s on the host’s loopback only', (_name, service) => {
    for (const port of service.ports ?? []) {
      const hostIp = typeof port === 'string' ? port.split(':')[0] : port.host_ip;
      expect(hostIp, `${JSON.stringify(port)} is published on every interface`).toBe('127.0.0.1');
    }
  });

  it('lets Prometheus reach the bot on the host', () => {
    expect(compose.services.prometheus?.extra_hosts).toContain('host.docker.internal:host-gateway');
  });

  it('has a service behind every hostname Prometheus and the collector send to', () => {
    const prom = parse(read('prometheus/prometheus.yml')) as {
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { static_configs?: { targets: string[] }[] }[];
    };
    const collector = parse(read('otel-collector/config.yaml')) as { exporters: Record<string, { endpoint?: string }> };
    const targets = [
      ...prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets)),
      ...prom.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((s) => s.targets)),
      ...Object.values(collector.exporters).flatMap((e) => (e.endpoint && !e.endpoint.startsWith('0.0.0.0') ? [e.endpoint] : [])),
    ];
    const hosts = new Set(targets.map((t) => t.replace(/^\w+:\/\//, '').split(':')[0]!));
    hosts.delete('host.docker.internal');
    for (const host of hosts) expect(Object.keys(compose.services), `nothing in compose answers to ${host}`).toContain(host);
  });

  it.each(services)('checks the health of %s (or says why it cannot)', (name, service) => {
    const check = service.healthcheck;
    expect(check, `${name} has no healthcheck`).toBeDefined();
    if (check?.disable) {
      // Only an image with nothing to run a check with; the compose file must say so.
      expect(read('deploy/compose.yaml')).toMatch(/no shell or HTTP client/);
      expect(name).toBe('otel-collector');
    } else {
      expect(check?.test?.[0]).toBe('CMD');
      expect(check?.test?.join(' ')).toMatch(/http:\/\/127\.0\.0\.1:\d+\//);
    }
  });

  it('starts a service after what it needs is healthy', () => {
    expect(compose.services.prometheus?.depends_on?.alertmanager?.condition).toBe('service_healthy');
    expect(compose.services.grafana?.depends_on?.prometheus?.condition).toBe('service_healthy');
  });

  it('has no default Grafana password: compose refuses to start without one', () => {
    expect(compose.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}$/);
    expect(read('deploy/compose.yaml')).not.toMatch(/:-admin\b/);
  });

  it('keeps exemplars (the trace links of the latency panels)', () => {
    expect((compose.services.prometheus as { command?: string[] }).command).toContain('--enable-feature=exemplar-storage');
  });

  describe('the pin check itself', () => {
    it.each([['prom/prometheus'], ['prom/prometheus:latest'], ['grafana/grafana:main'], ['localhost:5000/prometheus']])('rejects %s', (image) => {
      expect(isPinned(image)).toBe(false);
    });
    it.each([['prom/prometheus:v2.53.0'], ['grafana/grafana:11.1.0'], ['jaegertracing/all-in-one:1.57'], ['localhost:5000/prom:v2.53.0']])('accepts %s', (image) => {
      expect(isPinned(image)).toBe(true);
    });
  });
});

// ------------------------------------------------------------------------------------ systemd

/** `[Section]` → key → every value assigned (systemd keys may repeat); comments dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) {
      const key = line.slice(0, eq);
      current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
    }
  }
  return sections;
}

/**
 * Whether a start-up health check ends on its own: curl with a finite --retry and a --max-time per
 * try, or a shell loop over a fixed count. An until/while loop without a count never gives up.
 */
function healthCheckIsBounded(command: string): boolean {
  if (/\b(until|while)\b/.test(command)) return false;
  const perTry = /(--max-time|\s-m)[ =]\d+/.test(command) || /\btimeout\s+\d+/.test(command);
  const countedLoop = /\bfor\s+\w+\s+in\s+(\$\(seq\s+\d+(\s+\d+)?\)|\{\d+\.\.\d+\}|(\d+\s+)+\d+)\s*;/.test(command);
  const curlRetries = /--retry[ =](\d+)/.exec(command);
  return perTry && (countedLoop || (curlRetries !== null && Number(curlRetries[1]) > 0));
}

const unit = parseUnit(read('deploy/systemd/polymarket-bot.service'));
const service = unit.get('Service') ?? new Map<string, string[]>();
const values = (key: string): string[] => service.get(key) ?? [];

describe('deploy/systemd/polymarket-bot.service', () => {
  it('preloads the plugin through NODE_OPTIONS and reads its secrets from an EnvironmentFile', () => {
    expect(values('Environment')).toContain('NODE_OPTIONS=--import=polymarket-bot-monitoring/register');
    expect(values('EnvironmentFile').length).toBeGreaterThan(0);
  });

  it('does not restart after a configuration error (exit status 78 under MONITORING_STRICT)', () => {
    expect(values('RestartPreventExitStatus').join(' ').split(/\s+/)).toContain('78');
    expect(values('Environment')).toContain('MONITORING_STRICT=true');
  });

  it('restarts on failure, within a start limit', () => {
    expect(values('Restart')).toEqual(['on-failure']);
    expect(unit.get('Unit')?.get('StartLimitBurst')).toBeDefined();
    expect(unit.get('Unit')?.get('StartLimitIntervalSec')).toBeDefined();
  });

  it('checks readiness after start with a bounded number of tries, inside a bounded start timeout', () => {
    const checks = values('ExecStartPost');
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) expect(healthCheckIsBounded(check), check).toBe(true);
    expect(checks.join(' ')).toContain('/readyz');
    const timeout = values('TimeoutStartSec').at(-1) ?? 'infinity';
    expect(timeout).toMatch(/^\d+(s|min)?$/);
    expect(Number.parseInt(timeout, 10)).toBeGreaterThan(0);
  });

  it('never lets a failed health check take the bot down (the check is "-"-prefixed)', () => {
    for (const check of values('ExecStartPost')) expect(check.startsWith('-')).toBe(true);
  });

  it('bounds memory and drops privileges', () => {
    expect(values('MemoryMax').length).toBe(1);
    expect(values('NoNewPrivileges')).toEqual(['yes']);
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('PrivateTmp')).toEqual(['yes']);
    // V8's JIT needs writable executable memory.
    expect(values('MemoryDenyWriteExecute')).toEqual([]);
  });

  it('runs the bot on a Node that is 22.15 or newer, checked before it starts — not Debian\'s /usr/bin/node (18 or 20)', () => {
    const [start] = values('ExecStart');
    const node = start!.split(' ')[0]!;
    expect(node).not.toBe('/usr/bin/node');
    // Without NODE_OPTIONS: with the preload the check itself would start the plugin.
    const check = values('ExecStartPre').find((command) => command.startsWith(`/usr/bin/env -u NODE_OPTIONS ${node} -e `));
    expect(check, 'an ExecStartPre checks the version of the node ExecStart runs').toBeDefined();
    expect(check, 'systemd expands $ and % in a command line').not.toMatch(/[$%]/);
    // The check itself, run on this machine's Node against versions either side of the line:
    // 78 is what RestartPreventExitStatus keeps systemd from retrying.
    expect(values('RestartPreventExitStatus')).toContain('78');
    const script = /-e "(.*)"$/.exec(check!)![1]!;
    const verdict = (version: string): number | null =>
      spawnSync(process.execPath, ['-e', `Object.defineProperty(process.versions, 'node', { value: '${version}' }); ${script}`], { encoding: 'utf8' }).status;
    expect(['20.19.0', '22.14.9', '22.15.0', '24.1.0'].map(verdict)).toEqual([78, 78, 0, 0]);
  });

  it('is hardened as systemd-analyze security asks, short of what a trading bot needs', (context) => {
    for (const [key, value] of [
      ['ProtectProc', 'invisible'],
      ['PrivateUsers', 'yes'],
      ['PrivateMounts', 'yes'],
      ['RemoveIPC', 'yes'],
      ['SystemCallErrorNumber', 'EPERM'],
      ['PrivateIPC', 'yes'],
      ['DevicePolicy', 'closed'],
    ]) expect(values(key!), key).toEqual([value]);
    // @pkey: V8 protects its JIT code with memory protection keys where the CPU has them.
    expect(values('SystemCallFilter')).toEqual(['@system-service @pkey', '~@privileged']);
    const analyze = spawnSync('systemd-analyze', ['security', '--offline=yes', path.join(DEPLOY, 'systemd/polymarket-bot.service')], { encoding: 'utf8' });
    if (analyze.error) return context.skip('systemd-analyze is not installed here');
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(analyze.stdout)?.[1]);
    expect(score, analyze.stdout.slice(-300)).toBeLessThanOrEqual(1.5);
  });

  describe('the health-check bound check itself', () => {
    it.each([
      // the predecessor's
      [`/bin/sh -c 'until curl -sf http://127.0.0.1:8080/health; do sleep 1; done'`],
      [`/bin/sh -c 'while ! curl -sf http://127.0.0.1:8080/readyz; do sleep 1; done'`],
      ['/usr/bin/curl -fsS --retry-connrefused http://127.0.0.1:8080/readyz'],
      ['/usr/bin/curl -fsS --retry 10 http://127.0.0.1:8080/readyz'],
    ])('rejects %s', (command) => {
      expect(healthCheckIsBounded(command)).toBe(false);
    });
    it.each([
      ['-/usr/bin/curl -fsS --retry 10 --retry-delay 1 --retry-connrefused --max-time 2 http://127.0.0.1:8080/readyz'],
      [`/bin/sh -c 'for i in $(seq 1 10); do curl -fsS -m 2 http://127.0.0.1:8080/readyz && exit 0; sleep 1; done; exit 1'`],
    ])('accepts %s', (command) => {
      expect(healthCheckIsBounded(command)).toBe(true);
    });
  });
});

// ------------------------------------------------------------------------------------ Alertmanager

interface Route {
  receiver?: string;
  matchers?: string[];
  group_by?: string[];
  routes?: Route[];
}
interface Receiver {
  name: string;
  telegram_configs?: Record<string, unknown>[];
  [key: string]: unknown;
}
const alertmanager = parse(read('deploy/alertmanager/alertmanager.yml')) as {
  route: Route;
  receivers: Receiver[];
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
};
const receiver = (name: string | undefined): Receiver | undefined => alertmanager.receivers.find((r) => r.name === name);
const allRoutes = (route: Route): Route[] => [route, ...(route.routes ?? []).flatMap(allRoutes)];

describe('deploy/alertmanager/alertmanager.yml', () => {
  it('routes to receivers that exist', () => {
    for (const route of allRoutes(alertmanager.route)) {
      if (route.receiver !== undefined) expect(receiver(route.receiver), route.receiver).toBeDefined();
    }
  });

  it('groups by alert name and bot', () => {
    expect(alertmanager.route.group_by).toEqual(expect.arrayContaining(['alertname', 'job', 'instance']));
  });

  it('sends to Telegram in HTML parse mode, resolved messages too, with the token and the chat id read from files (0.31+)', () => {
    const telegram = receiver(alertmanager.route.receiver)?.telegram_configs ?? [];
    expect(telegram.length).toBeGreaterThan(0);
    for (const cfg of telegram) {
      expect(cfg).toMatchObject({ parse_mode: 'HTML', send_resolved: true });
      expect(cfg.bot_token_file).toMatch(/^\//);
      expect(cfg).not.toHaveProperty('bot_token');
      expect(cfg.chat_id_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
      expect(cfg).not.toHaveProperty('chat_id');
    }
  });

  it('keeps the Watchdog away from Telegram', () => {
    const watchdogRoute = (alertmanager.route.routes ?? []).find((r) => (r.matchers ?? []).includes('alertname="PolymarketBotWatchdog"'));
    expect(watchdogRoute).toBeDefined();
    // The first matching child route wins: the Watchdog's must come first.
    expect(alertmanager.route.routes?.[0]).toBe(watchdogRoute);
    expect(receiver(watchdogRoute?.receiver)?.telegram_configs).toBeUndefined();
  });

  it('mutes its copy of what the plugin sends itself (ALERT_ROUTE=plugin), and never sends the route marker', () => {
    expect(alertmanager.inhibit_rules).toContainEqual({
      source_matchers: ['alertname="PolymarketBotAlertsRoutedToPlugin"'],
      target_matchers: ['in_process="true"'],
      equal: ['job', 'instance'],
    });
    const marker = (alertmanager.route.routes ?? []).find((r) => (r.matchers ?? []).includes('alertname="PolymarketBotAlertsRoutedToPlugin"'));
    expect(receiver(marker?.receiver)).toEqual({ name: 'blackhole' });
  });

  it('lets a critical alert inhibit the warning of its family, and a down bot the rest of its alerts', () => {
    const rules = alertmanager.inhibit_rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ source_matchers: expect.arrayContaining(['severity="critical"']), target_matchers: ['severity="warning"'], equal: expect.arrayContaining(['family', 'instance']) }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({ source_matchers: ['alertname="PolymarketBotDown"'], equal: expect.arrayContaining(['job', 'instance']) }),
    );
  });
});

// ------------------------------------------------------------------------------------ alert rules

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const RULES_DIR = path.join(ROOT, 'prometheus/rules');
const TESTS_DIR = path.join(ROOT, 'prometheus/tests');
const ruleFiles = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml'));
const rules: Rule[] = ruleFiles.flatMap(
  (f) => (parse(readFileSync(path.join(RULES_DIR, f), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const records = rules.filter((r): r is Rule & { record: string } => r.record !== undefined);

interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[]; promql_expr_test?: { expr: string }[] }[];
}
const ruleTests = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.yml'))
  .flatMap((f) => (parse(readFileSync(path.join(TESTS_DIR, f), 'utf8')) as RuleTests).tests);

const RUNBOOK_BASE = runbookUrl('X').replace(/x$/, '');
const SEVERITIES = ['critical', 'warning', 'info', 'none'];

/** Series an expression selects by name: catalog names (with histogram suffixes), `up`, recording rules. */
function selectedSeries(expr: string): string[] {
  return [...new Set(expr.match(/\bmonitoring_[a-z0-9_]+/g) ?? [])];
}
const catalogSeries = new Set(
  METRIC_LIST.flatMap((m) => (m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`] : [m.name])),
);

describe('prometheus/rules', () => {
  it('has alerts, and no recording rule nothing uses (the dashboards query raw series, to work on any Prometheus)', () => {
    expect(alerts.length).toBeGreaterThan(10);
    expect(records).toEqual([]);
  });

  it.each(alerts.map((a) => [a.alert, a]))('%s follows the naming, label and annotation convention', (name, alert) => {
    expect(name).toMatch(/^PolymarketBot[A-Z][A-Za-z]+$/);
    expect(SEVERITIES).toContain(alert.labels?.severity);
    expect(alert.labels?.family, 'family lets Alertmanager inhibit a warning by its critical').toMatch(/^[a-z_]+$/);
    expect(alert.annotations?.summary).toBeTruthy();
    expect(alert.annotations?.summary, 'summary is static').not.toContain('{{');
    expect(alert.annotations?.description, 'description is templated').toMatch(/\{\{ *\$(labels|value)/);
    expect(alert.annotations?.runbook_url).toBe(`${RUNBOOK_BASE}${name.toLowerCase()}`);
  });

  it.each(alerts.map((a) => [a.alert]))('%s has a runbook section in docs/alerts.md', (name) => {
    const anchor = `<a id="runbook-${name.toLowerCase()}"></a>`;
    expect(read('docs/alerts.md').includes(anchor), `docs/alerts.md has no ${anchor}`).toBe(true);
  });

  it.each(alerts.map((a) => [a.alert]))('%s is unit-tested firing in prometheus/tests', (name) => {
    const cases = ruleTests.flatMap((t) => t.alert_rule_test ?? []).filter((c) => c.alertname === name);
    expect(cases.some((c) => (c.exp_alerts ?? []).length > 0), 'a case where it fires').toBe(true);
    if (alerts.find((a) => a.alert === name)?.for) {
      expect(cases.some((c) => (c.exp_alerts ?? []).length === 0), 'a case before its for: boundary').toBe(true);
    }
  });

  it.each(rules.map((r) => [r.alert ?? r.record, r]))('%s selects only series from the catalog', (_name, rule) => {
    for (const series of selectedSeries(rule.expr)) expect(catalogSeries, series).toContain(series);
  });

  it.each(rules.filter((r) => /\bmonitoring_/.test(r.expr)).map((r) => [r.alert ?? r.record, r]))(
    '%s aggregates away the otel_scope_* labels',
    (_name, rule) => {
      expect(rule.expr).toMatch(/without \(otel_scope_name, otel_scope_version\)|(sum|min|max|group) by \(job, instance/);
    },
  );
});

// ------------------------------------------------------------------ the failure outcomes, once

describe('the failure outcomes outside the code', () => {
  const failures = [...FAILURE_OUTCOMES].sort().join('|');

  it('are exactly FAILURE_OUTCOMES wherever the rules select failed scans or trades', () => {
    const selected = [...read('prometheus/rules/polymarket-bot.yml').matchAll(/outcome=~"([a-z|]+)"/g)].map((m) => m[1]!);
    expect(selected.length).toBeGreaterThan(0);
    for (const alternatives of selected) expect(alternatives.split('|').sort().join('|')).toBe(failures);
  });

  it('are exactly what the trading dashboard draws red, and its outcome legends start with the outcome', () => {
    const dashboard = JSON.parse(read('grafana/dashboards/trading.json')) as { panels: { fieldConfig?: { overrides?: unknown[] }; targets?: { expr?: string; legendFormat?: string }[] }[] };
    const red: string[] = [];
    // The panels of scan and trade outcomes (the API panels colour api outcomes, success/failure).
    const outcomePanels = dashboard.panels.filter((panel) => panel.targets?.some((t) => /duration_seconds_count/.test(t.expr ?? '') && /outcome/.test(t.expr ?? '')));
    for (const panel of outcomePanels) {
      for (const override of (panel.fieldConfig?.overrides ?? []) as { matcher: { id: string; options: string }; properties: { value?: { fixedColor?: string } }[] }[]) {
        if (override.matcher.id !== 'byRegexp' || !override.properties.some((p) => p.value?.fixedColor === 'red')) continue;
        const alternatives = /^\/\^\(([a-z|]+)\)/.exec(override.matcher.options)?.[1];
        if (alternatives) red.push(alternatives);
        // The colours match the legend's first word: an outcome legend must begin with it.
        for (const target of panel.targets ?? []) if (target.expr?.includes('outcome')) expect(target.legendFormat).toMatch(/^\{\{outcome\}\}/);
      }
    }
    expect(red.length).toBeGreaterThan(0);
    for (const alternatives of red) expect(alternatives.split('|').sort().join('|')).toBe(failures);
  });
});
