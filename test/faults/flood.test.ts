/**
 * Fault injection, a flood of connections at the plugin's endpoints (issue 15, finding 5): a real
 * monitored bot trading in a loop, then 2000 concurrent `/metrics` requests from a separate
 * process (so the flood's own CPU is not this test's, and the bot measures itself). The bot
 * prints its RSS, its trades and its loop's worst stall every 250 ms; the flood must leave its
 * memory within 30 MB of where it was and never stall its loop past the bound.
 *
 * The stall bound is 50 ms, to be met in one of two floods (see floodedBot); FLOOD_STALL_MS
 * loosens it on a machine shared with other loads (a process descheduled by the kernel shows as
 * loop delay too).
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { PROBE, killAll, ready, run, scrape, sleep, twoPorts, within, type Run } from './support-bot.js';

afterAll(() => killAll());

const CONNECTIONS = 2000;
const MB = 1024 * 1024;
const RSS_GROWTH_LIMIT = 30 * MB;
const STALL_LIMIT_MS = Number(process.env.FLOOD_STALL_MS ?? 50);

interface Stats {
  readonly at: number;
  readonly rss: number;
  readonly trades: number;
  readonly stallMs: number;
}

/** Trades every 5 ms through the probe; reports RSS, trades done and the worst loop delay per 250 ms. */
const TRADING_BOT = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { traceTradeExecution } from '${PROBE}';
let trades = 0;
const trade = () => traceTradeExecution({ market: 'm1', side: 'buy', size: 1 }, async () => {
  await new Promise((resolve) => setImmediate(resolve));
  return { status: 'matched' };
}).then(() => trades++, () => {});
setInterval(trade, 5);
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
setInterval(() => {
  console.log('STATS ' + JSON.stringify({ at: Date.now(), rss: process.memoryUsage().rss, trades, stallMs: delay.max / 1e6 }));
  delay.reset();
}, 250);
console.log('bot ready');
`;

/**
 * Opens `connections` sockets at once, each sending one request, and counts how each ended: the
 * status line it got, or how the socket died. Runs as its own process.
 */
const FLOODER = `
import net from 'node:net';
const [port, connections, authorization] = [Number(process.argv[1]), Number(process.argv[2]), process.argv[3]];
const request = 'GET /metrics HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n' + (authorization ? 'Authorization: ' + authorization + '\\r\\n' : '') + 'Connection: close\\r\\n\\r\\n';
const outcomes = {};
const count = (what) => (outcomes[what] = (outcomes[what] ?? 0) + 1);
// Armed, then fired on a line from the test: the flooder's own start-up is not inside the flood.
console.log('armed');
await new Promise((resolve) => process.stdin.once('data', resolve));
const started = Date.now();
await Promise.all(Array.from({ length: connections }, () => new Promise((resolve) => {
  const socket = net.connect({ host: '127.0.0.1', port });
  let head = '';
  let counted = false;
  const end = (what) => { if (!counted) { counted = true; count(what); } socket.destroy(); resolve(); };
  socket.setTimeout(20000, () => end('timeout'));
  socket.on('connect', () => socket.write(request));
  socket.on('data', (chunk) => { if (head.length < 64) head += chunk.toString('latin1'); });
  socket.on('error', (error) => end(error.code ?? 'error'));
  socket.on('close', () => end(/^HTTP\\/1\\.1 (\\d+)/.exec(head)?.[1] ?? 'closed'));
})));
console.log(JSON.stringify({ ms: Date.now() - started, outcomes }));
process.exit(0);
`;

interface Flooder {
  /** Fires the flood; resolves with how each connection ended. */
  fire(): Promise<{ ms: number; outcomes: Record<string, number> }>;
}

async function armFlooder(port: string, authorization = ''): Promise<Flooder> {
  const child = spawn(process.execPath, ['--input-type=module', '--eval', FLOODER, port, String(CONNECTIONS), authorization], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  onTestFinished(() => void child.kill('SIGKILL'));
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('armed\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`flooder exited ${code} before arming: ${out}`)));
  });
  return {
    async fire() {
      child.stdin.write('go\n');
      const code = await exited;
      if (code !== 0) throw new Error(`flooder exited ${code}: ${out}`);
      return JSON.parse(out.slice('armed\n'.length));
    },
  };
}

const statsOf = (r: Run): Stats[] => r.reports<Stats>('STATS');
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Figures {
  readonly floodMs: number;
  readonly outcomes: Record<string, number>;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly baselineStallMs: number;
  readonly worstStallMs: number;
  readonly tradesPerSecondBefore: number;
  readonly tradesPerSecondDuring: number | undefined;
}

const tradesPerSecond = (stats: readonly Stats[]): number | undefined =>
  stats.length > 1 ? Math.round((stats.at(-1)!.trades - stats[0]!.trades) / ((stats.at(-1)!.at - stats[0]!.at) / 1000)) : undefined;

/** One flood at a running bot: its figures before, during and 2 s after. */
async function floodOnce(r: Run, port: string, authorization: string | undefined): Promise<Figures> {
  const flooder = await armFlooder(port, authorization);
  await sleep(1_600);
  const baseline = statsOf(r).slice(-6);
  const floodStart = Date.now();
  const result = await within(flooder.fire(), 40_000, 'flood');
  const floodEnd = Date.now();
  await sleep(2_000);
  const during = statsOf(r).filter((s) => s.at >= floodStart && s.at <= floodEnd + 500);
  const after = statsOf(r).slice(-4);
  const figures: Figures = {
    floodMs: result.ms,
    outcomes: result.outcomes,
    rssBeforeMb: +(median(baseline.map((s) => s.rss)) / MB).toFixed(1),
    rssAfterMb: +(median(after.map((s) => s.rss)) / MB).toFixed(1),
    baselineStallMs: +Math.max(...baseline.map((s) => s.stallMs)).toFixed(1),
    worstStallMs: +Math.max(...during.map((s) => s.stallMs), ...after.map((s) => s.stallMs)).toFixed(1),
    tradesPerSecondBefore: tradesPerSecond(baseline)!,
    tradesPerSecondDuring: tradesPerSecond(during),
  };
  console.log(`flood figures: ${JSON.stringify(figures)}`);
  return figures;
}

/**
 * How far a flood's worst stall went past the bound: 50 ms, or half as much again as the worst
 * stall of the quiet seconds just before it when the host itself was already stalling the bot
 * that much (seen here at 58 ms with no flood, load average 3.7 on two cores).
 */
const stallOver = (f: Figures): number => Math.max(0, f.worstStallMs - Math.max(STALL_LIMIT_MS, 1.5 * f.baselineStallMs));

/**
 * A trading bot, flooded; flooded a second time only if the first flood's worst stall was over
 * the bound. A stall the plugin causes (the unbounded server stalled 135-315 ms in every flood)
 * shows in both; a neighbour on a shared 2-core host taking the CPU at that moment (seen here
 * once in nine floods, at 197 ms, with no collection involved) rarely hits both. Memory is held
 * to the bound across both floods.
 */
async function floodedBot(env: Record<string, string>, authorization?: string) {
  const ports = await twoPorts();
  const r = run({ eval: TRADING_BOT, env: { ...ports, MONITOR_INTERVAL_SECONDS: '5', CIRCUIT_BREAKER_ENABLED: 'false', ...env } });
  onTestFinished(() => r.bot.kill('SIGKILL'));
  await ready(r, true, 30_000);
  // Settle: the first collection and the loopback connections warm up before the baseline.
  await scrape(ports.METRICS_PORT).catch(() => {});
  await sleep(1_000);
  const first = await floodOnce(r, ports.METRICS_PORT, authorization);
  const second = stallOver(first) > 0 ? await floodOnce(r, ports.METRICS_PORT, authorization) : undefined;
  const last = second ?? first;
  return {
    ports,
    r,
    figures: {
      ...last,
      rssBeforeMb: first.rssBeforeMb,
      stallOverBoundMs: Math.min(stallOver(first), second ? stallOver(second) : Infinity),
      outcomes: first.outcomes,
    },
  };
}

describe('a flood of 2000 connections at /metrics', () => {
  it('leaves an open /metrics bot within 30 MB of its memory and its loop unstalled, and still answers', async () => {
    const { ports, figures } = await floodedBot({});
    expect(figures.rssAfterMb - figures.rssBeforeMb).toBeLessThanOrEqual(RSS_GROWTH_LIMIT / MB);
    expect(figures.stallOverBoundMs).toBe(0);
    // Every connection got an answer or was turned away; some got the exposition.
    expect(figures.outcomes.timeout ?? 0).toBe(0);
    expect(figures.outcomes['200'] ?? 0).toBeGreaterThan(0);
    expect((await scrape(ports.METRICS_PORT)).length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses an unauthenticated flood at a token-guarded /metrics without collecting, its memory and loop untouched', async () => {
    const { figures } = await floodedBot({ MONITORING_AUTH_TOKEN: 'flood-token-Yq7Rk2Lm9Vx4' });
    expect(figures.rssAfterMb - figures.rssBeforeMb).toBeLessThanOrEqual(RSS_GROWTH_LIMIT / MB);
    expect(figures.stallOverBoundMs).toBe(0);
    expect(figures.outcomes['200'] ?? 0).toBe(0);
    expect(figures.outcomes.timeout ?? 0).toBe(0);
  }, 60_000);
});
