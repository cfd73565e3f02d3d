/**
 * Fault injection, the bot misbehaving: scripted bots (inline modules importing the probe) run
 * with the preload, /metrics scraped on a free port. The bot throws, rejects, never settles, runs
 * 10 000 operations a second, blocks its own loop, floods the labels, jumps its clock and soaks
 * for minutes — and the plugin must pass every error through untouched, count what can be
 * counted, keep its series bounded and its memory flat, and never crash or print nonsense.
 * `npm run test:faults` builds dist/ first; FAULTS_SOAK_SECONDS (default 300) sets the soak.
 */
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { OUTCOMES } from '../../src/core/model.js';
import { get, parseExposition } from '../e2e/harness.js';
import {
  PROBE,
  alertLines,
  killAll,
  labelValues,
  pluginLines,
  problems,
  ready,
  run,
  scrape,
  senselessSamples,
  seriesPerMetric,
  sleep,
  total,
  twoPorts,
  value,
  within,
  type Run,
  type Sample,
} from './support-bot.js';

// Each test kills the bots it started when it finishes (the soak's two run side by side); this is
// the safety net.
afterAll(() => killAll());

type Cleanup = (fn: () => void) => void;

const SCAN = 'monitoring_wallet_scan_duration_seconds';
const TRADE = 'monitoring_trade_execution_duration_seconds';
const ADDRESS = /0x[0-9a-fA-F]{40}/;
const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(2)} MB`;

/** Helpers every scripted bot starts with: deterministic distinct addresses, a forced-GC heap reading. */
const PRELUDE = `
import { traceWalletScan, traceTradeExecution, reportApiCall, reportDailyPnl, reportComponent } from '${PROBE}';
const address = (n, width = 40) => '0x' + n.toString(16).padStart(width, '0');
const heapUsed = () => { globalThis.gc?.(); globalThis.gc?.(); return process.memoryUsage().heapUsed; };
const report = (tag, data) => console.log(tag + ' ' + JSON.stringify(data));
`;

/**
 * Spawns `source` (after the prelude) with the preload on free ports; resolves once ready. The
 * bot is killed when the test finishes (`finished`: the test context's own, for concurrent tests).
 */
async function monitored(source: string, env: Record<string, string | undefined> = {}, finished: Cleanup = onTestFinished) {
  const ports = await twoPorts();
  const r = run({ eval: PRELUDE + source, env: { ...ports, MONITOR_INTERVAL_SECONDS: '5', CIRCUIT_BREAKER_ENABLED: 'false', ...env } });
  finished(() => r.bot.kill('SIGKILL'));
  await ready(r, true, 30_000);
  return { r, metricsPort: ports.METRICS_PORT, healthPort: ports.DASHBOARD_PORT };
}

/** The same bot without the plugin. */
async function bare(source: string, env: Record<string, string | undefined> = {}, finished: Cleanup = onTestFinished): Promise<Run> {
  const r = run({ eval: PRELUDE + source, preload: false, env });
  finished(() => r.bot.kill('SIGKILL'));
  await ready(r, false, 30_000);
  return r;
}

async function reportFrom<T>(r: Run, tag: string, timeoutMs = 30_000): Promise<T> {
  await r.bot.waitForLine(new RegExp(`^${tag} `), timeoutMs);
  return r.reports<T>(tag)[0]!;
}

describe('errors and results pass through unchanged', () => {
  /**
   * Throws and rejects every kind of value from scans and trades (sync throw, async throw, a
   * returned rejection, a rejection a moment later), checks `caught === thrown` each time, and
   * reports. On SIGUSR2 it does the same with values that cannot even be turned into text.
   */
  const thrower = `
const wallet = address(1);
const order = { market: address(2, 64), side: 'BUY', size: 5, price: 0.5, sourceWallet: wallet };
const ordinary = () => [new Error('boom'), new RangeError('out of range'), Object.assign(new Error('with a code'), { code: 'E_BOT' }),
  'a string', 0, null, undefined, { reason: 'a plain object' }, Symbol('a symbol'), Promise.resolve('a promise as the reason')];
const odd = () => [Object.create(null), { toString() { throw new Error('no text for you'); } }];
const NOT_THROWN = Symbol('not thrown');
async function throwEverything(values, rounds) {
  const v = { checked: 0, mismatches: [], scanErrors: 0, tradeErrors: 0 };
  const same = (where, thrown, caught) => { v.checked++; if (!Object.is(caught, thrown)) v.mismatches.push(where + ' (' + typeof thrown + ')'); };
  for (let round = 0; round < rounds; round++) for (const thrown of values()) {
    let caught = NOT_THROWN;
    try { traceWalletScan(wallet, () => { throw thrown; }); } catch (e) { caught = e; }
    same('scan: sync throw', thrown, caught); v.scanErrors++;
    caught = NOT_THROWN;
    try { await traceWalletScan(wallet, async () => { await null; throw thrown; }); } catch (e) { caught = e; }
    same('scan: async throw', thrown, caught); v.scanErrors++;
    caught = NOT_THROWN;
    try { await traceWalletScan(wallet, () => Promise.reject(thrown)); } catch (e) { caught = e; }
    same('scan: returned rejection', thrown, caught); v.scanErrors++;
    caught = NOT_THROWN;
    try { traceTradeExecution(order, () => { throw thrown; }); } catch (e) { caught = e; }
    same('trade: sync throw', thrown, caught); v.tradeErrors++;
    caught = NOT_THROWN;
    await traceTradeExecution(order, () => new Promise((_, reject) => setTimeout(() => reject(thrown), 1)))
      .then(() => {}, (e) => { caught = e; });
    same('trade: later rejection', thrown, caught); v.tradeErrors++;
  }
  return v;
}
const result = { status: 'filled', orderId: 'abc' };
let values = 0;
if (traceWalletScan(wallet, () => result) === result) values++;
if ((await traceWalletScan(wallet, async () => result)) === result) values++;
if (traceTradeExecution(order, () => result) === result) values++;
if ((await traceTradeExecution(order, async () => result)) === result) values++;
const only = process.env.ODD_ONLY === '1';
report('VERDICT', { ...(await throwEverything(only ? odd : ordinary, only ? 10 : 20)), values });
process.on('SIGUSR2', async () => report('ODD', await throwEverything(odd, 10)));
setInterval(() => {}, 1000);
console.log('bot ready');
`;

  interface Verdict {
    checked: number;
    mismatches: string[];
    scanErrors: number;
    tradeErrors: number;
    values?: number;
  }

  it('every thrown or rejected value reaches the bot as itself; each is counted as outcome="error"', async () => {
    const { r, metricsPort } = await monitored(thrower);
    const verdict = await reportFrom<Verdict>(r, 'VERDICT');
    expect(verdict.mismatches).toEqual([]);
    expect(verdict.checked).toBe(20 * 10 * 5);
    expect(verdict.values).toBe(4);

    const samples = await scrape(metricsPort);
    expect(value(samples, `${SCAN}_count`, { outcome: 'error' })).toBe(verdict.scanErrors);
    // The bot's own `status: 'filled'` result: a fill, in the outcome table's words.
    expect(value(samples, `${SCAN}_count`, { outcome: 'filled' })).toBe(2);
    expect(value(samples, `${TRADE}_count`, { side: 'buy', outcome: 'error' })).toBe(verdict.tradeErrors);
    expect(value(samples, `${TRADE}_count`, { side: 'buy', outcome: 'filled' })).toBe(2);
    expect(problems(r.stderr())).toEqual([]);

    // Values with no text at all (no toString, a throwing toString) still come back as themselves.
    r.bot.kill('SIGUSR2');
    const odd = await reportFrom<Verdict>(r, 'ODD');
    expect(odd.mismatches).toEqual([]);
    expect(odd.checked).toBe(10 * 2 * 5);

    // Without the plugin the bot sees exactly the same.
    const without = await bare(thrower);
    expect(await reportFrom<Verdict>(without, 'VERDICT')).toEqual(verdict);
    console.log(`errors: ${verdict.checked} throws/rejections checked, all identical; ${verdict.scanErrors} scan and ${verdict.tradeErrors} trade errors counted exactly`);
  });

  // BUG (src/telemetry/subscribers.ts:112, errorText): `String(error)` throws for a thrown value
  // that has no usable toString (Object.create(null), a throwing toString, a revoked Proxy), so
  // `finish` stops before `record`: the scan or trade is not counted in its histogram (nor its span
  // ended, nor its TradeFailed notice sent), and `guard` logs one "subscriber … failed" warning
  // per operation — unbounded log volume from a bot in a retry loop. Injected: 10 rounds of such
  // values thrown from scans and trades. Happened: the error histograms stay at 0 and 100 warn
  // lines appear. Should: count them as outcome="error" (describe the value defensively) and log
  // nothing per operation.
  it('thrown values without a text form are counted too, without a log line per operation', async () => {
    const { r, metricsPort } = await monitored(thrower, { ODD_ONLY: '1' });
    const verdict = await reportFrom<Verdict>(r, 'VERDICT');
    expect(verdict.mismatches).toEqual([]);
    const samples = await scrape(metricsPort);
    expect(problems(r.stderr()).map((l) => l.message)).toEqual([]);
    expect(value(samples, `${SCAN}_count`, { outcome: 'error' })).toBe(verdict.scanErrors);
    expect(value(samples, `${TRADE}_count`, { side: 'buy', outcome: 'error' })).toBe(verdict.tradeErrors);
  });
});

describe('10 000 traced operations a second', () => {
  interface LoopReport {
    done: number;
    seconds: number;
    cpuMs: number;
    mismatches: number;
    counts: Record<string, number>;
  }

  /**
   * For LOOP_SECONDS, runs 10 000 operations a second in a tight async loop (every millisecond
   * or so, the ones due, all at once): half scans, half trades; sync and async; successes, failures by
   * status, throws and rejections. Counts what it did per histogram series, checks every error's
   * identity, and measures its own CPU.
   */
  const loop = `
const RATE = 10_000;
const SECONDS = Number(process.env.LOOP_SECONDS);
const boom = new Error('boom');
const counts = {};
const count = (key) => { counts[key] = (counts[key] ?? 0) + 1; };
let done = 0, mismatches = 0;
const one = (n) => {
  const wallet = address(n);
  const kind = n % 8;
  if (n % 2 === 0) {
    const op = kind === 0 ? () => { throw boom; } : kind === 2 ? async () => { throw boom; } : kind === 4 ? () => ({ status: 'failed' }) : async () => ({ trades: [] });
    count('scan:' + (kind === 0 || kind === 2 ? 'error' : kind === 4 ? 'failed' : 'success'));
    try {
      const result = traceWalletScan(wallet, op);
      return result instanceof Promise ? result.catch((e) => { if (e !== boom) mismatches++; }) : undefined;
    } catch (e) { if (e !== boom) mismatches++; }
  } else {
    const side = n % 3 === 0 ? 'SELL' : 'BUY';
    const op = kind === 1 ? async () => { throw boom; } : kind === 3 ? () => ({ status: 'rejected' }) : async () => ({ status: 'filled' });
    count('trade:' + side.toLowerCase() + ':' + (kind === 1 ? 'error' : kind === 3 ? 'rejected' : 'filled'));
    try {
      const result = traceTradeExecution({ market: address(n, 64), side, size: 1, price: 0.5, sourceWallet: wallet }, op);
      return result instanceof Promise ? result.catch((e) => { if (e !== boom) mismatches++; }) : undefined;
    } catch (e) { if (e !== boom) mismatches++; }
  }
};
console.log('bot ready');
const cpu = process.cpuUsage();
const started = performance.now();
while (performance.now() - started < SECONDS * 1000) {
  const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - started) / 1000) * RATE));
  const pending = [];
  for (; done < due; done++) pending.push(one(done));
  await Promise.all(pending);
  // Yield to timers (and so to I/O) for about a millisecond: the CPU measured is the work's, not a spin's.
  await new Promise((resolve) => setTimeout(resolve, 1));
}
const used = process.cpuUsage(cpu);
report('LOOP', { done, seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000, mismatches, counts });
setInterval(() => {}, 1000);
`;

  it('keeps its pace, every error passes through, every operation is counted', async () => {
    const seconds = 5;
    const { r, metricsPort } = await monitored(loop, { LOOP_SECONDS: String(seconds) });
    const withPlugin = await reportFrom<LoopReport>(r, 'LOOP');
    const without = await reportFrom<LoopReport>(await bare(loop, { LOOP_SECONDS: String(seconds) }), 'LOOP');

    expect(withPlugin.mismatches).toBe(0);
    // The loop is paced at 10 000/s: with the plugin it still gets through (nearly) all of them.
    expect(withPlugin.done).toBeGreaterThanOrEqual(0.95 * 10_000 * seconds);
    const samples = await scrape(metricsPort);
    for (const [key, n] of Object.entries(withPlugin.counts)) {
      const [kind, a, b] = key.split(':');
      const counted = kind === 'scan' ? value(samples, `${SCAN}_count`, { outcome: a! }) : value(samples, `${TRADE}_count`, { side: a!, outcome: b! });
      expect(counted, key).toBe(n);
    }
    expect(total(samples, `${SCAN}_count`) + total(samples, `${TRADE}_count`)).toBe(withPlugin.done);
    expect(senselessSamples(samples)).toEqual([]);
    expect(problems(r.stderr())).toEqual([]);

    const rate = (l: LoopReport) => Math.round(l.done / l.seconds);
    const perOp = (l: LoopReport) => ((l.cpuMs * 1000) / l.done).toFixed(1);
    const alerts = alertLines(r.stderr()).length;
    console.log(
      `tight loop: ${rate(withPlugin)} ops/s with the plugin, ${rate(without)} without; CPU ${perOp(withPlugin)} µs/op with, ${perOp(without)} µs/op without; ` +
        `${alerts} alert log lines (TradeFailed notices; TradeExecuted is a debug line)`,
    );
  });

  it.each([
    { spans: 'without spans', env: {} },
    // Spans on (OTLP traces to a port nobody listens on): a span that is started and never ended
    // must not be kept either. Nothing is ever exported, as nothing ever ends.
    { spans: 'with spans', env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' } },
  ])('operations that never settle leak nothing that grows ($spans)', async ({ env }) => {
    /** 12 batches of 10 000 scans and trades that never settle; heap after a forced GC after each. */
    const neverSettle = `
const BATCH = 10_000;
const heap = [];
for (let b = 0; b < 12; b++) {
  for (let i = 0; i < BATCH; i++) {
    const n = b * BATCH + i;
    if (n % 2) void traceWalletScan(address(n), () => new Promise(() => {}));
    else void traceTradeExecution({ market: address(n, 64), side: 'BUY', sourceWallet: address(n) }, async () => { await new Promise(() => {}); });
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  heap.push(heapUsed());
}
report('HEAP', heap);
setInterval(() => {}, 1000);
console.log('bot ready');
`;
    const gcEnv = { NODE_OPTIONS: '--expose-gc' };
    const { r, metricsPort } = await monitored(neverSettle, { ...gcEnv, ...env });
    const heap = r.reports<number[]>('HEAP')[0]!;
    const withoutHeap = await reportFrom<number[]>(await bare(neverSettle, gcEnv), 'HEAP');
    // From the third batch on (start-up allocations settled) to the last: 100 000 operations.
    const growth = heap.at(-1)! - heap[2]!;
    const bareGrowth = withoutHeap.at(-1)! - withoutHeap[2]!;
    console.log(`never settling (${env.OTEL_TRACES_EXPORTER ? 'spans' : 'no spans'}): heap ${mb(growth)} over 100 000 pending operations with the plugin (${((growth / 100_000)).toFixed(1)} B/op), ${mb(bareGrowth)} without`);
    expect(growth).toBeLessThan(2 * MB);
    // An operation that never ends is never counted.
    const samples = await scrape(metricsPort);
    expect(total(samples, `${SCAN}_count`) + total(samples, `${TRADE}_count`)).toBe(0);
    expect(problems(r.stderr())).toEqual([]);
  });
});

describe('the bot blocks its own event loop', () => {
  it('for 2 s: the plugin survives and the next cycle reports a 1–2 s maximum delay', async () => {
    const blocker = `
let scans = 0;
setInterval(() => traceWalletScan(address(7), () => ++scans), 100);
process.on('SIGUSR2', () => {
  const started = performance.now();
  while (performance.now() - started < 2000) { /* the bot's own synchronous work */ }
  console.log('bot unblocked after ' + scans + ' scans');
});
console.log('bot ready');
`;
    const { r, metricsPort, healthPort } = await monitored(blocker);
    const cycles = (samples: Sample[]) => total(samples, 'monitoring_health_checks_total');
    const before = cycles(await scrape(metricsPort));
    r.bot.kill('SIGUSR2');
    await r.bot.waitForLine(/bot unblocked/);
    const unblockedAt = Date.now();

    // The delay window closes at the next evaluation cycle (5 s apart): poll until it shows.
    let max = 0;
    let samples: Sample[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(250)) {
      samples = await scrape(metricsPort);
      max = value(samples, 'monitoring_eventloop_delay_max_seconds') ?? 0;
      if (max > 0.9) break;
    }
    const shownAfter = Date.now() - unblockedAt;
    console.log(`blocked loop: monitoring_eventloop_delay_max_seconds = ${max.toFixed(3)} s, shown ${shownAfter} ms after the block ended (p99 ${value(samples, 'monitoring_eventloop_delay_p99_seconds')?.toFixed(3)} s)`);
    // How late the monitor's 1 s timer ran: the block, less up to one period (the part of the
    // block before the timer was due), so 1–2 s for a 2 s block.
    expect(max).toBeGreaterThan(0.95);
    expect(max).toBeLessThan(2.6);
    expect(shownAfter).toBeLessThan(5_000 + 1_000); // at the next cycle

    // The plugin carries on: cycles keep running, /health answers, the bot keeps scanning.
    const after = await within(
      (async () => {
        for (;;) {
          const s = await scrape(metricsPort);
          if (cycles(s) > cycles(samples)) return s;
          await sleep(250);
        }
      })(),
      10_000,
      'the cycle after the block',
    );
    expect(cycles(after)).toBeGreaterThan(before);
    // The block is out of the window now.
    expect(value(after, 'monitoring_eventloop_delay_max_seconds')).toBeLessThan(0.5);
    expect((await fetch(`http://127.0.0.1:${healthPort}/health`)).status).toBe(200);
    expect(r.bot.child.exitCode).toBeNull();
    expect(senselessSamples(after)).toEqual([]);
    expect(problems(r.stderr())).toEqual([]);
  });
});

describe('unbounded values from the bot', () => {
  it('10 000 wallets and 10 000 api names: labels capped (7 outcomes, 21 apis), no address in any label or log line', async () => {
    const flood = `
const words = [undefined, 'failed', 'skipped', 'rejected', 'invalid', 'THROW', 'weird status', '0x' + 'ab'.repeat(20)];
for (let n = 0; n < 10_000; n++) {
  const word = words[n % words.length];
  try {
    traceWalletScan(address(n), () => { if (word === 'THROW') throw new Error('scan of ' + address(n) + ' failed'); return word === undefined ? [] : { status: word }; });
  } catch {}
  try {
    traceTradeExecution({ market: address(n, 64), side: ['BUY', 'SELL', address(n), 'b', 'ask'][n % 5], size: n, price: 0.5, sourceWallet: address(n) },
      () => { if (word === 'THROW') throw new Error('order from ' + address(n) + ' refused'); return { outcome: word ?? 'filled' }; });
  } catch {}
  reportApiCall({ api: n % 10 === 9 ? address(n) : n % 10 === 8 ? 'Api Number ' + n : 'api_' + n, ok: n % 3 !== 0, durationMs: n % 500, status: 200, attempt: 1 + (n % 3) });
  reportComponent(n % 2 ? 'wallet_monitor' : address(n), { walletsWatched: n, lastScanAt: Date.now() });
}
setInterval(() => {}, 1000);
console.log('bot ready');
`;
    const { r, metricsPort } = await monitored(flood);
    const { body } = await get(`http://127.0.0.1:${metricsPort}/metrics`);
    const samples = parseExposition(body);
    const series = seriesPerMetric(samples);
    const count = (name: string) => series.get(name)?.size ?? 0;

    expect(count(SCAN)).toBeLessThanOrEqual(7);
    expect([...labelValues(samples, `${SCAN}_count`, 'outcome')].every((o) => (OUTCOMES as readonly string[]).includes(o))).toBe(true);
    expect(count(TRADE)).toBeLessThanOrEqual(3 * 7);
    const apis = labelValues(samples, 'monitoring_api_requests_total', 'api');
    expect(apis.size).toBeLessThanOrEqual(21);
    expect(apis.has('other')).toBe(true);
    for (const name of ['monitoring_api_success_ratio', 'monitoring_api_consecutive_failures']) expect(count(name)).toBeLessThanOrEqual(21);
    expect(count('monitoring_api_requests_total')).toBeLessThanOrEqual(21 * 2);
    // Every series of the plugin's own stays far under the SDK's overflow cap.
    for (const [name, set] of series) if (name.startsWith('monitoring_')) expect(set.size, name).toBeLessThanOrEqual(50);
    // The 10 000 operations were all counted, under those few labels.
    expect(total(samples, `${SCAN}_count`)).toBe(10_000);
    expect(total(samples, `${TRADE}_count`)).toBe(10_000);

    for (const s of samples) for (const v of Object.values(s.labels)) expect(v).not.toMatch(ADDRESS);
    expect(body).not.toMatch(ADDRESS);
    for (const line of pluginLines(r.stderr())) expect(line.message).not.toMatch(ADDRESS);
    expect(problems(r.stderr())).toEqual([]);
    console.log(`cardinality: scan histogram ${count(SCAN)} series, trade histogram ${count(TRADE)}, api label ${apis.size} values; exposition ${body.split('\n').length} lines`);
  });

  // BUG (src/telemetry/subscribers.ts:265): `probeApis.add(api)` keeps every distinct api name the
  // probe ever reported — the name before the 20-api cap (`ApiHealth.record` folds the rest into
  // `other` for the labels, but this Set is keyed by the raw name) — so a bot that puts anything
  // variable in `api` (an order id, a path, a host with a port) grows the plugin's heap forever.
  // Injected: 500 000 distinct, well-formed api names (`order_<n>`). Happened: the heap grows by
  // ~45 bytes per name (~20 MB), linearly; without the plugin it stays flat. Should: bounded —
  // remember only names fetch could ever be mapped to (the apiHosts values), or the capped label.
  it('distinct api names without end: the plugin keeps no memory of each', async () => {
    const names = `
const heap = [];
let n = 0;
for (let round = 0; round < 10; round++) {
  for (let i = 0; i < 50_000; i++, n++) reportApiCall({ api: 'order_' + n, ok: n % 4 !== 0, durationMs: 3 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  heap.push(heapUsed());
}
report('HEAP', heap);
setInterval(() => {}, 1000);
console.log('bot ready');
`;
    const { r } = await monitored(names, { NODE_OPTIONS: '--expose-gc' });
    const heap = r.reports<number[]>('HEAP')[0]!;
    const growth = heap.at(-1)! - heap[1]!;
    console.log(`distinct api names: heap grew ${mb(growth)} over 450 000 names (${(growth / 450_000).toFixed(1)} B/name)`);
    expect(growth).toBeLessThan(4 * MB);
  });
});

describe('the bot jumps its clock', () => {
  /**
   * A busy, loss-making bot (a 13 % daily loss keeps the DailyLoss warning firing): scans, trades,
   * API calls, heartbeats and component reports, timestamps from Date.now. Date.now is its own
   * monkeypatch; each SIGUSR2 steps it: +1 h, then −2 h.
   */
  const jumper = (patch: string) => `
${patch}
const steps = [3_600_000, -7_200_000];
process.on('SIGUSR2', () => {
  setOffset(getOffset() + steps.shift());
  console.log('clock now ' + new Date(Date.now()).toISOString());
});
let n = 0;
setInterval(() => {
  n++;
  traceWalletScan(address(n % 25), async () => { await null; return n % 10 === 0 ? { status: 'failed' } : { trades: [] }; });
  if (n % 5 === 0) traceTradeExecution({ market: address(n, 64), side: 'BUY', size: 5, price: 0.5, sourceWallet: address(n % 25) }, async () => ({ status: 'filled' }));
  reportApiCall({ api: 'data_api', ok: n % 7 !== 0, durationMs: 40, status: 200 });
  reportComponent('main_bot', { flags: { signing_key_present: true }, heartbeat: true });
  reportComponent('wallet_monitor', { walletsWatched: 25, memoryMb: 50, lastScanAt: Date.now() });
  reportComponent('trade_executor', { circuitBreakerOpen: false, consecutiveLosses: 1, openPositions: 2 });
  reportDailyPnl({ pnlUsd: -1300, startingBalanceUsd: 10_000 });
}, 100);
console.log('bot ready');
`;
  // Installed before the preload (NODE_OPTIONS --import of a data: module), the patch is the clock
  // the plugin captured at start: plugin and bot both jump, as on a real clock step.
  const shim = 'const realNow = Date.now; globalThis.__clockOffsetMs = 0; Date.now = () => realNow() + globalThis.__clockOffsetMs;';
  const variants = [
    {
      when: 'installed before the preload (the plugin jumps too)',
      env: { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(shim)}` },
      patch: 'const getOffset = () => globalThis.__clockOffsetMs; const setOffset = (ms) => { globalThis.__clockOffsetMs = ms; };',
    },
    {
      when: 'made by the bot after start (only the bot jumps)',
      env: {},
      patch: 'const realNow = Date.now; let offset = 0; Date.now = () => realNow() + offset; const getOffset = () => offset; const setOffset = (ms) => { offset = ms; };',
    },
  ];

  it.each(variants)('Date.now +1 h then −2 h, $when: nothing NaN or negative, no crash, no alert flood', async ({ env, patch }) => {
    const { r, metricsPort, healthPort } = await monitored(jumper(patch), env);
    const nonsense: string[] = [];
    let scrapes = 0;
    const check = async (): Promise<Sample[]> => {
      const samples = await scrape(metricsPort);
      scrapes++;
      nonsense.push(...senselessSamples(samples));
      const health = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as { performance: Record<string, number> };
      for (const [k, v] of Object.entries(health.performance)) if (!Number.isFinite(v) || v < 0) nonsense.push(`/health performance.${k} = ${v}`);
      return samples;
    };
    const watch = async (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; await sleep(1_000)) await check();
    };
    await watch(6_000); // past the second cycle: the DailyLoss warning has fired
    r.bot.kill('SIGUSR2');
    await r.bot.waitForLine(/clock now/);
    await watch(6_000);
    r.bot.kill('SIGUSR2');
    await watch(6_000);
    const last = await check();

    expect(r.bot.child.exitCode).toBeNull();
    expect(r.stdout().match(/clock now/g)).toHaveLength(2);
    expect(nonsense).toEqual([]);
    expect(total(last, 'monitoring_health_checks_total')).toBeGreaterThanOrEqual(4);
    const alerts = alertLines(r.stderr());
    const notices = alerts.filter((l) => l.rule === 'PolymarketBotTradeExecuted' || l.rule === 'PolymarketBotTradeFailed');
    const others = alerts.filter((l) => !notices.includes(l));
    console.log(
      `clock jump (${env.NODE_OPTIONS ? 'plugin and bot' : 'bot only'}): ${scrapes} scrapes, all finite and in range; ${others.length} alert lines besides ${notices.length} per-trade notices: ${others.map((l) => `${String(l.rule)}/${String(l.kind)}`).join(', ')}`,
    );
    // The DailyLoss warning, at most a reminder after the hour's step, a resolution or two: few.
    expect(others.length).toBeLessThanOrEqual(5);
    expect(problems(r.stderr())).toEqual([]);
  });
});

// The soak, and the same workload never scraped, side by side (minutes each; separate processes).
describe.concurrent('soak', () => {
  const SOAK_SECONDS = Number(process.env.FAULTS_SOAK_SECONDS ?? 300);

  interface HeapReport {
    t: number;
    heapUsed: number;
    rss: number;
  }
  interface SoakReport {
    seconds: number;
    scans: Record<string, number>;
    trades: number;
    apiCalls: number;
    pending: number;
  }

  /**
   * ~1 000 traced operations a second for SOAK_SECONDS: every 10 ms, 7 scans of fresh wallets
   * (latency 0–20 ms, 10 % rejected, 5 % "skipped") and 3 API calls over 30 rotating names (more
   * than the 20 the plugin tracks); every 100 ms a trade of a fresh market (10 % rejected: each
   * trade is also an alert log line); once a second the PnL, components, and one scan that never
   * settles. Every 10 s the heap after a forced GC.
   */
  const soak = `
const SECONDS = Number(process.env.SOAK_SECONDS);
const refused = new Error('refused');
const scans = { success: 0, error: 0, skipped: 0 };
let trades = 0, apiCalls = 0, pending = 0, n = 0;
const started = performance.now();
const later = (ms, fn) => new Promise((resolve, reject) => setTimeout(() => { try { resolve(fn()); } catch (e) { reject(e); } }, ms));
const work = setInterval(() => {
  for (let i = 0; i < 7; i++) {
    n++;
    const roll = n % 20;
    const outcome = roll < 2 ? 'error' : roll === 2 ? 'skipped' : 'success';
    scans[outcome]++;
    traceWalletScan(address(n), () => later(n % 21, () => { if (outcome === 'error') throw refused; return outcome === 'skipped' ? { status: 'skipped' } : { trades: [] }; }))
      .catch((e) => { if (e !== refused) throw e; });
  }
  if (n % 70 === 0) {
    trades++;
    const fails = trades % 10 === 0;
    traceTradeExecution({ market: address(n, 64), side: trades % 2 ? 'BUY' : 'SELL', size: 10, price: 0.5, sourceWallet: address(n) },
      () => later(n % 13, () => { if (fails) throw refused; return { status: 'filled' }; })).catch((e) => { if (e !== refused) throw e; });
  }
  for (let i = 0; i < 3; i++) { apiCalls++; reportApiCall({ api: 'api_' + ((n + i) % 30), ok: (n + i) % 9 !== 0, durationMs: (n + i) % 300, status: 200, attempt: 1 }); }
}, 10);
const seconds = setInterval(() => {
  reportDailyPnl({ pnlUsd: -100 + (n % 200), startingBalanceUsd: 10_000 });
  reportComponent('main_bot', { flags: { signing_key_present: true }, heartbeat: true });
  reportComponent('wallet_monitor', { walletsWatched: 25, memoryMb: 80, lastScanAt: Date.now() });
  reportComponent('trade_executor', { circuitBreakerOpen: false, consecutiveLosses: 0, openPositions: 3 });
  pending++;
  void traceWalletScan(address(n), () => new Promise(() => {}));
}, 1000);
const heap = setInterval(() => {
  report('HEAP', { t: Math.round((performance.now() - started) / 1000), heapUsed: heapUsed(), rss: process.memoryUsage.rss() });
}, 10_000);
setTimeout(async () => {
  clearInterval(work); clearInterval(seconds); clearInterval(heap);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the last scans and trades settle
  report('SOAK', { seconds: (performance.now() - started) / 1000, scans, trades, apiCalls, pending });
  setInterval(() => {}, 1000);
}, SECONDS * 1000);
process.on('SIGUSR2', () => report('HEAP_NOW', { heapUsed: heapUsed() }));
console.log('bot ready');
`;

  it(
    `~1 000 traced operations a second for ${SOAK_SECONDS} s: heap flat after the first minute, every operation counted, nothing NaN or negative`,
    async ({ expect, onTestFinished }) => {
      const { r, metricsPort } = await monitored(soak, { SOAK_SECONDS: String(SOAK_SECONDS), NODE_OPTIONS: '--expose-gc' }, onTestFinished);
      const nonsense = new Set<string>();
      let scrapes = 0;
      let worstP99 = 0;
      let worstScrapeMs = 0;
      // Prometheus at 1 s: every scrape parsed and checked. (Not waitForLine: it rescans the whole
      // output on every chunk, and a soak's output is long.)
      const deadline = Date.now() + (SOAK_SECONDS + 60) * 1000;
      while (r.reports('SOAK').length === 0) {
        if (Date.now() > deadline) throw new Error('the soak did not end in time');
        const started = Date.now();
        const samples = await scrape(metricsPort, 10_000);
        worstScrapeMs = Math.max(worstScrapeMs, Date.now() - started);
        scrapes++;
        for (const bad of senselessSamples(samples)) nonsense.add(bad);
        worstP99 = Math.max(worstP99, value(samples, 'monitoring_eventloop_delay_p99_seconds') ?? 0);
        await sleep(Math.max(0, 1_000 - (Date.now() - started)));
      }
      const report = r.reports<SoakReport>('SOAK')[0]!;
      const heap = r.reports<HeapReport>('HEAP');
      const samples = await scrape(metricsPort);

      // Memory: from minute 1 (or half-way through a shorter soak) to the end.
      const from = heap.find((h) => h.t >= Math.min(60, SOAK_SECONDS / 2)) ?? heap[0]!;
      const to = heap.at(-1)!;
      const growth = to.heapUsed - from.heapUsed;
      const minutes = (to.t - from.t) / 60;
      const ops = Object.values(report.scans).reduce((a, b) => a + b, 0) + report.trades + report.apiCalls;
      console.log(
        `soak ${report.seconds.toFixed(0)} s, ${Math.round(ops / report.seconds)} ops/s, ${scrapes} scrapes (slowest ${worstScrapeMs} ms), worst p99 loop delay ${(worstP99 * 1000).toFixed(1)} ms: ` +
          `heap ${mb(from.heapUsed)} at ${from.t} s → ${mb(to.heapUsed)} at ${to.t} s (growth ${mb(growth)}${minutes > 0 ? `, ${mb(growth / minutes)}/min` : ''}); ` +
          `RSS ${mb(from.rss)} → ${mb(to.rss)}; heap series ${heap.map((h) => (h.heapUsed / MB).toFixed(1)).join(' ')}`,
      );
      expect(heap.length).toBeGreaterThanOrEqual(Math.floor(SOAK_SECONDS / 10) - 1);
      expect(growth).toBeLessThan(15 * MB);

      // Every settled operation counted under its outcome; the never-settling ones not at all.
      expect(value(samples, `${SCAN}_count`, { outcome: 'success' })).toBe(report.scans.success);
      expect(value(samples, `${SCAN}_count`, { outcome: 'error' })).toBe(report.scans.error);
      expect(value(samples, `${SCAN}_count`, { outcome: 'skipped' })).toBe(report.scans.skipped);
      expect(total(samples, `${TRADE}_count`)).toBe(report.trades);
      expect(total(samples, 'monitoring_api_requests_total')).toBe(report.apiCalls);
      // At most 20 names and other; the plugin's own (clob, the host-mapped apis) keep slots of
      // their own, so the bot's free text gets what they leave.
      const apis = labelValues(samples, 'monitoring_api_requests_total', 'api');
      expect(apis.size).toBeLessThanOrEqual(21);
      expect(apis.size).toBeGreaterThan(10);
      expect(apis.has('other')).toBe(true);

      expect([...nonsense]).toEqual([]);
      expect(senselessSamples(samples)).toEqual([]);
      expect(r.bot.child.exitCode).toBeNull();
      expect(problems(r.stderr()).map((l) => l.message)).toEqual([]);
    },
    (SOAK_SECONDS + 120) * 1000,
  );

  // BUG (src/monitor.ts:141-147, the PrometheusExporter registered beside the evaluating reader):
  // the OTel SDK keeps every collection's accumulations for each registered reader until that
  // reader collects (sdk-metrics TemporalMetricProcessor._stashAccumulations). The evaluating
  // reader collects every MONITOR_INTERVAL_SECONDS; the Prometheus reader only when /metrics is
  // scraped. With METRICS_ENABLED (the default) and nothing scraping — no Prometheus yet, only
  // Telegram alerts wanted, or Prometheus down for a weekend — one snapshot of every series is
  // kept per cycle, for ever. Injected: the soak's workload, /metrics scraped once at start and
  // then never. Happened: the heap grows linearly (≈ 0.6–0.8 MB/min at 5 s cycles and this
  // workload; ≈ 1 GB/day), and a single scrape releases it. Should: stay flat however rarely
  // Prometheus scrapes (e.g. drain the pull reader when it has not collected for a while).
  it('the same workload never scraped: the heap stays flat', async ({ expect, onTestFinished }) => {
    const seconds = Math.min(SOAK_SECONDS, 120);
    const { r, metricsPort } = await monitored(soak, { SOAK_SECONDS: String(seconds), NODE_OPTIONS: '--expose-gc' }, onTestFinished);
    await sleep(5_000);
    await scrape(metricsPort); // the first scrape's one-off allocations, out of the measurement
    const deadline = Date.now() + (seconds + 60) * 1000;
    while (r.reports('SOAK').length === 0) {
      if (Date.now() > deadline) throw new Error('the unscraped run did not end in time');
      await sleep(1_000);
    }
    const heap = r.reports<HeapReport>('HEAP');
    const from = heap.find((h) => h.t >= 30)!;
    const to = heap.at(-1)!;
    const before = to.heapUsed;
    await scrape(metricsPort);
    r.bot.kill('SIGUSR2');
    await r.bot.waitForLine(/^HEAP_NOW /);
    const after = r.reports<{ heapUsed: number }>('HEAP_NOW')[0]!.heapUsed;
    const growth = to.heapUsed - from.heapUsed;
    console.log(
      `never scraped: heap ${mb(from.heapUsed)} at ${from.t} s → ${mb(to.heapUsed)} at ${to.t} s (growth ${mb(growth)}, ${mb((growth / (to.t - from.t)) * 60)}/min); ` +
        `one scrape then releases ${mb(before - after)}; heap series ${heap.map((h) => (h.heapUsed / MB).toFixed(1)).join(' ')}`,
    );
    expect(growth).toBeLessThan(0.5 * MB);
  });
});
