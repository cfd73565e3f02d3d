/**
 * Fault injection, security (issue #7, item 5). Each case injects something hostile or
 * careless — secrets in every payload a bot can publish, wrong tokens, oversized and never-ending
 * requests, markup in paths — into a real bot with the built preload on loopback, and states what
 * must hold. `npm run test:faults` builds dist/ first.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOT, REGISTER, ROOT, freePort, killAll, spawnBot, type Bot } from '../e2e/harness.js';
import {
  fakeOtlpReceiver,
  fakeTelegramReceiver,
  listeningSocketsOf,
  parseResponse,
  parseResponses,
  rawExchange,
  sleep,
  write,
  type RecordingReceiver,
} from './support-security.js';

afterAll(() => killAll());

async function ports(): Promise<{ METRICS_PORT: string; DASHBOARD_PORT: string }> {
  return { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) };
}

const idleBot = 'setInterval(() => {}, 1000); console.log("bot ready");';

/** A plain request on a fresh connection that the server closes after answering. */
function request(port: number, method: string, target: string, headers: Record<string, string> = {}) {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return rawExchange(port, `${lines.join('\r\n')}\r\n\r\n`);
}

// ---------------------------------------------------------------------------------------------
// Secrets as a bot's environment holds them. Fixed, random-looking values: a repeated pattern
// would let a 40-character window of the key match by accident.

const SECRETS = {
  PRIVATE_KEY: '0x8834c3a9a0591aa050bc5f3a9921a1c4db82baac84b2f3b62508bec1e72fd2a6',
  CLOB_API_KEY: 'f1e75cf5-b7ad-4bc0-ad85-a273e5bd34f7',
  CLOB_SECRET: 'O0HMm3+f2hcRBjic/KZFRSllzYUdl1/8zgWMnSvkfXP+',
  CLOB_PASS_PHRASE: 'Vq3-lantern-9fKz-orbit-Lm27',
  TELEGRAM_BOT_TOKEN: '123456789:Ndgmbq3X0kobH6Qm92WLL4v9ccCNfsdMcB5',
  MNEMONIC: 'sight useful nut attract loud tray rack ball place correct travel twist',
} as const;

interface Needle {
  readonly what: string;
  readonly text: string;
  /** Hex is matched whatever its case. */
  readonly caseless: boolean;
}

/** Each secret as it is, URL-encoded and JSON-escaped; the bot token's secret half; every 40-hex window of the key. */
function needles(): Needle[] {
  const out: Needle[] = [];
  for (const [name, value] of Object.entries(SECRETS)) {
    const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
    for (const text of forms) out.push({ what: `${name} (${text === value ? 'as is' : 'encoded'})`, text, caseless: false });
  }
  out.push({ what: 'TELEGRAM_BOT_TOKEN (after the colon)', text: SECRETS.TELEGRAM_BOT_TOKEN.split(':')[1]!, caseless: false });
  const hex = SECRETS.PRIVATE_KEY.slice(2);
  // Every 40-digit window: the key's suffixes (the key without 0x) and what a cut leaves of it.
  for (let i = 0; i + 40 <= hex.length; i++) out.push({ what: `PRIVATE_KEY hex [${i}, ${i + 40})`, text: hex.slice(i, i + 40), caseless: true });
  return out;
}

/** Names of the needles found in `text`: empty when nothing leaked. */
function leaks(text: string): string[] {
  const lower = text.toLowerCase();
  return needles()
    .filter((n) => (n.caseless ? lower.includes(n.text.toLowerCase()) : text.includes(n.text)))
    .map((n) => n.what);
}

/** Every string inside a JSON document, decoded (so an escape cannot hide a secret from `leaks`). */
function jsonStrings(body: string): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), walk(x));
  };
  try {
    walk(JSON.parse(body));
  } catch {
    return '';
  }
  return out.join('\n');
}

interface OtlpSpan {
  name: string;
  status?: { code?: number; message?: string };
  attributes?: Array<{ key: string; value: { stringValue?: string } }>;
  events?: Array<{ name: string }>;
}

function spansIn(receiver: RecordingReceiver): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const req of receiver.requests.filter((r) => r.path === '/v1/traces')) {
    const doc = JSON.parse(req.body) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> };
    for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
  }
  return spans;
}

/** The bot's publishing, scripted: every secret in every field a payload has, thrown and rejected. */
const LEAKY_BOT = `
import { traceWalletScan, traceTradeExecution, reportApiCall, reportComponent, reportDailyPnl } from 'polymarket-bot-monitoring/probe';
const secrets = ${JSON.stringify(Object.keys(SECRETS))}.map((name) => process.env[name]);
const quiet = () => {};
for (const s of secrets) {
  await traceWalletScan(s, async () => {
    reportApiCall({ api: s, ok: true, durationMs: 12, status: 200, attempt: 1 });
    reportApiCall({ api: s, ok: false, durationMs: 40, status: 503, attempt: 2 });
    return { status: 'success' };
  });
  try {
    traceWalletScan(s, () => { throw new Error('scan failed for ' + s, { cause: new Error('upstream said ' + s) }); });
  } catch {}
  await traceWalletScan(s, () => Promise.reject('rejected: ' + s)).catch(quiet);
  await traceTradeExecution({ market: s, side: 'BUY', size: 10, price: 0.42, sourceWallet: s }, async () => {
    reportApiCall({ api: s, ok: false, status: 401, attempt: 1 });
    throw new Error('order signed with ' + s + ' was refused', { cause: { privateKey: s, detail: 'key ' + s } });
  }).catch(quiet);
  await traceTradeExecution({ market: s, side: 'SELL', size: 5, price: 0.6, sourceWallet: s }, () => Promise.reject('CLOB rejected ' + s)).catch(quiet);
  try {
    traceTradeExecution({ market: s, side: 'BUY', size: 1, price: 0.5, sourceWallet: s }, () => {
      const error = new TypeError(s);
      error.name = 'KeyError ' + s;
      throw error;
    });
  } catch {}
  await traceTradeExecution({ market: s, side: 'BUY', size: 2, price: 0.3, sourceWallet: s }, async () => ({ status: 'filled', orderId: s }));
}
reportComponent('main_bot', { flags: { signing_key_present: false }, heartbeat: true });
reportComponent('wallet_monitor', { walletsWatched: secrets.length, memoryMb: 50, lastScanAt: Date.now() });
reportComponent('trade_executor', { circuitBreakerOpen: true, reason: 'halted: ' + secrets.join(' | '), consecutiveLosses: 3 });
reportDailyPnl({ pnlUsd: -10, startingBalanceUsd: 1000 });
// Like the demo bot's feed: copied trades keep failing, with the key in the error.
let n = 0;
setInterval(() => {
  const s = secrets[n++ % secrets.length];
  traceTradeExecution({ market: s, side: 'BUY', size: 25, price: 0.42, sourceWallet: s }, async () => {
    throw new Error('insufficient allowance for ' + s);
  }).catch(quiet);
}, 250);
console.log('bot: published');
setInterval(() => {}, 1000);
`;

describe('servers bind loopback unless told otherwise', () => {
  it('binds both listening sockets to 127.0.0.1 (0100007F) with the default MONITORING_HOST', async () => {
    const env = await ports();
    const bot = spawnBot({ env });
    try {
      await bot.waitForLine(/monitoring started/);
      const sockets = listeningSocketsOf(bot.child.pid!);
      // Exactly the two servers, and nothing of the bot's listens anywhere else (tcp6 included).
      expect(sockets.map((s) => s.port).sort()).toEqual([Number(env.METRICS_PORT), Number(env.DASHBOARD_PORT)].sort());
      for (const socket of sockets) expect(socket, `socket on port ${socket.port}`).toMatchObject({ file: 'tcp', address: '0100007F' });
    } finally {
      bot.kill('SIGKILL');
    }
  });

  it('binds 0.0.0.0 (00000000) only with MONITORING_HOST=0.0.0.0, and warns that MONITORING_AUTH_TOKEN is unset', async () => {
    const env = await ports();
    const bot = spawnBot({ env: { ...env, MONITORING_HOST: '0.0.0.0', MONITORING_AUTH_TOKEN: '' } });
    try {
      await bot.waitForLine(/monitoring started/);
      const sockets = listeningSocketsOf(bot.child.pid!);
      expect(sockets.map((s) => s.port).sort()).toEqual([Number(env.METRICS_PORT), Number(env.DASHBOARD_PORT)].sort());
      for (const socket of sockets) expect(socket, `socket on port ${socket.port}`).toMatchObject({ file: 'tcp', address: '00000000' });
      const warning = JSON.parse(await bot.waitForLine(/MONITORING_AUTH_TOKEN/)) as { level: string; message: string };
      expect(warning.level).toBe('warn');
      // Whole, and not over-redacted (it once read "…AUTH_TOKEN: [REDACTED] and /health answer anyone").
      expect(warning.message).toBe(
        'MONITORING_HOST="0.0.0.0" and no MONITORING_AUTH_TOKEN set, so /metrics and /health answer anyone who can reach the port',
      );
    } finally {
      bot.kill('SIGKILL');
    }
  });
});

describe('bearer tokens', () => {
  const AUTH = 'auth-token-Zq81-mN4p-Xr62-w';
  const ADMIN = 'admin-token-Kd57-Lp09-Tq33-v';
  let bot: Bot;
  let env: Awaited<ReturnType<typeof ports>>;

  beforeAll(async () => {
    env = await ports();
    bot = spawnBot({ env: { ...env, MONITORING_AUTH_TOKEN: AUTH, MONITORING_ADMIN_TOKEN: ADMIN }, eval: idleBot });
    await bot.waitForLine(/monitoring started/);
  });
  afterAll(() => bot.kill('SIGKILL'));

  const refused: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong token of the same length', { Authorization: `Bearer ${'x'.repeat(AUTH.length)}` }],
    ['the right token in the Basic scheme', { Authorization: `Basic ${AUTH}` }],
    ['the right token as Basic credentials', { Authorization: `Basic ${Buffer.from(`prometheus:${AUTH}`).toString('base64')}` }],
    ['the right token with no scheme', { Authorization: AUTH }],
    ['a prefix of the right token', { Authorization: `Bearer ${AUTH.slice(0, -1)}` }],
    ['the right token with one character more', { Authorization: `Bearer ${AUTH}x` }],
    ['an empty bearer token', { Authorization: 'Bearer ' }],
    ['the admin token', { Authorization: `Bearer ${ADMIN}` }],
  ];

  it.each(refused)('/metrics and /health answer 401 with WWW-Authenticate: Bearer to %s', async (_what, headers) => {
    for (const [port, target] of [
      [env.METRICS_PORT, '/metrics'],
      [env.DASHBOARD_PORT, '/health'],
    ] as const) {
      const res = await request(Number(port), 'GET', target, headers);
      expect(res.status, `${target}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toBe('{"error":"unauthorized"}');
      expect(res.raw).not.toContain(AUTH);
    }
  });

  it('/metrics and /health answer 200 to Authorization: Bearer <MONITORING_AUTH_TOKEN>', async () => {
    const metrics = await request(Number(env.METRICS_PORT), 'GET', '/metrics', { Authorization: `Bearer ${AUTH}` });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^monitoring_circuit_breaker/m);
    const health = await request(Number(env.DASHBOARD_PORT), 'GET', '/health', { Authorization: `Bearer ${AUTH}` });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toHaveProperty('status', 'healthy');
  });

  it('/livez and /readyz stay open without a token', async () => {
    for (const target of ['/livez', '/readyz']) {
      const res = await request(Number(env.DASHBOARD_PORT), 'GET', target);
      expect(res.status, target).toBe(200);
    }
  });

  it('the admin route opens only to MONITORING_ADMIN_TOKEN, never to the auth token', async () => {
    const reset = '/admin/circuit-breaker/reset';
    const port = Number(env.DASHBOARD_PORT);
    const wrong: Array<Record<string, string>> = [{}, { Authorization: `Bearer ${AUTH}` }, { Authorization: `Basic ${ADMIN}` }, { Authorization: `Bearer ${ADMIN.slice(0, -1)}` }];
    for (const headers of wrong) {
      const res = await request(port, 'POST', reset, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    const ok = await request(port, 'POST', reset, { Authorization: `Bearer ${ADMIN}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ reset: false, tripped: false });
    // Read-only methods cannot reach it, with or without the token.
    expect((await request(port, 'GET', reset, { Authorization: `Bearer ${ADMIN}` })).status).toBe(405);
    // It lives on the health server only.
    expect((await request(Number(env.METRICS_PORT), 'POST', reset, { Authorization: `Bearer ${ADMIN}` })).status).toBe(404);
  });
});

describe('secrets never leave through the plugin', () => {
  it('keeps every secret out of the log, /metrics, /health, every exported span and metric, and every Telegram message', async () => {
    const env = await ports();
    const otlp = await fakeOtlpReceiver().start();
    const telegram = await fakeTelegramReceiver().start();
    const bot = spawnBot({
      eval: LEAKY_BOT,
      env: {
        ...env,
        ...SECRETS,
        TELEGRAM_CHAT_ID: '-1001234567890',
        TELEGRAM_API_URL: telegram.url,
        ALERT_ON_TRADE: 'on',
        MONITORING_LOG_LEVEL: 'debug',
        MONITOR_INTERVAL_SECONDS: '5',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
      },
    });
    try {
      await bot.waitForLine(/monitoring started/);
      await bot.waitForLine(/bot: published/);
      // The trade breaker's alert needs one evaluation cycle (5 s) after the report.
      const texts = () => telegram.requests.map((r) => jsonStrings(r.body));
      await telegram.waitFor(() => texts().some((t) => t.includes('TradeCircuitBreakerOpen')), 'the TradeCircuitBreakerOpen alert', 20_000);
      await otlp.waitFor(() => spansIn(otlp).some((s) => s.name === 'trade.execute'), 'trade.execute spans');
      await otlp.waitFor((reqs) => reqs.some((r) => r.path === '/v1/metrics' && r.body.includes('monitoring_trade_execution_duration_seconds')), 'exported metrics');
      const metrics = await request(Number(env.METRICS_PORT), 'GET', '/metrics');
      const health = await request(Number(env.DASHBOARD_PORT), 'GET', '/health');
      expect(metrics.status).toBe(200);
      expect(health.status).toBeLessThan(600);
      // SIGTERM: the plugin flushes what is left (spans, metrics, queued alerts) on the way out.
      bot.kill('SIGTERM');
      await bot.exited;

      const haystacks: Array<[string, string]> = [
        ['log (stdout and stderr)', bot.output()],
        ['/metrics', metrics.raw],
        ['/health', health.raw],
        ['/health (decoded)', jsonStrings(health.body)],
      ];
      for (const [i, r] of otlp.requests.entries()) {
        haystacks.push([`OTLP ${r.path} #${i}`, `${r.method} ${r.path}\n${JSON.stringify(r.headers)}\n${r.body}`]);
        haystacks.push([`OTLP ${r.path} #${i} (decoded)`, jsonStrings(r.body)]);
      }
      // The request path carries the bot token by Telegram's design; the body is what a chat shows.
      for (const [i, r] of telegram.requests.entries()) {
        haystacks.push([`Telegram #${i}`, r.body]);
        haystacks.push([`Telegram #${i} (decoded)`, jsonStrings(r.body)]);
      }
      const found = haystacks.flatMap(([where, text]) => leaks(text).map((what) => `${what} in ${where}`));
      expect(found).toEqual([]);

      // The secrets did reach every output, masked: the search above looked where they were.
      const spans = spansIn(otlp);
      expect(spans.filter((s) => s.name === 'wallet.scan').length).toBeGreaterThanOrEqual(3 * Object.keys(SECRETS).length);
      expect(spans.filter((s) => s.name === 'trade.execute').length).toBeGreaterThanOrEqual(4 * Object.keys(SECRETS).length);
      expect(spans.some((s) => s.status?.code === 2 && s.status.message?.includes('[REDACTED]'))).toBe(true);
      expect(spans.some((s) => s.events?.some((e) => e.name === 'exception'))).toBe(true);
      expect(spans.some((s) => s.events?.some((e) => e.name === 'retry'))).toBe(true);
      expect(spans.some((s) => s.attributes?.some((a) => a.key === 'polymarket.market_id' && a.value.stringValue === '[REDACTED]'))).toBe(true);
      expect(otlp.requests.some((r) => r.path === '/v1/metrics' && r.body.includes('monitoring_api_requests_total'))).toBe(true);
      const failedTrades = texts().filter((t) => t.includes('PolymarketBotTradeFailed'));
      // Failed trades are coalesced (the first at once, then a digest quoting the commonest errors).
      expect(failedTrades.length).toBeGreaterThanOrEqual(1);
      expect(failedTrades.some((t) => t.includes('[REDACTED]'))).toBe(true);
      expect(texts().some((t) => t.includes('TradeCircuitBreakerOpen') && t.includes('[REDACTED]'))).toBe(true);
      expect(bot.output()).toContain('[REDACTED]');
      expect(jsonStrings(health.body)).toContain('halted: [REDACTED]');
    } finally {
      bot.kill('SIGKILL');
      await Promise.all([otlp.stop(), telegram.stop()]);
    }
  });

  // polymarket.market_id is masked only where it holds a registered secret (a condition id looks
  // like a key by shape and must stay readable), so the registered key must also match without its
  // 0x and in upper case, as signing libraries print it.
  it('masks the private key without its 0x prefix in an exported span', async () => {
    const env = await ports();
    const otlp = await fakeOtlpReceiver().start();
    const bareKey = SECRETS.PRIVATE_KEY.slice(2);
    const bot = spawnBot({
      eval: `import { traceTradeExecution } from 'polymarket-bot-monitoring/probe';
        await traceTradeExecution({ market: ${JSON.stringify(bareKey)}, side: 'BUY', size: 1, price: 0.5 }, async () => ({ status: 'filled' }));
        ${idleBot}`,
      env: {
        ...env,
        PRIVATE_KEY: SECRETS.PRIVATE_KEY,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
    try {
      await otlp.waitFor(() => spansIn(otlp).some((s) => s.name === 'trade.execute'), 'the trade.execute span');
      const found = otlp.requests.flatMap((r, i) => leaks(`${r.body}\n${jsonStrings(r.body)}`).map((what) => `${what} in OTLP ${r.path} #${i}`));
      expect(found).toEqual([]);
    } finally {
      bot.kill('SIGKILL');
      await otlp.stop();
    }
  });

  // Flag names reach main_bot's message, /health and alerts: a bot that passes a credential as a
  // flag name by mistake must not publish it. Only short identifiers that are not a registered
  // secret are kept; the legitimate flag beside them still raises its alert.
  it('keeps secrets used as configuration flag names out of /health, the log and Telegram', async () => {
    const env = await ports();
    const telegram = await fakeTelegramReceiver().start();
    const flags = { ...Object.fromEntries(Object.values(SECRETS).map((s) => [s, false])), dry_run_disabled: false };
    const bot = spawnBot({
      eval: `import { reportComponent } from 'polymarket-bot-monitoring/probe';
        reportComponent('main_bot', { flags: ${JSON.stringify(flags)}, heartbeat: true });
        ${idleBot}`,
      env: { ...env, ...SECRETS, TELEGRAM_CHAT_ID: '-1001234567890', TELEGRAM_API_URL: telegram.url, MONITORING_LOG_LEVEL: 'debug', MONITOR_INTERVAL_SECONDS: '5' },
    });
    try {
      await bot.waitForLine(/monitoring started/);
      await telegram.waitFor((reqs) => reqs.some((r) => r.body.includes('BotConfigFlagOff')), 'the BotConfigFlagOff alert', 20_000);
      let health = await request(Number(env.DASHBOARD_PORT), 'GET', '/health');
      for (const deadline = Date.now() + 10_000; !health.body.includes('"degraded"') && Date.now() < deadline; await sleep(250)) {
        health = await request(Number(env.DASHBOARD_PORT), 'GET', '/health');
      }
      expect(JSON.parse(health.body).components.main_bot.status).toBe('degraded');
      const haystacks: Array<[string, string]> = [
        ['log', bot.output()],
        ['/health', health.raw],
        ...telegram.requests.map((r, i): [string, string] => [`Telegram #${i}`, jsonStrings(r.body)]),
      ];
      expect(haystacks.flatMap(([where, text]) => leaks(text).map((what) => `${what} in ${where}`))).toEqual([]);
    } finally {
      bot.kill('SIGKILL');
      await telegram.stop();
    }
  });
});

describe('the demo bot, monitoring on its defaults', () => {
  let bot: Bot;
  let env: Awaited<ReturnType<typeof ports>>;
  const endpoints = (): Array<{ server: string; port: number; path: string }> => [
    { server: 'metrics', port: Number(env.METRICS_PORT), path: '/metrics' },
    { server: 'health', port: Number(env.DASHBOARD_PORT), path: '/health' },
    { server: 'health', port: Number(env.DASHBOARD_PORT), path: '/livez' },
    { server: 'health', port: Number(env.DASHBOARD_PORT), path: '/readyz' },
  ];
  const servers = (): Array<{ server: string; port: number; path: string }> => endpoints().slice(0, 2);

  beforeAll(async () => {
    env = await ports();
    bot = spawnBot({ env: { ...env, DEMO_SCAN_INTERVAL_MS: '500' } });
    await bot.waitForLine(/monitoring started/);
  });
  afterAll(() => bot.kill('SIGKILL'));

  describe('/health reveals no configuration, path or version', () => {
    /** The JSON example under "Health endpoint" in docs/metrics.md: the documented shape. */
    function documentedHealth(): unknown {
      const doc = readFileSync(path.join(ROOT, 'docs/metrics.md'), 'utf8');
      const section = doc.slice(doc.indexOf('\n## Health endpoint'));
      const json = /```json\n([\s\S]*?)\n```/.exec(section);
      if (!json) throw new Error('no JSON example under "## Health endpoint" in docs/metrics.md');
      return JSON.parse(json[1]!);
    }
    /** Object keys at every level; leaves are just "value". */
    const shape = (v: unknown): unknown =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]))
        : 'value';

    it('has exactly the documented keys at every level', async () => {
      const health = await request(Number(env.DASHBOARD_PORT), 'GET', '/health');
      expect(health.status).toBe(200);
      expect(shape(JSON.parse(health.body))).toEqual(shape(documentedHealth()));
    });

    it('contains no port, address, filesystem path or version string', async () => {
      // After a few scans, so that every component has a message of its own.
      await bot.waitForLine(/scanned \d+ wallets/);
      const { body, headers } = await request(Number(env.DASHBOARD_PORT), 'GET', '/health');
      const text = `${JSON.stringify(headers)}\n${body}`;
      for (const port of [env.METRICS_PORT, env.DASHBOARD_PORT]) expect(text).not.toMatch(new RegExp(`(?<!\\d)${port}(?!\\d)`));
      expect(text).not.toContain('127.0.0.1');
      for (const p of new Set([ROOT, process.cwd(), os.homedir(), os.tmpdir(), REGISTER, DEMO_BOT, '/work', '/home', '/root', '/usr', 'node_modules', 'file:'])) {
        expect(text, p).not.toContain(p);
      }
      // No absolute path of any kind: two or more segments after a slash.
      expect(jsonStrings(body)).not.toMatch(/(?:^|[\s"'(=:])\/[\w.-]+\/[\w.-]+/);
      const otelVersions = readdirSync(path.join(ROOT, 'node_modules/@opentelemetry')).map(
        (name) => (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@opentelemetry', name, 'package.json'), 'utf8')) as { version: string }).version,
      );
      const ownVersion = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
      for (const version of new Set([process.version, process.versions.node, process.versions.v8, ownVersion, ...otelVersions])) {
        expect(text, version).not.toMatch(new RegExp(`(?<![\\d.])${version.replace(/\./g, '\\.')}(?![\\d.])`));
      }
      // Nor anything else shaped like a version or a dotted address, nor the names that would go with one.
      expect(text).not.toMatch(/\d+\.\d+\.\d+/);
      expect(text).not.toMatch(/opentelemetry|node\.js|polymarket-bot-monitoring/i);
      if (os.hostname().length >= 4) expect(text).not.toContain(os.hostname());
    });
  });

  describe('HTTP hardening', () => {
    it('answers only GET and HEAD on every read endpoint: POST, PUT, DELETE, PATCH, OPTIONS, TRACE → 405 with Allow', async () => {
      for (const { port, path: target } of endpoints()) {
        expect((await request(port, 'GET', target)).status, `GET ${target}`).toBe(200);
        const head = await request(port, 'HEAD', target);
        expect(head.status, `HEAD ${target}`).toBe(200);
        expect(head.body, `HEAD ${target}`).toBe('');
        for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
          const res = await request(port, method, target, { 'Content-Length': '0' });
          expect(res.status, `${method} ${target}`).toBe(405);
          expect(res.headers.allow, `${method} ${target}`).toBe('GET, HEAD');
          expect(res.body).toBe('method not allowed\n');
        }
      }
    });

    it('refuses 16 KB of headers (431 or a closed connection) and answers the next request', async () => {
      for (const { port, path: target } of servers()) {
        const oneLarge = `X-Filler: ${'a'.repeat(16 * 1024)}`;
        const many = Array.from({ length: 200 }, (_, i) => `X-Filler-${i}: ${'b'.repeat(80)}`).join('\r\n');
        for (const filler of [oneLarge, many]) {
          const res = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${filler}\r\nConnection: close\r\n\r\n`);
          expect(res.status === 431 || (res.status === null && res.closedByServer), `${target}: ${res.raw.slice(0, 80)}`).toBe(true);
          expect((await request(port, 'GET', target)).status, `${target} after the oversized request`).toBe(200);
        }
      }
    });

    it('answers a GET that carries a 5 MB body without waiting for it, and holds none of it in memory', async () => {
      // A bot of its own that reports its heap and buffers after a full GC on SIGUSR2.
      const ownEnv = await ports();
      const own = spawnBot({
        env: { ...ownEnv, NODE_OPTIONS: '--expose-gc' },
        eval: `process.on('SIGUSR2', () => {
          globalThis.gc(); globalThis.gc();
          const m = process.memoryUsage();
          console.log('memory ' + (m.heapUsed + m.arrayBuffers));
        });
        ${idleBot}`,
      });
      let reports = 0;
      const memory = async (): Promise<number> => {
        reports += 1;
        own.kill('SIGUSR2');
        for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(20)) {
          const lines = own.output().match(/^memory \d+$/gm) ?? [];
          if (lines.length >= reports) return Number(lines[reports - 1]!.slice('memory '.length));
        }
        throw new Error('the bot did not report its memory');
      };
      const FIVE_MB = 5 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 'x');
      try {
        await own.waitForLine(/monitoring started/);
        for (const [port, target] of [
          [Number(ownEnv.METRICS_PORT), '/metrics'],
          [Number(ownEnv.DASHBOARD_PORT), '/health'],
        ] as const) {
          await request(port, 'GET', target); // warm: the first answer allocates what every later one reuses
          const before = await memory();
          const socket = net.connect({ host: '127.0.0.1', port });
          await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
          let received = '';
          socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
          const closed = new Promise((resolve) => socket.once('close', resolve));
          try {
            // 10 MB announced; the answer comes after the first 64 KB: nothing waits for the body.
            await write(socket, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${2 * FIVE_MB}\r\n\r\n`);
            await write(socket, chunk);
            for (const deadline = Date.now() + 5_000; !received.includes('\r\n\r\n') && Date.now() < deadline; ) await sleep(20);
            expect(parseResponse(received).status, `${target} before the body was sent`).toBe(200);
            // 5 MB of it delivered, the request still open: the server holds none of it.
            for (let sent = chunk.length; sent < FIVE_MB; sent += chunk.length) await write(socket, chunk);
            await sleep(200);
            const during = await memory();
            const heldMib = (during - before) / (1024 * 1024);
            expect(heldMib, `${target}: heap and buffers grew ${heldMib.toFixed(2)} MiB with 5 MiB of body received`).toBeLessThan(2);
            // The rest of the body is read past, not taken for a request: the connection serves one more.
            for (let sent = FIVE_MB; sent < 2 * FIVE_MB; sent += chunk.length) await write(socket, chunk);
            await write(socket, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
            await Promise.race([closed, sleep(10_000)]);
            expect(
              parseResponses(received).map((response) => response.status),
              target,
            ).toEqual([200, 200]);
          } finally {
            socket.destroy();
          }
        }
      } finally {
        own.kill('SIGKILL');
      }
    });

    // Node enforces headersTimeout/requestTimeout only on its connectionsCheckingInterval sweep
    // (30 s by default); the servers give each connection a deadline of its own instead, so a
    // partial request is closed after 5 s without a sweep waking the bot every second.
    it('closes a request that never finishes (slowloris) within 15 s on both servers', async () => {
      // A bot of its own: how long the server waits depends on when it started listening.
      const ownEnv = await ports();
      const own = spawnBot({ env: ownEnv, eval: idleBot });
      try {
        await own.waitForLine(/monitoring started/);
        const results = await Promise.all(
          [ownEnv.METRICS_PORT, ownEnv.DASHBOARD_PORT].map((port) => rawExchange(Number(port), 'GET /metrics HT', 15_000)),
        );
        for (const res of results) expect(res.closedByServer).toBe(true);
      } finally {
        own.kill('SIGKILL');
      }
    });

    it('never reflects a path, query or header value in any response', async () => {
      const SCRIPT = '<script>alert(1)</script>';
      const MARKER = 'reflect-7f3a9c2e';
      const headers = { 'X-Probe': `${MARKER} ${SCRIPT}`, 'User-Agent': `${MARKER}-agent`, Referer: `http://${MARKER}.example/${SCRIPT}`, Cookie: `session=${MARKER}` };
      for (const { port, path: target } of endpoints()) {
        const targets = [`/${SCRIPT}`, `${target}?q=${SCRIPT}`, `${target}?${SCRIPT}=1`, `${target}/${SCRIPT}`, `/${encodeURIComponent(SCRIPT)}`, `${target}?${MARKER}`];
        for (const t of targets) {
          for (const method of ['GET', 'HEAD', 'POST']) {
            const res = await request(port, method, t, headers);
            expect(res.status, `${method} ${t}`).not.toBeNull();
            for (const needle of ['<script', 'alert(1)', '%3Cscript', '%3cscript', MARKER]) {
              expect(res.raw.toLowerCase().includes(needle.toLowerCase()), `${needle} reflected by ${method} ${t} on port ${port}`).toBe(false);
            }
          }
        }
      }
    });

    it('answers unknown paths with 404 and the same fixed body', async () => {
      const unknown = ['/', '/metric', '/metrics/', '/health/', '/healthz', '/.env', '/../../etc/passwd', '/admin/circuit-breaker/reset', `/${'a'.repeat(2000)}`];
      const wrongServer = [
        { port: Number(env.METRICS_PORT), path: '/health' },
        { port: Number(env.METRICS_PORT), path: '/livez' },
        { port: Number(env.DASHBOARD_PORT), path: '/metrics' },
      ];
      const cases = [
        ...servers().flatMap(({ port }) => unknown.map((p) => ({ port, path: p }))),
        ...wrongServer,
      ];
      for (const { port, path: target } of cases) {
        for (const method of ['GET', 'POST']) {
          const res = await request(port, method, target);
          expect(res.status, `${method} ${target.slice(0, 40)} on ${port}`).toBe(404);
          expect(res.body).toBe('not found\n');
          expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        }
      }
    });
  });
});

describe('supply chain', () => {
  it('commits package-lock.json with lockfileVersion 3 or later', () => {
    const lockPath = path.join(ROOT, 'package-lock.json');
    expect(existsSync(lockPath)).toBe(true);
    expect(execFileSync('git', ['ls-files', '--error-unmatch', 'package-lock.json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()).toBe('package-lock.json');
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { lockfileVersion: number; packages: Record<string, { dependencies?: Record<string, string> }> };
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(3);
    // The lock describes this package.json's production dependencies, not an older set.
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(lock.packages['']?.dependencies).toEqual(manifest.dependencies);
  });

  it('runs no install script of any production dependency: the only ones that have one are denied in allowScripts', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    const parseable = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const dirs = [...new Set(parseable.split('\n').map((l) => l.trim()).filter((l) => l !== '' && path.resolve(l) !== ROOT))];
    expect(dirs.length).toBeGreaterThan(20);
    const withScripts: string[] = [];
    for (const dir of dirs) {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; scripts?: Record<string, string>; gypfile?: boolean };
      const hooks = ['preinstall', 'install', 'postinstall'].filter((hook) => pkg.scripts?.[hook]);
      // npm runs `node-gyp rebuild` for a binding.gyp even without an install script.
      if (hooks.length > 0 || pkg.gypfile === true || existsSync(path.join(dir, 'binding.gyp'))) withScripts.push(`${pkg.name}@${pkg.version}`);
    }
    const allowScripts = manifest.allowScripts ?? {};
    const denied = (id: string): boolean => {
      const name = id.slice(0, id.lastIndexOf('@'));
      return allowScripts[id] === false || (allowScripts[id] === undefined && allowScripts[name] === false);
    };
    expect(withScripts.filter((id) => !denied(id)), 'production dependencies whose install scripts would run').toEqual([]);
    // And no production package is allowed to run one, whether it has one today or not.
    const prodNames = new Set(dirs.map((dir) => (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string }).name));
    expect(Object.entries(allowScripts).filter(([id, allowed]) => allowed && prodNames.has(id.replace(/(?<=.)@[^@]*$/, '')))).toEqual([]);
  });
});
