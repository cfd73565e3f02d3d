// The plugin's only way to write a line. Every line passes through redaction before any other
// format or transport sees it, and nothing here may throw into the bot.

import { Writable } from 'node:stream';
import { context, diag, DiagLogLevel, isSpanContextValid, trace, TraceFlags, type DiagLogger } from '@opentelemetry/api';
import { diagLogLevelFromString } from '@opentelemetry/core';
import winston, { type Logger } from 'winston';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './config.js';
import { redactText, redactValue } from './redact.js';

export type { LogLevel };

export interface LoggerOptions {
  level: LogLevel;
  /**
   * JSON lines, human-readable lines (coloured unless NO_COLOR), or logfmt key=value lines;
   * `auto` (the default) is text on a terminal and JSON otherwise.
   */
  format?: LogFormat;
  /** Defaults to stderr: stdout belongs to the bot. */
  stream?: NodeJS.WritableStream;
}

export type { Logger };

// winston (via triple-beam) keys its internal fields by these registered symbols.
const LEVEL = Symbol.for('level');
/** Marks a line written whatever the logger's level (OpenTelemetry's diag at OTEL_LOG_LEVEL). */
const FORCED = Symbol('forced');
const MESSAGE = Symbol.for('message');
const SPLAT = Symbol.for('splat');

type Info = Record<string | symbol, unknown>;

const SEVERITY: Readonly<Record<string, number>> = winston.config.npm.levels;
const LEVELS: readonly LogLevel[] = LOG_LEVELS;
const DEFAULT_COMPONENT = 'monitoring';
const RESERVED = new Set(['level', 'message', 'time', 'component']);

function stringifyMessage(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  if (message === undefined) return '';
  const copy = redactValue(message);
  return typeof copy === 'string' ? copy : safeJson(copy);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
  } catch {
    return '"[unserializable]"';
  }
}

/**
 * Replaces the info object by a redacted copy, so no later format and no transport can see an
 * unredacted value. Lines above the logger's level are dropped here, before any redaction work:
 * winston would otherwise format every debug line only for the transport to discard it.
 */
function redactFormat(currentLevel: () => string): winston.Logform.Format {
  return winston.format((raw) => {
    const info = raw as unknown as Info;
    const level = String(info[LEVEL] ?? info.level ?? 'info');
    try {
      if (info[FORCED] !== true && (SEVERITY[level] ?? 0) > (SEVERITY[currentLevel()] ?? SEVERITY.info!)) return false;
      // `log.error(err)` hands winston the Error itself, whose message and stack are not enumerable.
      const isError = raw instanceof Error;
      const meta: Record<string, unknown> = {};
      for (const key of Object.keys(info)) if (key !== 'level' && key !== 'message') meta[key] = info[key];
      if (isError && meta.stack === undefined) meta.stack = (raw as Error).stack;
      const out: Info = {
        ...(redactValue(meta) as Record<string, unknown>),
        level,
        message: redactText(stringifyMessage(info.message)),
        [LEVEL]: level,
      };
      if (info[SPLAT] !== undefined) out[SPLAT] = redactValue(info[SPLAT]);
      return out as unknown as winston.Logform.TransformableInfo;
    } catch {
      return { level, message: '[log line dropped: redaction failed]', [LEVEL]: level } as unknown as winston.Logform.TransformableInfo;
    }
  })();
}

const COLOURS: Readonly<Record<string, string>> = {
  error: '\u001b[31m',
  warn: '\u001b[33m',
  info: '\u001b[32m',
  debug: '\u001b[34m',
};
const RESET = '\u001b[39m';

function humanValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return safeJson(v);
}

/** logfmt: bare when it can be, else a double-quoted string (objects as their JSON). */
function logfmtValue(v: unknown): string {
  const text = typeof v === 'string' ? v : safeJson(v);
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * The trace and span of the operation a line was written in, so a log line leads to its trace
 * (Grafana's "logs to traces"). Only a sampled, valid span: a line outside any span, or in one
 * nobody records, carries nothing.
 */
function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpanContext(context.active());
  if (span === undefined || !isSpanContextValid(span) || (span.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return { trace_id: span.traceId, span_id: span.spanId };
}

export type LineFormat = Exclude<LogFormat, 'auto'>;

function lineFormat(opts: { format: LineFormat; colour: boolean }): winston.Logform.Format {
  return winston.format((raw) => {
    const info = raw as unknown as Info;
    const level = String(info.level);
    const time = new Date().toISOString();
    const component = typeof info.component === 'string' ? info.component : DEFAULT_COMPONENT;
    const meta: Record<string, unknown> = {};
    for (const key of Object.keys(info)) if (!RESERVED.has(key)) meta[key] = info[key];
    if (meta.trace_id === undefined) Object.assign(meta, activeTraceIds());
    try {
      if (opts.format === 'json') {
        info[MESSAGE] = safeJson({ level, message: info.message, time, component, ...meta });
      } else if (opts.format === 'logfmt') {
        const fields = Object.entries({ time, level, component, msg: info.message, ...meta })
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${logfmtValue(v)}`);
        info[MESSAGE] = fields.join(' ');
      } else {
        const label = opts.colour ? `${COLOURS[level] ?? ''}${level.toUpperCase()}${RESET}` : level.toUpperCase();
        const message = String(info.message).replace(/\r?\n/g, '\\n');
        const fields = Object.entries(meta)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${humanValue(v)}`)
          .join(' ');
        info[MESSAGE] = `${time} ${label} [${component}] ${message}${fields ? ` ${fields}` : ''}`;
      }
    } catch {
      info[MESSAGE] = safeJson({ level, message: '[log line dropped: serialisation failed]', time, component });
    }
    return raw;
  })();
}

const ignoreStreamError = (): void => {};

/**
 * Writes finished lines; a failing stream loses the line, never the bot.
 *
 * A write to a closed pipe (the reader of stderr exited: EPIPE) fails asynchronously: the stream
 * emits 'error', and with no listener Node turns that into an uncaught exception that kills the
 * bot. The write's callback runs before that event, so the line's failure is answered there the
 * way Node's own console answers it: a one-shot no-op listener, added only when nobody else
 * listens. A bot with its own 'error' listener keeps it in charge, and a bot that writes to the
 * closed stream itself still meets the error as it would unmonitored.
 */
class LineTransport extends Writable {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly format: LineFormat,
  ) {
    super({ objectMode: true });
  }

  /** Lines lost since this stream last took one, and the first error's code, for the line that reports the loss. */
  private linesLost = 0;
  private lostBecause: string | undefined;

  private readonly afterWrite = (error?: Error | null): void => {
    if (error) {
      try {
        if (this.out.listenerCount('error') === 0) this.out.once('error', ignoreStreamError);
      } catch {
        // A stream without listener bookkeeping: nothing more to do.
      }
      if (this.linesLost++ === 0) this.lostBecause = (error as NodeJS.ErrnoException).code ?? error.name;
      return;
    }
    if (this.linesLost > 0) {
      // Output works again: say once what went missing, then count afresh.
      const lost = this.linesLost;
      this.linesLost = 0;
      const message = `${lost} monitoring log line(s) lost while the log stream was not writable (${this.lostBecause ?? 'error'})`;
      const time = new Date().toISOString();
      this.send(
        this.format === 'json'
          ? `${safeJson({ level: 'warn', message, time, component: DEFAULT_COMPONENT })}\n`
          : this.format === 'logfmt'
            ? `time=${time} level=warn component=${DEFAULT_COMPONENT} msg=${logfmtValue(message)}\n`
            : `${time} WARN [${DEFAULT_COMPONENT}] ${message}\n`,
      );
    }
  };

  private send(text: string): void {
    try {
      this.out.write(text, this.afterWrite);
    } catch (error) {
      // A destroyed stream can throw synchronously (ERR_STREAM_DESTROYED on some streams).
      this.afterWrite(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // winston checks for `log` to tell a modern transport from a legacy one.
  log(info: Info, next: () => void): void {
    this.emitLine(info);
    next();
  }

  override _write(info: Info, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.emitLine(info);
    callback();
  }

  emitLine(info: Info): void {
    const line = info[MESSAGE];
    if (typeof line === 'string') this.send(`${line}\n`);
  }
}

function winstonOptions(opts: LoggerOptions, currentLevel: () => string): winston.LoggerOptions {
  const format: LineFormat = opts.format === undefined || opts.format === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : opts.format;
  // Colour only for a person at a terminal.
  const colour = format === 'text' && process.stderr.isTTY === true && !process.env.NO_COLOR;
  return {
    level: opts.level,
    levels: winston.config.npm.levels,
    exitOnError: false,
    format: winston.format.combine(redactFormat(currentLevel), lineFormat({ format, colour })),
    transports: [new LineTransport(opts.stream ?? process.stderr, format) as unknown as winston.transport],
  };
}

function neverThrow(logger: Logger): Logger {
  logger.on('error', () => {
    // A transport or format error is already lost; rethrowing it would reach the bot.
  });
  const target = logger as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of [...LEVELS, 'log'] as const) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    // Own properties on the instance, so child loggers (Object.create of this one) inherit them.
    target[method] = function (this: unknown, ...args: unknown[]): unknown {
      try {
        return original.apply(this ?? logger, args);
      } catch {
        return this ?? logger;
      }
    };
  }
  return logger;
}

/** A winston logger whose every line is redacted, writing to stderr unless told otherwise. */
export function createLogger(opts: LoggerOptions): Logger {
  let logger: Logger | undefined;
  const currentLevel = (): string => logger?.level ?? opts.level;
  logger = winston.createLogger(winstonOptions(opts, currentLevel));
  return neverThrow(logger);
}

/**
 * The same line `logger[level](message, meta)` would write — same formats, same redaction, same
 * transport — without the trip through winston's object-mode streams. For the lines the plugin
 * writes at the bot's pace (a notice per copied trade): measured at five lines a second in a
 * mostly idle bot, winston's stream machinery cost as much CPU again as formatting the line.
 */
export function writeLine(logger: Logger, level: LogLevel, message: string, meta: Record<string, unknown> = {}, whateverTheLevel = false): void {
  try {
    if (!whateverTheLevel && !logger.isLevelEnabled(level)) return;
    const format = logger.format as winston.Logform.Format & { options?: unknown };
    const info = format.transform(
      { ...meta, level, message, [LEVEL]: level, [FORCED]: whateverTheLevel } as winston.Logform.TransformableInfo,
      format.options,
    );
    if (info === false || info === true) return;
    for (const transport of logger.transports as unknown[]) {
      if (transport instanceof LineTransport) transport.emitLine(info as unknown as Info);
    }
  } catch {
    // A line lost, never the bot.
  }
}

let shared: Logger | undefined;

/**
 * The plugin-wide logger (level info until `configureLogger`). A function so that importing this
 * module builds nothing, and so every caller sees the reconfigured instance.
 */
export function log(): Logger {
  shared ??= createLogger({ level: 'info' });
  return shared;
}

/** Reconfigures the shared logger in place: children and held references follow. */
export function configureLogger(opts: LoggerOptions): void {
  try {
    if (shared === undefined) {
      shared = createLogger(opts);
      return;
    }
    const logger = shared;
    logger.configure(winstonOptions(opts, () => logger.level));
  } catch {
    // Keep the previous configuration: a bad option must not cost the plugin its logger.
  }
}

export interface DiagBridgeOptions {
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
  /** The same diag message within this window is logged once. */
  windowMs?: number;
  /** Known, harmless notices that would otherwise print on every start. */
  ignore?: readonly RegExp[];
  /**
   * OTEL_LOG_LEVEL as the SDKs read it (none, error, warn, info, debug, verbose, all; any case).
   * Set, it decides which of the SDK's lines are written, whatever the plugin's own level; unset,
   * warnings and errors pass, within the plugin's level.
   */
  otelLogLevel?: string;
}

const DIAG_WINDOW_MS = 60_000;
const DIAG_MEMORY = 500;

/**
 * Routes OpenTelemetry's diag messages (WARN and above) into `logger`, so SDK errors are redacted
 * like everything else, and a failing exporter that repeats itself every few seconds writes one
 * line a minute. Returns a function that detaches the bridge.
 */
export function bridgeOtelDiag(logger: Logger, options: DiagBridgeOptions = {}): () => void {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? DIAG_WINDOW_MS;
  const seen = new Map<string, { at: number; suppressed: number }>();
  const explicit = (options.otelLogLevel ?? '').trim() !== '';

  const emit = (level: LogLevel, message: string, args: unknown[]): void => {
    try {
      const text = String(message);
      if (options.ignore?.some((pattern) => pattern.test(text))) return;
      // Digits vary between repeats of the same failure (ports, durations, counts).
      const key = `${level} ${text.replace(/\d+/g, '#').slice(0, 300)}`;
      const t = now();
      const last = seen.get(key);
      if (last !== undefined && t - last.at < windowMs) {
        last.suppressed++;
        return;
      }
      const meta: Record<string, unknown> = { component: 'otel' };
      if (args.length > 0) meta.args = args;
      if (last !== undefined && last.suppressed > 0) meta.suppressed = last.suppressed;
      seen.delete(key);
      seen.set(key, { at: t, suppressed: 0 });
      if (seen.size > DIAG_MEMORY) {
        const oldest = seen.keys().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
      writeLine(logger, level, text, meta, explicit);
    } catch {
      // The diag channel is how the SDK reports its own trouble; it must not add more.
    }
  };

  const bridge: DiagLogger = {
    error: (message, ...args) => emit('error', message, args),
    warn: (message, ...args) => emit('warn', message, args),
    info: (message, ...args) => emit('info', message, args),
    debug: (message, ...args) => emit('debug', message, args),
    verbose: (message, ...args) => emit('debug', message, args),
  };
  try {
    diag.setLogger(bridge, { logLevel: explicit ? diagLogLevelFromString(options.otelLogLevel) ?? DiagLogLevel.INFO : DiagLogLevel.WARN, suppressOverrideMessage: true });
  } catch {
    return () => {};
  }
  return () => {
    try {
      diag.disable();
    } catch {
      // Nothing to undo.
    }
  };
}
