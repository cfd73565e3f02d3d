import { afterEach, describe, expect, it } from 'vitest';
import {
  TELEGRAM_MAX_CHARS,
  TELEGRAM_MAX_PARTS,
  escapeHtml,
  formatLogLine,
  formatTelegram,
} from '../../src/alerts/format.js';
import { createLogSink } from '../../src/alerts/log-sink.js';
import type { Notification, SinkLogger } from '../../src/alerts/types.js';
import { REDACTED, clearRegisteredSecrets, registerSecrets } from '../../src/core/redact.js';

// Hardhat's well-known development key and account: public, never funded on a real chain.
const PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const AT = Date.UTC(2025, 0, 2, 3, 4, 5);

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    kind: 'firing',
    rule: 'DailyLossCritical',
    component: 'trade_executor',
    severity: 'critical',
    title: 'Daily loss limit reached',
    description: 'Loss 612.40 USDC > limit 500 <script>&',
    silent: false,
    at: AT,
    ...overrides,
  };
}

/** What Telegram's HTML parser needs to accept a part on its own. */
function expectValidPart(part: string): void {
  expect(part.length).toBeLessThanOrEqual(TELEGRAM_MAX_CHARS);
  expect((part.match(/<b>/g) ?? []).length).toBe((part.match(/<\/b>/g) ?? []).length);
  // Tags only in the first line, so no cut can ever have split one.
  expect(part.split('\n').slice(1).join('\n')).not.toMatch(/<\/?b>/);
  const text = part.replace(/<\/?b>/g, '');
  expect(text).not.toMatch(/[<>]/);
  expect(text.replace(/&(?:amp|lt|gt|quot);/g, '')).not.toContain('&');
  // A lone surrogate does not survive a UTF-8 round trip; Telegram would refuse the request.
  expect(Buffer.from(part, 'utf8').toString('utf8')).toBe(part);
}

afterEach(() => clearRegisteredSecrets());

describe('formatTelegram', () => {
  it('renders a firing alert with severity marker, bold title, metadata and escaped description', () => {
    expect(formatTelegram(notification(), { staging: false })).toEqual([
      '\u{1F534} <b>CRITICAL: Daily loss limit reached</b>\n' +
        'DailyLossCritical \u00B7 trade_executor \u00B7 2025-01-02 03:04:05 UTC\n\n' +
        'Loss 612.40 USDC &gt; limit 500 &lt;script&gt;&amp;',
    ]);
  });

  it('names the trace of the operation a notice stems from, in the metadata line (no tag: tags stay in the first line)', () => {
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    const [text] = formatTelegram(notification({ kind: 'event', severity: 'warning', trace }), { staging: false });
    expect(text!.split('\n')[1]).toBe('DailyLossCritical \u00B7 trade_executor \u00B7 2025-01-02 03:04:05 UTC \u00B7 trace 4bf92f3577b34da6a3ce929d0e0e4736');
    expectValidPart(text!);
    // Anything but a trace id is not shown.
    const [odd] = formatTelegram(notification({ trace: { traceId: '<b>x</b>', spanId: '' } }), { staging: false });
    expect(odd).not.toContain('trace');
  });

  it('prefixes [STAGING] when staging', () => {
    const [text] = formatTelegram(notification(), { staging: true });
    expect(text).toBe(
      '[STAGING] \u{1F534} <b>CRITICAL: Daily loss limit reached</b>\n' +
        'DailyLossCritical \u00B7 trade_executor \u00B7 2025-01-02 03:04:05 UTC\n\n' +
        'Loss 612.40 USDC &gt; limit 500 &lt;script&gt;&amp;',
    );
  });

  it('reads as resolved, with a check mark and the severity it had', () => {
    const parts = formatTelegram(
      notification({ kind: 'resolved', severity: 'warning', description: 'Daily loss back under 80% of the limit' }),
      { staging: false },
    );
    expect(parts).toEqual([
      '\u2705 <b>RESOLVED: Daily loss limit reached</b>\n' +
        'DailyLossCritical \u00B7 trade_executor \u00B7 was warning \u00B7 2025-01-02 03:04:05 UTC\n\n' +
        'Daily loss back under 80% of the limit',
    ]);
  });

  it('renders an info event as news, without a severity label', () => {
    const [text] = formatTelegram(
      notification({ kind: 'event', rule: 'PolymarketBotTradeExecuted', severity: 'info', title: 'Trade executed', description: '' }),
      { staging: false },
    );
    expect(text).toBe('\u{1F535} <b>Trade executed</b>\nPolymarketBotTradeExecuted \u00B7 trade_executor \u00B7 2025-01-02 03:04:05 UTC');
  });

  it('escapes markup in the title, rule and component as well', () => {
    const [text] = formatTelegram(
      notification({ title: '</b><i>x</i>', rule: 'A&B', component: '<c>' }),
      { staging: false },
    );
    expect(text).toContain('<b>CRITICAL: &lt;/b&gt;&lt;i&gt;x&lt;/i&gt;</b>');
    expect(text).toContain('A&amp;B \u00B7 &lt;c&gt;');
    expectValidPart(text!);
  });

  it('redacts secrets and shortens wallet addresses in every field', () => {
    registerSecrets(['hunter2-is-a-password']);
    const [text] = formatTelegram(
      notification({
        title: `Key ${PRIVATE_KEY}`,
        description: `wallet ${ADDRESS} used private_key=${PRIVATE_KEY} and hunter2-is-a-password`,
      }),
      { staging: false },
    );
    expect(text).not.toContain(PRIVATE_KEY.slice(2));
    expect(text).not.toContain(ADDRESS);
    expect(text).not.toContain('hunter2-is-a-password');
    expect(text).toContain(REDACTED);
    expect(text).toContain(`\u2026${ADDRESS.slice(-6)}`);
  });

  it('splits a 10 000-character description into valid parts of at most 4096 characters, at line breaks', () => {
    const line = 'Wallet scan <late> & slow: 1234567890 ABCDEFGHIJ abcdefghij 1234567890';
    const lines = Array.from({ length: 140 }, (_, i) => `${String(i).padStart(3, '0')} ${line}`);
    const description = lines.join('\n');
    expect(description.length).toBeGreaterThan(10_000);
    const parts = formatTelegram(notification({ description }), { staging: true });
    expect(parts.length).toBeGreaterThan(2);
    parts.forEach((part, i) => {
      expectValidPart(part);
      expect(part.startsWith(`[STAGING] \u{1F534} <b>CRITICAL: Daily loss limit reached</b> (${i + 1}/${parts.length})\n`)).toBe(true);
    });
    // Cut at line breaks: every original line arrives whole, in order.
    const bodies = parts.map((p) => p.slice(p.indexOf('\n') + 1)).join('\n');
    const escaped = lines.map(escapeHtml);
    const received = bodies.split('\n').filter((l) => /^\d{3} /.test(l));
    expect(received).toEqual(escaped);
  });

  it('cuts a single endless line without splitting an entity', () => {
    // Entities of every length at every offset: some cut must land inside one if it is careless.
    const description = '<&>a'.repeat(2_500);
    const parts = formatTelegram(notification({ description }), { staging: false });
    expect(parts.length).toBeGreaterThan(1);
    parts.forEach(expectValidPart);
    const body = parts.map((p, i) => (i === 0 ? p.slice(p.indexOf('\n\n') + 2) : p.slice(p.indexOf('\n') + 1))).join('');
    expect(body).toBe(escapeHtml(description));
  });

  it('cuts a line of emoji without splitting a surrogate pair', () => {
    const description = `x${'\u{1F4B0}'.repeat(5_000)}`;
    const parts = formatTelegram(notification({ description }), { staging: false });
    expect(parts.length).toBeGreaterThan(1);
    parts.forEach(expectValidPart);
  });

  it(`sends at most ${TELEGRAM_MAX_PARTS} parts and says the rest was cut`, () => {
    const description = 'qzx7 '.repeat(40_000);
    const parts = formatTelegram(notification({ description }), { staging: false });
    expect(parts).toHaveLength(TELEGRAM_MAX_PARTS);
    parts.forEach(expectValidPart);
    expect(parts.at(-1)!.endsWith('\u2026 [truncated]')).toBe(true);
  });

  it('keeps a message that fits in one part whole', () => {
    const description = 'z'.repeat(3_000);
    const parts = formatTelegram(notification({ description }), { staging: false });
    expect(parts).toHaveLength(1);
    expect(parts[0]).toContain(description);
  });
});

describe('formatLogLine', () => {
  it('is one plain, unescaped, redacted line', () => {
    const line = formatLogLine(
      notification({ description: `first <line> & more\nsecond line from ${ADDRESS}` }),
    );
    expect(line).toBe(
      `Alert firing critical DailyLossCritical (trade_executor): Daily loss limit reached \u2014 first <line> & more | second line from \u2026${ADDRESS.slice(-6)}`,
    );
  });
});

describe('createLogSink', () => {
  type Line = { level: string; message: string; meta: unknown };
  function fakeLogger(): SinkLogger & { debug: SinkLogger['info']; lines: Line[] } {
    const lines: Line[] = [];
    return {
      lines,
      warn: (message, meta) => lines.push({ level: 'warn', message, meta }),
      info: (message, meta) => lines.push({ level: 'info', message, meta }),
      debug: (message, meta) => lines.push({ level: 'debug', message, meta }),
    };
  }

  it('writes one line per notification with structured fields: warn for critical and warning, debug for a routine notice', () => {
    const logger = fakeLogger();
    const sink = createLogSink(logger);
    sink.deliver(notification());
    sink.deliver(notification({ severity: 'warning', kind: 'resolved' }));
    sink.deliver(notification({ severity: 'info', kind: 'event', rule: 'PolymarketBotTradeExecuted', routine: true }));
    sink.deliver(notification({ severity: 'info', kind: 'event', rule: 'PolymarketBotMonitoringCircuitBreakerRecovered', component: 'circuit_breaker' }));
    // A routine notice that went wrong is not routine for the log.
    sink.deliver(notification({ severity: 'warning', kind: 'event', rule: 'PolymarketBotTradeFailed', routine: true }));
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'warn', 'debug', 'info', 'warn']);
    expect(logger.lines[2]!.meta).toMatchObject({
      rule: 'PolymarketBotTradeExecuted',
      component: 'trade_executor',
      severity: 'info',
      kind: 'event',
    });
    expect(logger.lines[0]!.message).toBe(formatLogLine(notification()));
  });

  it('carries the trace and span ids of the operation a notice stems from', () => {
    const logger = fakeLogger();
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    createLogSink(logger).deliver(notification({ severity: 'warning', kind: 'event', rule: 'PolymarketBotTradeFailed', trace }));
    expect(logger.lines[0]!.meta).toMatchObject({ trace_id: trace.traceId, span_id: trace.spanId });
  });

  it('never throws, even when the logger does', () => {
    const sink = createLogSink({
      warn: () => {
        throw new Error('transport closed');
      },
      info: () => {
        throw new Error('transport closed');
      },
      debug: () => {
        throw new Error('transport closed');
      },
    });
    expect(() => sink.deliver(notification())).not.toThrow();
  });
});

describe("Telegram's 4096-character limit, as the Bot API states it", () => {
  // Written out rather than imported: a change to TELEGRAM_MAX_CHARS must fail here.
  const SEND_MESSAGE_LIMIT = 4096;

  /** A single-line description sized so that the one-part message is `length` characters long. */
  function messageOf(length: number): string[] {
    const probe = formatTelegram(notification({ description: 'x' }), { staging: false })[0]!;
    return formatTelegram(notification({ description: 'x'.repeat(length - probe.length + 1) }), { staging: false });
  }

  it('sends a message of exactly 4096 characters as one part', () => {
    const parts = messageOf(SEND_MESSAGE_LIMIT);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toHaveLength(SEND_MESSAGE_LIMIT);
  });

  it('splits a message of 4097 characters into parts of at most 4096', () => {
    const parts = messageOf(SEND_MESSAGE_LIMIT + 1);
    expect(parts).toHaveLength(2);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(SEND_MESSAGE_LIMIT);
      expectValidPart(part);
    }
  });
});
