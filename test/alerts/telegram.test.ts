import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatTelegram } from '../../src/alerts/format.js';
import { createTelegramSink, type TelegramSinkOptions } from '../../src/alerts/telegram.js';
import type { AlertSink, DeliveryObserver, FailureReason, Notification, SinkLogger } from '../../src/alerts/types.js';
import { clearRegisteredSecrets } from '../../src/core/redact.js';
import type { Severity } from '../../src/core/model.js';

// Deliberately not shaped like a real token, so redaction's token pattern cannot hide a leak:
// these tests check that the sink itself never lets the token out.
const TOKEN = 'FAKE:tok3n-that-must-never-be-logged';

// ---------------------------------------------------------------------------------------------
// A fake Telegram Bot API on a real loopback socket

type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  /**
   * The status (200 unless given) and the start of an ok body, then the connection is cut (`cut`)
   * or left open for ever (`stall`); or a whole body that is not JSON (`garbled`).
   */
  | { okThen: 'cut' | 'stall' | 'garbled'; status?: number }
  | { gate: Promise<void>; then: { status: number; body?: unknown } };

interface Recorded {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

const OK: Reply = { status: 200, body: { ok: true, result: { message_id: 1 } } };
const TOO_MANY = (retryAfter: number): Reply => ({
  status: 429,
  body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } },
});
const SERVER_ERROR: Reply = { status: 500, body: { ok: false, error_code: 500, description: 'Internal Server Error' } };
const BAD_REQUEST: Reply = {
  status: 400,
  body: { ok: false, error_code: 400, description: "Bad Request: can't parse entities" },
};

class FakeTelegram {
  readonly requests: Recorded[] = [];
  private script: Reply[] = [];
  private fallback: Reply = OK;
  private readonly hanging = new Set<ServerResponse>();
  private readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the next requests in this order, then `fallback` (200 ok) for every later one. */
  reply(...replies: Reply[]): void {
    this.script.push(...replies);
  }

  always(reply: Reply): void {
    this.fallback = reply;
  }

  texts(): string[] {
    return this.requests.map((r) => String(r.body.text));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    this.requests.push({ path: req.url ?? '', body: JSON.parse(raw) as Record<string, unknown>, at: Date.now() });
    const reply = this.script.shift() ?? this.fallback;
    if ('hang' in reply) {
      this.hanging.add(res);
      return;
    }
    if ('okThen' in reply) {
      const body = reply.okThen === 'garbled' ? 'ok' : JSON.stringify({ ok: true, result: { message_id: 1 } });
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      if (reply.okThen === 'garbled') {
        res.end(body);
        return;
      }
      res.write(body.slice(0, 5));
      if (reply.okThen === 'cut') setTimeout(() => res.destroy(), 20);
      else this.hanging.add(res);
      return;
    }
    let answer: { status: number; body?: unknown; headers?: Record<string, string> } = reply as never;
    if ('gate' in reply) {
      this.hanging.add(res);
      await reply.gate;
      this.hanging.delete(res);
      answer = reply.then;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(JSON.stringify(answer.body ?? {}));
  }
}

// ---------------------------------------------------------------------------------------------
// Recorders

interface Observed {
  sent: Severity[];
  failed: FailureReason[];
  dropped: number;
  last: boolean[];
  busy: number[];
}

function recordingObserver(): DeliveryObserver & { seen: Observed } {
  const seen: Observed = { sent: [], failed: [], dropped: 0, last: [], busy: [] };
  return {
    seen,
    sent: (severity) => void seen.sent.push(severity),
    failed: (reason) => void seen.failed.push(reason),
    dropped: () => void seen.dropped++,
    lastDelivery: (ok) => void seen.last.push(ok),
    busy: (ms) => void seen.busy.push(ms),
  };
}

function recordingLogger(): SinkLogger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
  };
  return { lines, warn: write('warn'), info: write('info') };
}

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    kind: 'firing',
    rule: 'DailyLossCritical',
    component: 'trade_executor',
    severity: 'critical',
    title: 'Daily loss limit reached',
    description: 'Loss 612.40 USDC > limit 500 <script>&',
    silent: false,
    at: Date.UTC(2025, 0, 2, 3, 4, 5),
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------

let telegram: FakeTelegram;
let sinks: AlertSink[];
let observer: ReturnType<typeof recordingObserver>;
let logger: ReturnType<typeof recordingLogger>;
let sleeps: number[];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

/** Backoff and rate-limit waits are recorded, not waited: the policy is under test, not the clock. */
const instantSleep = async (ms: number): Promise<void> => {
  sleeps.push(ms);
};

function sink(overrides: Partial<TelegramSinkOptions> = {}): AlertSink {
  const s = createTelegramSink({
    token: TOKEN,
    chatId: '-100123',
    apiUrl: telegram.url,
    staging: false,
    observer,
    logger,
    sleep: instantSleep,
    random: () => 0.5,
    ...overrides,
  });
  sinks.push(s);
  return s;
}

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

beforeEach(async () => {
  telegram = new FakeTelegram();
  await telegram.start();
  sinks = [];
  observer = recordingObserver();
  logger = recordingLogger();
  sleeps = [];
});

afterEach(async () => {
  for (const s of sinks) s.close();
  await telegram.stop();
  clearRegisteredSecrets();
  // Whatever happened in the test, the token leaked nowhere and nothing escaped as a rejection.
  expect(logger.lines.join('\n')).not.toContain(TOKEN);
  expect(JSON.stringify(observer.seen)).not.toContain(TOKEN);
  expect(unhandled).toEqual([]);
});

describe('Telegram sink: a message Telegram accepts', () => {
  it('posts the formatted message to /bot<token>/sendMessage and counts it sent once', async () => {
    const s = sink({ staging: true });
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(1);
    const [request] = telegram.requests;
    expect(request!.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(request!.body).toEqual({
      chat_id: '-100123',
      text: formatTelegram(notification(), { staging: true })[0],
      parse_mode: 'HTML',
      disable_notification: false,
      link_preview_options: { is_disabled: true },
    });
    expect(String(request!.body.text)).toContain('[STAGING]');
    expect(String(request!.body.text)).toContain('&lt;script&gt;&amp;');
    expect(observer.seen.sent).toEqual(['critical']);
    expect(observer.seen.failed).toEqual([]);
    expect(observer.seen.last).toEqual([true]);
    expect(observer.seen.busy).toHaveLength(1);
  });

  it('sends a silent notification with disable_notification', async () => {
    const s = sink();
    s.deliver(notification({ silent: true }));
    s.deliver(notification({ silent: false }));
    await s.drain(5_000);
    expect(telegram.requests.map((r) => r.body.disable_notification)).toEqual([true, false]);
  });

  it('sends a long notification as several messages, in order, and counts it sent once', async () => {
    const s = sink();
    const description = Array.from({ length: 200 }, (_, i) => `line ${i} ${'-'.repeat(60)}`).join('\n');
    const parts = formatTelegram(notification({ description }), { staging: false });
    expect(parts.length).toBeGreaterThan(1);
    s.deliver(notification({ description }));
    await s.drain(5_000);
    expect(telegram.texts()).toEqual(parts);
    expect(observer.seen.sent).toEqual(['critical']);
  });

  it('returns from deliver before any request is made', () => {
    const s = sink();
    s.deliver(notification());
    expect(telegram.requests).toHaveLength(0);
  });
});

describe('Telegram sink: retry or give up, decided by the answer', () => {
  it('on 429 waits retry_after, then sends again and succeeds', async () => {
    telegram.reply(TOO_MANY(3));
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(2);
    expect(telegram.texts()[0]).toBe(telegram.texts()[1]);
    expect(sleeps).toEqual([3_000]);
    expect(observer.seen.sent).toEqual(['critical']);
    expect(observer.seen.failed).toEqual([]);
  });

  it('on 429 really holds the next request back for retry_after seconds', async () => {
    telegram.reply(TOO_MANY(1));
    const s = sink({ sleep: undefined });
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(2);
    expect(telegram.requests[1]!.at - telegram.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(observer.seen.sent).toEqual(['critical']);
  });

  it('caps an excessive retry_after instead of stalling every alert behind it', async () => {
    telegram.reply(TOO_MANY(3_600));
    const s = sink({ maxRetryAfterMs: 60_000 });
    s.deliver(notification());
    await s.drain(5_000);
    expect(sleeps).toEqual([60_000]);
    expect(observer.seen.sent).toEqual(['critical']);
  });

  it('gives up as rate_limited when 429 persists past the attempt budget', async () => {
    telegram.always(TOO_MANY(1));
    const s = sink({ maxAttempts: 3 });
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(3);
    expect(observer.seen.failed).toEqual(['rate_limited']);
  });

  it('on repeated 500 backs off exponentially, gives up after maxAttempts, and counts one http_5xx', async () => {
    telegram.always(SERVER_ERROR);
    const s = sink({ maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 30_000 });
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(4);
    // Ceilings 1 s, 2 s, 4 s; with jitter at its midpoint each wait is three quarters of it.
    expect(sleeps).toEqual([750, 1_500, 3_000]);
    expect(observer.seen.failed).toEqual(['http_5xx']);
    expect(observer.seen.sent).toEqual([]);
    expect(observer.seen.last).toEqual([false]);
  });

  it('never waits longer than maxDelayMs between 5xx retries', async () => {
    telegram.always(SERVER_ERROR);
    const s = sink({ maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 5_000, random: () => 0.999 });
    s.deliver(notification());
    await s.drain(5_000);
    expect(sleeps).toHaveLength(5);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(5_000);
  });

  it('recovers when a 500 is followed by success, counting it sent and not failed', async () => {
    telegram.reply(SERVER_ERROR, SERVER_ERROR);
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(3);
    expect(observer.seen.sent).toEqual(['critical']);
    expect(observer.seen.failed).toEqual([]);
  });

  it.each([
    [400, BAD_REQUEST],
    [401, { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } }],
    [403, { status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } }],
  ] as const)('on %i gives up at once with http_4xx', async (_status, reply) => {
    telegram.always(reply);
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(observer.seen.failed).toEqual(['http_4xx']);
    expect(logger.lines.some((l) => l.includes('http_4xx'))).toBe(true);
  });

  it('does not count a 2xx without ok:true as sent', async () => {
    telegram.always({ status: 200, body: '<html>captive portal</html>' });
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(observer.seen.sent).toEqual([]);
    expect(observer.seen.failed).toEqual(['rejected']);
  });

  it('stops a split notification at the first part Telegram refuses', async () => {
    telegram.reply(OK, BAD_REQUEST);
    const s = sink();
    const description = Array.from({ length: 300 }, (_, i) => `line ${i} ${'-'.repeat(60)}`).join('\n');
    expect(formatTelegram(notification({ description }), { staging: false }).length).toBeGreaterThan(2);
    s.deliver(notification({ description }));
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(2);
    expect(observer.seen.failed).toEqual(['http_4xx']);
    expect(observer.seen.sent).toEqual([]);
  });

  it('reports a refused connection as network, after retrying', async () => {
    const port = new URL(telegram.url).port;
    await telegram.stop();
    telegram = new FakeTelegram();
    await telegram.start(); // for afterEach; the sink points at the closed port
    const s = sink({ apiUrl: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    s.deliver(notification());
    await s.drain(5_000);
    expect(observer.seen.failed).toEqual(['network']);
    expect(sleeps).toHaveLength(1);
  });
});

describe('Telegram sink: a server that never answers', () => {
  it('times out each attempt, reports timeout within the bound, and the event loop keeps running', async () => {
    telegram.always({ hang: true });
    const s = sink({ requestTimeoutMs: 200, maxAttempts: 2 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = Date.now();
    s.deliver(notification());
    await s.drain(5_000);
    clearInterval(ticker);
    expect(observer.seen.failed).toEqual(['timeout']);
    expect(telegram.requests).toHaveLength(2);
    // Two attempts of 200 ms each, with an instant backoff: well inside the drain bound.
    expect(Date.now() - started).toBeLessThan(3_000);
    // The bot's own timers kept firing while the request hung.
    expect(ticks).toBeGreaterThan(5);
  });

  it('keeps the queue bounded while stuck: drops the oldest, counts it, and delivers the newest', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    telegram.reply({ gate, then: OK });
    const s = sink({ capacity: 2 });
    s.deliver(notification({ title: 'first' }));
    await waitFor(() => telegram.requests.length === 1);
    for (const title of ['second', 'third', 'fourth']) s.deliver(notification({ title }));
    expect(observer.seen.dropped).toBe(1);
    release();
    await s.drain(5_000);
    const titles = telegram.texts().map((t) => /<b>(?:CRITICAL: )?(.*?)<\/b>/.exec(t)?.[1]);
    // The drop is told once the queue has emptied, after everything that was waiting.
    expect(titles).toEqual(['first', 'third', 'fourth', '1 alert dropped']);
    expect(observer.seen.sent).toEqual(['critical', 'critical', 'critical', 'info']);
    expect(logger.lines.filter((l) => l.includes('queue full'))).toHaveLength(1);
  });

  it('drain returns at its bound and close aborts the hung request without a verdict', async () => {
    telegram.always({ hang: true });
    const s = sink({ requestTimeoutMs: 60_000 });
    s.deliver(notification());
    s.deliver(notification({ title: 'waiting' }));
    await waitFor(() => telegram.requests.length === 1);
    const started = Date.now();
    await s.drain(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    s.close();
    await settle();
    expect(observer.seen.failed).toEqual([]);
    expect(observer.seen.sent).toEqual([]);
    expect(logger.lines.some((l) => l.includes('1 alert(s) not sent'))).toBe(true);
  });

  it('holds no ref’d timer while waiting out a backoff', async () => {
    telegram.always(SERVER_ERROR);
    const before = refTimers();
    const s = sink({ sleep: undefined, baseDelayMs: 10_000, maxAttempts: 2 });
    s.deliver(notification());
    await waitFor(() => telegram.requests.length === 1);
    await settle();
    expect(refTimers()).toBe(before);
    s.close();
  });
});

describe('Telegram sink: never hurts the bot', () => {
  it('keeps the token out of log lines even when fetch errors quote the URL', async () => {
    const s = sink({
      maxAttempts: 1,
      fetchImpl: async (input) => {
        const error = new TypeError(`fetch failed for ${String(input)}`);
        (error as { cause?: unknown }).cause = { code: 'ECONNRESET', message: `socket hang up ${String(input)}` };
        throw error;
      },
    });
    s.deliver(notification());
    await s.drain(5_000);
    expect(observer.seen.failed).toEqual(['network']);
    expect(logger.lines.join('\n')).toContain('ECONNRESET');
    // afterEach asserts the token is absent.
  });

  it('rejects a malformed token without quoting it', () => {
    const secretish = 'FAKE:bad/token?with=query';
    let message = '';
    try {
      createTelegramSink({ token: secretish, chatId: '1', logger, observer });
    } catch (error) {
      message = String((error as Error).message) + String((error as Error).stack);
    }
    expect(message).toMatch(/token/);
    expect(message).not.toContain(secretish);
  });

  it('carries on when the observer and the logger throw', async () => {
    const explode = (): never => {
      throw new Error('metrics broken');
    };
    const s = sink({
      observer: { sent: explode, failed: explode, dropped: explode, lastDelivery: explode, busy: explode },
      logger: { warn: explode, info: explode },
      capacity: 1,
    });
    telegram.reply(BAD_REQUEST);
    s.deliver(notification({ title: 'refused' }));
    await waitFor(() => telegram.requests.length === 1);
    // With the first in flight, the second is pushed out by the third: a drop, reported to a throwing observer.
    expect(() => {
      s.deliver(notification({ title: 'dropped' }));
      s.deliver(notification({ title: 'delivered' }));
    }).not.toThrow();
    await s.drain(5_000);
    const titles = telegram.texts().map((t) => /<b>(?:CRITICAL: )?(.*?)<\/b>/.exec(t)?.[1]);
    expect(titles).toEqual(['refused', 'delivered', '1 alert dropped']);
  });

  it('logs a failing Telegram once per change of state, and its recovery', async () => {
    telegram.reply(BAD_REQUEST, BAD_REQUEST, BAD_REQUEST);
    const s = sink();
    for (let i = 0; i < 4; i++) s.deliver(notification());
    await s.drain(5_000);
    expect(observer.seen.failed).toEqual(['http_4xx', 'http_4xx', 'http_4xx']);
    expect(observer.seen.sent).toEqual(['critical']);
    expect(logger.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(logger.lines.filter((l) => l.includes('recovered'))).toHaveLength(1);
  });
});

describe('Telegram sink: at most once once Telegram said 2xx', () => {
  it('does not send again when the 200 answer breaks off, and counts it unconfirmed', async () => {
    telegram.reply({ okThen: 'cut' });
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(1);
    expect(observer.seen.failed).toEqual(['unconfirmed']);
    expect(observer.seen.sent).toEqual([]);
    expect(sleeps).toEqual([]);
  });

  it('does not send again when the 200 answer stalls past the request timeout', async () => {
    telegram.reply({ okThen: 'stall' });
    const s = sink({ requestTimeoutMs: 200 });
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(1);
    expect(observer.seen.failed).toEqual(['unconfirmed']);
  });

  it('does not send again when the 200 answer is not JSON', async () => {
    telegram.reply({ okThen: 'garbled' });
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(1);
    expect(observer.seen.failed).toEqual(['unconfirmed']);
  });

  it('still retries a 5xx whose body breaks off', async () => {
    telegram.reply({ okThen: 'cut', status: 502 });
    const s = sink();
    s.deliver(notification());
    await s.drain(5_000);
    expect(telegram.requests).toHaveLength(2);
    expect(observer.seen.sent).toEqual(['critical']);
  });
});

describe('Telegram sink: delivery by priority when Telegram cannot keep up', () => {
  const routine = (i: number): Notification =>
    notification({ kind: 'event', rule: 'PolymarketBotTradeExecuted', severity: 'info', routine: true, title: `fill ${i}`, silent: true });
  const headline = (text: string): string | undefined => /<b>(?:[A-Z]+: )?(.*?)<\/b>/.exec(text)?.[1];

  it('sends a critical alert right after the message in flight, ahead of the routine backlog, and sums up the routine drops', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    telegram.reply({ gate, then: OK });
    const s = sink();
    s.deliver(routine(0));
    await waitFor(() => telegram.requests.length === 1);
    for (let i = 1; i <= 25; i++) s.deliver(routine(i));
    s.deliver(notification({ title: 'Daily loss limit reached' }));
    release();
    await s.drain(5_000);
    const titles = telegram.texts().map(headline);
    expect(titles[1]).toBe('Daily loss limit reached');
    // At most MAX_ROUTINE_WAITING (20) fills wait; the 5 oldest went, and say so once, last.
    expect(titles.slice(2, -1)).toEqual(Array.from({ length: 20 }, (_, i) => `fill ${i + 6}`));
    expect(titles.at(-1)).toBe('5 trade notices dropped');
    expect(observer.seen.dropped).toBe(5);
  });

  it('stops retrying a routine notice once a more urgent message waits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    telegram.reply({ gate, then: SERVER_ERROR });
    const s = sink();
    s.deliver(routine(1));
    await waitFor(() => telegram.requests.length === 1);
    s.deliver(notification({ title: 'Daily loss limit reached' }));
    release();
    await s.drain(5_000);
    expect(telegram.texts().map(headline)).toEqual(['fill 1', 'Daily loss limit reached']);
    expect(observer.seen.failed).toEqual(['http_5xx']);
    expect(sleeps).toEqual([]);
  });

  it('retries a routine notice as usual while nothing more urgent waits', async () => {
    telegram.reply(SERVER_ERROR);
    const s = sink();
    s.deliver(routine(1));
    await s.drain(5_000);
    expect(telegram.texts().map(headline)).toEqual(['fill 1', 'fill 1']);
    expect(observer.seen.sent).toEqual(['info']);
  });

  it('never drops a critical alert while a lower one waits', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    telegram.reply({ gate, then: OK });
    const s = sink({ capacity: 3 });
    s.deliver(notification({ title: 'in flight' }));
    await waitFor(() => telegram.requests.length === 1);
    s.deliver(notification({ title: 'critical 1' }));
    s.deliver(notification({ kind: 'event', rule: 'PolymarketBotMonitoringCircuitBreakerTripped', title: 'own breaker' }));
    s.deliver(notification({ severity: 'warning', title: 'warning' }));
    s.deliver(notification({ title: 'critical 2' }));
    s.deliver(notification({ title: 'critical 3' }));
    release();
    await s.drain(5_000);
    const titles = telegram.texts().map(headline);
    expect(titles).toEqual(['in flight', 'critical 1', 'critical 2', 'critical 3', '2 alerts dropped']);
  });

  it('under a sustained flood, sums up the drops once per interval instead of after every message', async () => {
    let clock = 0;
    const gates = Array.from({ length: 2 }, () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      return { gate, open };
    });
    telegram.reply(...gates.map(({ gate }) => ({ gate, then: OK })));
    const s = sink({ now: () => clock });
    s.deliver(routine(0));
    await waitFor(() => telegram.requests.length === 1);
    for (let i = 1; i <= 22; i++) s.deliver(routine(i)); // the 2 oldest waiting are dropped, at clock 0
    clock = 29_999;
    gates[0]!.open();
    await waitFor(() => telegram.requests.length === 2);
    clock = 30_000;
    gates[1]!.open();
    await s.drain(5_000);
    const titles = telegram.texts().map(headline);
    // Not after fill 0 (the interval had not passed), but after fill 3, though fills still waited.
    expect(titles.slice(0, 3)).toEqual(['fill 0', 'fill 3', '2 trade notices dropped']);
    expect(titles.filter((t) => t?.includes('dropped'))).toHaveLength(1);
    expect(titles).toHaveLength(3 + 19);
  });
});

// ---------------------------------------------------------------------------------------------

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function refTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
