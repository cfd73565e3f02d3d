import { PassThrough, Writable } from 'node:stream';
import { ROOT_CONTEXT, context, trace, diag } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeOtelDiag, configureLogger, createLogger, log, writeLine, type Logger, type LogLevel } from '../src/core/log.js';
import { REDACTED, clearRegisteredSecrets, registerSecrets, secretsFromEnv } from '../src/core/redact.js';

// Hardhat's well-known development key and account: public, never funded on a real chain.
const PRIVATE_KEY = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const TELEGRAM_TOKEN = '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ';
const MNEMONIC = 'test test test test test test test test test test test junk';
const API_KEY_UUID = '3f8d2a1c-7b4e-4c9a-9e2f-1a2b3c4d5e6f';
const API_SECRET_B64 = 'dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldCBidXQgbG9va3MgbGlrZSBvbmU=';
const PASSPHRASE = 'f00dbabe-not-a-real-passphrase';

const SECRETS: ReadonlyArray<readonly [kind: string, value: string]> = [
  ['private key', `0x${PRIVATE_KEY}`],
  ['telegram token', TELEGRAM_TOKEN],
  ['mnemonic', MNEMONIC],
  ['bearer credential', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'],
];

type Line = Record<string, unknown>;

interface Capture {
  logger: Logger;
  raw: () => Promise<string>;
  lines: () => Promise<Line[]>;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function capture(level: LogLevel = 'debug', json = true): Capture {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const logger = createLogger({ level, format: json ? 'json' : 'text', stream });
  const raw = async (): Promise<string> => {
    await settle();
    return text;
  };
  return {
    logger,
    raw,
    lines: async () =>
      (await raw())
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Line),
  };
}

afterEach(() => {
  clearRegisteredSecrets();
  diag.disable();
});

describe('JSON lines', () => {
  it('writes level, message, time, component, then metadata', async () => {
    const { logger, raw } = capture();
    logger.warn('scan slow', { wallets: 3 });
    const text = await raw();
    expect(text.endsWith('\n')).toBe(true);
    const line = JSON.parse(text) as Line;
    expect(Object.keys(line)).toEqual(['level', 'message', 'time', 'component', 'wallets']);
    expect(line).toMatchObject({ level: 'warn', message: 'scan slow', component: 'monitoring', wallets: 3 });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('writeLine writes the very line the logger would, redacted, and honours the level', async () => {
    const KEY = `0x${'ab'.repeat(32)}`;
    const meta = { component: 'trade_executor', rule: 'PolymarketBotTradeExecuted', note: `key ${KEY}` };
    const viaWinston = capture('info', true);
    const direct = capture('info', true);
    viaWinston.logger.warn(`copied with ${KEY}`, meta);
    writeLine(direct.logger, 'warn', `copied with ${KEY}`, meta);
    writeLine(direct.logger, 'debug', 'below the level', {});
    const [a] = await viaWinston.lines();
    const lines = await direct.lines();
    expect(lines).toHaveLength(1);
    const { time: _t1, ...rest1 } = a!;
    const { time: _t2, ...rest2 } = lines[0]!;
    expect(Object.keys(lines[0]!)).toEqual(Object.keys(a!));
    expect(rest2).toEqual(rest1);
    expect(JSON.stringify(lines[0])).not.toContain('abab');
    // The human-readable format too.
    const human = capture('info', false);
    writeLine(human.logger, 'info', 'plain line', { rule: 'X' });
    expect(await human.raw()).toMatch(/INFO(\u001b\[39m)? \[monitoring\] plain line rule=X\n$/);
  });

  it('lets a child logger name its component', async () => {
    const { logger, lines } = capture();
    logger.child({ component: 'telegram' }).info('sent');
    expect((await lines())[0]).toMatchObject({ component: 'telegram', message: 'sent' });
  });

  it('drops lines above the configured level', async () => {
    const { logger, lines } = capture('warn');
    logger.info('not shown');
    logger.debug('not shown either');
    logger.error('shown');
    expect((await lines()).map((l) => l.message)).toEqual(['shown']);
  });

  it('writes nothing to stdout, which belongs to the bot', async () => {
    const writes: unknown[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
      writes.push(chunk);
      return original(chunk as string, ...(rest as []));
    }) as typeof process.stdout.write;
    try {
      const errWrite = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        createLogger({ level: 'info', format: 'json' }).info('to stderr');
        await settle();
      } finally {
        process.stderr.write = errWrite;
      }
    } finally {
      process.stdout.write = original;
    }
    expect(writes).toEqual([]);
  });
});

describe('every line is redacted', () => {
  it.each(SECRETS)('masks a %s in the message', async (_kind, secret) => {
    const { logger, raw, lines } = capture();
    logger.info(`got ${secret} from config`);
    const text = await raw();
    expect(text).not.toContain(secret);
    expect((await lines())[0]!.message).toContain(REDACTED);
  });

  it.each(SECRETS)('masks a %s in nested metadata', async (_kind, secret) => {
    const { logger, raw, lines } = capture();
    logger.info('order placed', { order: { attempts: [{ note: `signed with ${secret}` }] } });
    const text = await raw();
    expect(text).not.toContain(secret);
    const line = (await lines())[0]! as { order: { attempts: Array<{ note: string }> } };
    expect(line.order.attempts[0]!.note).toContain(REDACTED);
  });

  it('masks whole values under secret-looking metadata keys', async () => {
    const { logger, lines } = capture();
    logger.info('client ready', { clob: { apiKey: API_KEY_UUID, secret: API_SECRET_B64, passphrase: PASSPHRASE } });
    expect((await lines())[0]!.clob).toEqual({ apiKey: REDACTED, secret: REDACTED, passphrase: REDACTED });
  });

  it('masks values registered from the environment in messages and metadata', async () => {
    registerSecrets(secretsFromEnv({ CLOB_API_KEY: API_KEY_UUID, CLOB_SECRET: API_SECRET_B64, CLOB_PASS_PHRASE: PASSPHRASE }));
    const { logger, raw } = capture();
    logger.warn(`auth failed for ${API_KEY_UUID}`, { headers: [API_SECRET_B64, `pp=${PASSPHRASE}`] });
    const text = await raw();
    for (const secret of [API_KEY_UUID, API_SECRET_B64, PASSPHRASE]) expect(text).not.toContain(secret);
  });

  it('shortens wallet addresses', async () => {
    const { logger, lines } = capture();
    logger.info(`scanned ${ADDRESS}`, { wallet: ADDRESS });
    expect((await lines())[0]).toMatchObject({ message: 'scanned \u2026b92266', wallet: '\u2026b92266' });
  });

  it('leaves ordinary values as they were', async () => {
    const { logger, lines } = capture();
    logger.info('scan complete: 12 wallets, 3 new trades', { txCount: 42, market: '0xabc', ok: true });
    expect((await lines())[0]).toMatchObject({
      message: 'scan complete: 12 wallets, 3 new trades',
      txCount: 42,
      market: '0xabc',
      ok: true,
    });
  });

  it('redacts an Error logged on its own, keeping its stack', async () => {
    const { logger, raw, lines } = capture();
    logger.error(new Error(`signing failed for 0x${PRIVATE_KEY}`));
    expect(await raw()).not.toContain(PRIVATE_KEY);
    const line = (await lines())[0]!;
    expect(line.message).toBe(`signing failed for ${REDACTED}`);
    expect(line.stack).toMatch(/^Error: signing failed for \[REDACTED\]\n\s+at /);
  });

  it('redacts an Error passed after a message', async () => {
    const { logger, raw, lines } = capture();
    logger.error('telegram send failed', new Error(`POST /bot${TELEGRAM_TOKEN}/sendMessage 401`));
    expect(await raw()).not.toContain(TELEGRAM_TOKEN);
    expect((await lines())[0]!.message).toBe(`telegram send failed POST /bot${REDACTED}/sendMessage 401`);
  });

  it('redacts an Error nested in metadata, which JSON would otherwise print as {}', async () => {
    const { logger, lines } = capture();
    logger.warn('export failed', { error: new Error(`key 0x${PRIVATE_KEY}`) });
    expect((await lines())[0]!.error).toMatchObject({ name: 'Error', message: `key ${REDACTED}` });
  });

  it('logs cyclic metadata without recursing', async () => {
    const { logger, lines } = capture();
    const state: Record<string, unknown> = { n: 1 };
    state.self = state;
    logger.info('state', { state });
    expect((await lines())[0]!.state).toEqual({ n: 1, self: '[Circular]' });
  });

  it('hands transports only redacted values, extra arguments included', async () => {
    const seen: unknown[] = [];
    const spy = new Writable({
      objectMode: true,
      write(info: Record<string | symbol, unknown>, _encoding, callback) {
        seen.push({ ...info, splat: info[Symbol.for('splat')] });
        callback();
      },
    });
    Object.assign(spy, { log: (_info: unknown, next: () => void) => next() });
    const { logger } = capture();
    logger.add(spy as never);
    logger.info('placing order', { apiSecret: 'plain-secret-value' }, `0x${PRIVATE_KEY}`);
    await settle();
    expect(seen).toHaveLength(1);
    const dump = JSON.stringify(seen);
    expect(dump).not.toContain(PRIVATE_KEY);
    expect(dump).not.toContain('plain-secret-value');
  });
});

describe('human-readable lines', () => {
  it('writes one line with level, component and redacted fields', async () => {
    const { logger, raw } = capture('info', false);
    logger.warn(`first line\nsecond ${TELEGRAM_TOKEN}`, { wallet: ADDRESS, note: 'two words' });
    const text = await raw();
    expect(text.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text).toContain('WARN');
    expect(text).toContain('[monitoring]');
    expect(text).toContain('wallet=\u2026b92266');
    expect(text).toContain('note="two words"');
  });
});

describe('never throws into the caller', () => {
  it('swallows a stream that throws on write', () => {
    const broken = new Writable({ write: () => undefined });
    broken.write = () => {
      throw new Error('EPIPE');
    };
    const logger = createLogger({ level: 'info', format: 'json', stream: broken });
    expect(() => logger.error('still fine')).not.toThrow();
  });

  it('swallows metadata whose getter throws', () => {
    const { logger } = capture();
    const hostile = {
      get boom(): string {
        throw new Error('getter');
      },
    };
    expect(() => logger.info('hostile', hostile)).not.toThrow();
  });

  it('serialises bigint metadata, which JSON.stringify would throw on', async () => {
    const { logger, lines } = capture();
    expect(() => logger.info('sizes', { big: 10n })).not.toThrow();
    expect((await lines())[0]).toMatchObject({ message: 'sizes', big: '10' });
  });

  it('swallows a frozen info object that winston tries to mutate', () => {
    const { logger } = capture();
    expect(() => logger.info(Object.freeze({ message: 'frozen' }) as never)).not.toThrow();
  });
});

describe('shared logger', () => {
  it('is one instance, reconfigured in place for holders and children', async () => {
    const first = log();
    const child = first.child({ component: 'evaluator' });
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    configureLogger({ level: 'debug', format: 'json', stream });
    expect(log()).toBe(first);
    child.debug(`tick with ${TELEGRAM_TOKEN}`);
    await settle();
    const line = JSON.parse(text) as Line;
    expect(line).toMatchObject({ level: 'debug', component: 'evaluator', message: `tick with ${REDACTED}` });
  });
});

describe('formats', () => {
  it('logfmt: time, level, component, msg, then metadata; values quoted when they must be', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    createLogger({ level: 'info', format: 'logfmt', stream }).warn('scan "slow"', { wallets: 3, host: 'a b', list: [1, 2] });
    await new Promise((r) => setImmediate(r));
    expect(text).toMatch(/^time=\S+ level=warn component=monitoring msg="scan \\"slow\\"" wallets=3 host="a b" list=\[1,2\]\n$/);
  });

  it('a line written inside a sampled span carries its trace and span ids; outside one, none', async () => {
    const { logger, lines } = capture();
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => logger.warn('inside'));
      logger.warn('outside');
    } finally {
      context.disable();
    }
    const [inside, outside] = await lines();
    expect(inside).toMatchObject({ message: 'inside', trace_id: spanContext.traceId, span_id: spanContext.spanId });
    expect(outside).not.toHaveProperty('trace_id');
  });
});

describe('OpenTelemetry diag bridge', () => {
  it('routes SDK warnings and errors through redaction', async () => {
    const { logger, raw, lines } = capture();
    bridgeOtelDiag(logger, { now: () => 0 });
    diag.error(`OTLP export failed: Authorization=Bearer abcdef123456 for ${TELEGRAM_TOKEN}`);
    diag.warn('metric reader slow', { apiKey: API_KEY_UUID });
    const text = await raw();
    expect(text).not.toContain('abcdef123456');
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text).not.toContain(API_KEY_UUID);
    const [error, warning] = await lines();
    expect(error).toMatchObject({ level: 'error', component: 'otel' });
    expect(warning).toMatchObject({ level: 'warn', component: 'otel', args: [{ apiKey: REDACTED }] });
  });

  it('ignores diag messages below WARN', async () => {
    const { logger, lines } = capture();
    bridgeOtelDiag(logger, { now: () => 0 });
    diag.info('informational');
    diag.debug('chatter');
    expect(await lines()).toEqual([]);
  });

  it('at OTEL_LOG_LEVEL writes the SDK\'s lines down to that level, whatever the plugin\'s own level', async () => {
    const { logger, lines } = capture('warn');
    bridgeOtelDiag(logger, { now: () => 0, otelLogLevel: 'Debug' });
    diag.debug('chatter');
    diag.verbose('finer chatter');
    logger.debug('the plugin\'s own debug line stays below its level');
    expect((await lines()).map((l) => [l.level, l.component, l.message])).toEqual([
      ['debug', 'otel', expect.stringMatching(/^@opentelemetry\/api: Registered a global for diag/)],
      ['debug', 'otel', 'chatter'],
    ]);
  });

  it('OTEL_LOG_LEVEL=none silences the SDK entirely', async () => {
    const { logger, lines } = capture();
    bridgeOtelDiag(logger, { now: () => 0, otelLogLevel: 'none' });
    diag.error('boom');
    expect(await lines()).toEqual([]);
  });

  it('logs the same message once per 60 s and then reports how many were suppressed', async () => {
    let now = 1_000_000;
    const { logger, lines } = capture();
    bridgeOtelDiag(logger, { now: () => now });
    diag.error('export to http://collector:4318 failed after 1503 ms');
    now += 1_000;
    diag.error('export to http://collector:4318 failed after 1497 ms');
    now += 58_999;
    diag.error('export to http://collector:4318 failed after 2001 ms');
    expect(await lines()).toHaveLength(1);

    now += 1;
    diag.error('export to http://collector:4318 failed after 1500 ms');
    const all = await lines();
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ level: 'error', suppressed: 2 });
  });

  it('does not suppress a different message', async () => {
    const { logger, lines } = capture();
    bridgeOtelDiag(logger, { now: () => 0 });
    diag.error('collector unreachable');
    diag.error('view conflict for monitoring_trades_total');
    expect((await lines()).map((l) => l.message)).toEqual([
      'collector unreachable',
      'view conflict for monitoring_trades_total',
    ]);
  });

  it('stops forwarding once detached', async () => {
    const { logger, lines } = capture();
    const detach = bridgeOtelDiag(logger, { now: () => 0 });
    detach();
    diag.error('after detach');
    expect(await lines()).toEqual([]);
  });
});

describe('a log stream that fails', () => {
  /** A stream that refuses its first `failures` writes the way a closed pipe does: EPIPE, asynchronously. */
  function brokenPipe(failures: number): { stream: Writable; written: string[] } {
    const written: string[] = [];
    let calls = 0;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (calls++ < failures) {
          callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
          return;
        }
        written.push(chunk.toString('utf8'));
        callback();
      },
    });
    return { stream, written };
  }

  it('swallows the stream error of a failed line instead of raising it (no error event without a listener)', async () => {
    const { stream } = brokenPipe(Infinity);
    const unhandled: unknown[] = [];
    const onUncaught = (error: unknown): void => void unhandled.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const logger = createLogger({ level: 'info', format: 'json', stream });
      logger.warn('first');
      writeLine(logger, 'warn', 'second');
      await settle();
      await settle();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it("leaves the stream's error to a listener the bot installed", async () => {
    const { stream } = brokenPipe(1);
    const seen: string[] = [];
    stream.on('error', (error: NodeJS.ErrnoException) => seen.push(String(error.code)));
    createLogger({ level: 'info', format: 'json', stream }).warn('lost');
    await settle();
    await settle();
    expect(seen).toEqual(['EPIPE']);
  });

  it('says once, when the stream works again, how many lines were lost and why', async () => {
    // Node's Writable stops after an error, so a real pipe that closed never comes back; the
    // report is for streams that recover (a stream of the bot's that reconnects).
    const written: string[] = [];
    let calls = 0;
    const flaky = {
      write(text: string, callback: (error?: Error | null) => void): boolean {
        if (calls++ < 2) queueMicrotask(() => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
        else {
          written.push(text);
          queueMicrotask(() => callback());
        }
        return true;
      },
      listenerCount: () => 1,
      once: () => flaky,
    } as unknown as NodeJS.WritableStream;
    const logger = createLogger({ level: 'info', format: 'json', stream: flaky });
    writeLine(logger, 'info', 'one');
    writeLine(logger, 'info', 'two');
    await settle();
    writeLine(logger, 'info', 'three');
    await settle();
    writeLine(logger, 'info', 'four');
    await settle();
    const messages = written.map((line) => (JSON.parse(line) as Line).message);
    expect(messages).toEqual(['three', '2 monitoring log line(s) lost while the log stream was not writable (EPIPE)', 'four']);
  });
});
