/**
 * Shared by test/faults/alerting.test.ts and test/faults/export.test.ts: a Telegram Bot API and
 * an OTLP collector that misbehave on request, on real loopback sockets; the demo bot with its
 * ports; and the watcher that reads, while a fault lasts, what the lead quotes: the bot's
 * event-loop delay per evaluation window, its RSS, its scans.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, get, parseExposition, spawnBot, type Bot, type Sample } from '../e2e/harness.js';

// The shape of a real token (bot id, colon, 35 characters).
export const TOKEN = '123456:AAGx7Qp2Lm9Rt4Vw8Yz1Bc3Df5Gh6Jk0NqX';
export const MIB = 1024 * 1024;
/** README "Health checks, alerts…": the PolymarketBotEventLoopLagHigh threshold. */
export const LOOP_P99_LIMIT_S = 0.1;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

export function total(samples: readonly Sample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
}

export const scanLines = (output: string): number => output.match(/scanned \d+ wallets/g)?.length ?? 0;

const handedOut = new Set<number>();

/**
 * A free loopback port never handed out before in this file. Cases run concurrently: without the
 * ledger, a port one case has probed and released could be taken by another case's server before
 * its own bot binds it.
 */
export async function uniquePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** What must never reach the bot's output, whatever fails. */
export const CRASH_TEXT = /unhandled|uncaught/i;

/** Resident set of a live process, from /proc (no scrape needed: it works when /metrics does not). */
export function vmRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Telegram

export type TelegramBehaviour =
  | { readonly kind: 'ok' }
  /** Answers every request with this status and Bot API body (a 429 with retry_after, a 500). */
  | { readonly kind: 'status'; readonly status: number; readonly body: object; readonly headers?: Record<string, string> }
  /** Reads the request in full and never answers. */
  | { readonly kind: 'hang' }
  /** Answers ok, after `delayMs`. */
  | { readonly kind: 'slow'; readonly delayMs: number };

export interface TelegramRequest {
  readonly text: string;
  /** Wall-clock ms of arrival. */
  readonly at: number;
}

/**
 * A Bot API double whose behaviour the test switches at will. `accepted` holds the texts it
 * answered `{ ok: true }` to, in order: what a chat would show.
 */
export class ScriptedTelegram {
  behaviour: TelegramBehaviour = { kind: 'ok' };
  readonly requests: TelegramRequest[] = [];
  readonly accepted: { readonly text: string; readonly at: number }[] = [];
  /** Anything but a sendMessage POST. */
  readonly strays: string[] = [];
  /** Requests received and not yet answered or abandoned; and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  url = '';
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on a port of its own. A test of "Telegram down" simply never calls it. */
  async start(): Promise<this> {
    const port = await uniquePort();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const res of this.open) res.destroy();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Attempts per message text, in arrival order. */
  attemptsByText(): Map<string, number[]> {
    const byText = new Map<string, number[]>();
    for (const { text, at } of this.requests) byText.set(text, [...(byText.get(text) ?? []), at]);
    return byText;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    if (req.method !== 'POST' || !/^\/bot[^/]+\/sendMessage$/.test(req.url ?? '')) {
      this.strays.push(`${req.method} ${req.url}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error_code":404,"description":"Not Found"}');
      return;
    }
    let text = '';
    try {
      text = String((JSON.parse(raw) as { text?: unknown }).text);
    } catch {
      // Recorded as an empty text: the assertions on texts then fail visibly.
    }
    this.requests.push({ text, at: Date.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.open.add(res);
    res.once('close', () => {
      this.open.delete(res);
      this.inFlight--;
    });
    const behaviour = this.behaviour;
    const ok = (): void => {
      if (res.destroyed) return; // the client gave up first: not accepted
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: { message_id: this.accepted.length + 1 } }));
      this.accepted.push({ text, at: Date.now() });
    };
    switch (behaviour.kind) {
      case 'ok':
        return ok();
      case 'status':
        res
          .writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers })
          .end(JSON.stringify(behaviour.body));
        return;
      case 'hang':
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          ok();
        }, behaviour.delayMs);
        this.timers.add(timer);
        return;
      }
    }
  }
}

/** The notification time every message carries in its header line ("… · 2026-11-24 16:34:14 UTC"). */
export function messageTime(text: string): number | undefined {
  const match = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/.exec(text);
  return match ? Date.parse(`${match[1]!.replace(' ', 'T')}Z`) : undefined;
}

// ---------------------------------------------------------------------------------------------
// OTLP collector

export type CollectorBehaviour = { readonly kind: 'slow'; readonly delayMs: number } | { readonly kind: 'status'; readonly status: number };

/** An OTLP/HTTP receiver that only fails: answers late, or with an error status. */
export class FakeCollector {
  readonly requests: { readonly path: string; readonly at: number }[] = [];
  url = '';
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly behaviour: CollectorBehaviour) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    const port = await uniquePort();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const _ of req); // read the export in full, as a collector would
    this.requests.push({ path: req.url ?? '', at: Date.now() });
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
    const answer = (status: number): void => {
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{}' : '{"code":14,"message":"unavailable"}');
    };
    if (this.behaviour.kind === 'status') return answer(this.behaviour.status);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      answer(200);
    }, this.behaviour.delayMs);
    this.timers.add(timer);
  }
}

/**
 * A preload (for NODE_OPTIONS) that counts, inside the bot, its outgoing OTLP requests (paths
 * under /v1/) and how they ended, on Node's own http client diagnostics channels, and prints the
 * counts once a second as `faults-http-probe {json}`. It is how a test counts exports sent to a
 * port where nothing listens.
 */
export function httpProbePreload(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'faults-probe-')), 'http-probe.mjs');
  writeFileSync(
    file,
    `import dc from 'node:diagnostics_channel';
const counts = { started: 0, errors: 0, statuses: {} };
const ours = (request) => typeof request?.path === 'string' && request.path.startsWith('/v1/');
dc.subscribe('http.client.request.start', ({ request }) => { if (ours(request)) counts.started++; });
dc.subscribe('http.client.request.error', ({ request }) => { if (ours(request)) counts.errors++; });
dc.subscribe('http.client.response.finish', ({ request, response }) => {
  if (ours(request)) counts.statuses[response.statusCode] = (counts.statuses[response.statusCode] ?? 0) + 1;
});
setInterval(() => process.stderr.write('faults-http-probe ' + JSON.stringify(counts) + '\\n'), 1000).unref();
`,
  );
  return file;
}

/**
 * A preload (for NODE_OPTIONS) that prints the bot's process.memoryUsage() once a second as
 * `faults-memory-probe {json}`. RSS alone cannot tell a leak from V8 growing its heap under
 * allocation pressure (and keeping it); the lowest heapUsed over a few seconds, right after a
 * collection, is the live heap.
 */
export function memoryProbePreload(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'faults-probe-')), 'memory-probe.mjs');
  writeFileSync(
    file,
    `setInterval(() => {
  const { rss, heapTotal, heapUsed } = process.memoryUsage();
  process.stderr.write('faults-memory-probe ' + JSON.stringify({ at: Date.now(), rss, heapTotal, heapUsed }) + '\\n');
}, 1000).unref();
`,
  );
  return file;
}

export interface MemoryReading {
  at: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
}

export function memoryReadings(output: string): MemoryReading[] {
  return (output.match(/^faults-memory-probe .*$/gm) ?? []).map((line) => JSON.parse(line.slice('faults-memory-probe '.length)) as MemoryReading);
}

export interface HttpProbeCounts {
  started: number;
  errors: number;
  statuses: Record<string, number>;
}

/** The last counts the probe printed (zeroes before its first line). */
export function httpProbeCounts(output: string): HttpProbeCounts {
  const lines = output.match(/^faults-http-probe .*$/gm);
  const last = lines?.at(-1);
  return last ? (JSON.parse(last.slice('faults-http-probe '.length)) as HttpProbeCounts) : { started: 0, errors: 0, statuses: {} };
}

// ---------------------------------------------------------------------------------------------
// The bot and what is read from it

export interface RunningBot {
  readonly bot: Bot;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** Wall-clock ms of the exit, once it happened. */
  readonly exitAt: () => number | undefined;
  scrape(timeoutMs?: number): Promise<Sample[]>;
  health(): Promise<{ status: string; components: Record<string, { status: string; message: string }> }>;
}

/** The demo bot with the built preload, on free ports, evaluating every 5 s, breaker off. */
export async function startBot(env: Record<string, string>): Promise<RunningBot> {
  const metricsPort = await uniquePort();
  const healthPort = await uniquePort();
  const bot = spawnBot({
    env: {
      METRICS_PORT: String(metricsPort),
      DASHBOARD_PORT: String(healthPort),
      MONITOR_INTERVAL_SECONDS: '5',
      // Other bots share these two cores: a trip would shed the very work under test.
      CIRCUIT_BREAKER_ENABLED: 'false',
      ...env,
    },
  });
  let exitAt: number | undefined;
  void bot.exited.then(() => (exitAt = Date.now()));
  return {
    bot,
    metricsPort,
    healthPort,
    exitAt: () => exitAt,
    scrape: async (timeoutMs = 3_000) => {
      const { status, body } = await get(`http://127.0.0.1:${metricsPort}/metrics`, timeoutMs);
      if (status !== 200 || !body.includes('monitoring_')) throw new Error(`/metrics answered ${status} without monitoring_* series`);
      return parseExposition(body);
    },
    health: async () => JSON.parse((await get(`http://127.0.0.1:${healthPort}/health`, 3_000)).body),
  };
}

export interface LoopWindow {
  /** Evaluation cycles run when the window closed. */
  readonly cycle: number;
  readonly p99: number;
  readonly max: number;
  readonly at: number;
}

/**
 * Reads the bot twice a second while a fault lasts: each closed event-loop window (one per
 * evaluation cycle; the gauges report the last closed one), its RSS from /proc, failed scrapes.
 */
export class Watcher {
  readonly windows: LoopWindow[] = [];
  readonly rss: { readonly at: number; readonly bytes: number }[] = [];
  scrapeFailures = 0;
  latest: Sample[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly running: RunningBot, everyMs = 500) {
    this.done = this.loop(everyMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** Windows that closed at or after `since` (ms). */
  windowsSince(since: number): LoopWindow[] {
    return this.windows.filter((w) => w.at >= since);
  }

  /** RSS growth between the first sample at or after `since` and the largest one after it. */
  rssGrowth(since = 0): { firstMb: number; lastMb: number; maxMb: number; growthMb: number } {
    const samples = this.rss.filter((s) => s.at >= since);
    const first = samples[0]?.bytes ?? Number.NaN;
    const last = samples.at(-1)?.bytes ?? Number.NaN;
    const max = Math.max(...samples.map((s) => s.bytes));
    const mb = (bytes: number): number => Number((bytes / MIB).toFixed(1));
    return { firstMb: mb(first), lastMb: mb(last), maxMb: mb(max), growthMb: mb(max - first) };
  }

  private async loop(everyMs: number): Promise<void> {
    const pid = this.running.bot.child.pid!;
    let cycles = 0;
    while (!this.stopped && this.running.exitAt() === undefined) {
      const bytes = vmRssBytes(pid);
      if (bytes !== undefined) this.rss.push({ at: Date.now(), bytes });
      try {
        const samples = await this.running.scrape(2_000);
        this.latest = samples;
        const seen = total(samples, 'monitoring_health_checks_total');
        const p99 = value(samples, 'monitoring_eventloop_delay_p99_seconds');
        const max = value(samples, 'monitoring_eventloop_delay_max_seconds');
        // The first cycle runs at start, on an empty window: the gauge exists from the second on.
        if (seen > cycles && seen >= 2 && p99 !== undefined && max !== undefined) {
          this.windows.push({ cycle: seen, p99, max, at: Date.now() });
        }
        cycles = seen;
      } catch {
        if (this.running.exitAt() === undefined) this.scrapeFailures++;
      }
      await sleep(everyMs);
    }
  }
}

export const ms = (seconds: number): string => `${(seconds * 1000).toFixed(1)} ms`;
