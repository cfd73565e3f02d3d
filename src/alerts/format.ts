// Turns a notification into text: Telegram HTML messages and a plain log line.
//
// Every piece of data passes through `redactText` before anything else, even though evaluators
// are meant to hand over clean text: an alert is the one output a human forwards and screenshots.

import type { Severity } from '../core/model.js';
import { redactText } from '../core/redact.js';
import type { Notification } from './types.js';

/**
 * Telegram's sendMessage limit is 4096 characters after entity parsing. Parts are cut so that the
 * raw HTML (tags and entities included, in UTF-16 units) fits, which is never more than what
 * Telegram counts, so no part is ever refused for length whatever way it counts.
 */
export const TELEGRAM_MAX_CHARS = 4096;

/** A runaway description must not become a flood of messages (and then a 429 for everything after). */
export const TELEGRAM_MAX_PARTS = 10;

export interface TelegramFormatOptions {
  /** Prefixes every message, each part of a split one included, with [STAGING]. */
  staging: boolean;
}

const MARKER: Readonly<Record<Severity, string>> = {
  critical: '\u{1F534}', // red circle
  warning: '\u{1F7E0}', // orange circle
  info: '\u{1F535}', // blue circle
};
const RESOLVED_MARKER = '\u2705'; // check mark
const SEPARATOR = ' \u00B7 ';
const TRUNCATED = '\u2026 [truncated]';

const MAX_TITLE_CHARS = 200;
const MAX_LABEL_CHARS = 80;
// Far more than fits in TELEGRAM_MAX_PARTS messages, so the bound costs nothing visible; it keeps
// redaction from running over megabytes on a hostile description.
const MAX_DESCRIPTION_INPUT = 64 * 1024;
// Longer than any secret `redactText` recognises.
const CUT_EDGE_CHARS = 256;
const MAX_LOG_DESCRIPTION = 2000;

// C0 controls other than tab and newline, and DEL: Telegram refuses some, none is useful.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * Escapes text for Telegram's HTML parse mode. `"` is left alone: it only matters inside an
 * attribute value, and no data is ever placed in one.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function normalise(value: unknown): string {
  return String(value ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '');
}

/** Redacted first, then shortened: cutting first could leave a secret too short to be recognised. */
function cleanLabel(value: unknown, max: number): string {
  const text = redactText(normalise(value).replace(/\s+/g, ' ').trim());
  return text.length > max ? `${sliceSafe(text, max - 1)}\u2026` : text;
}

function cleanDescription(value: unknown): string {
  let text = normalise(value);
  if (text.length > MAX_DESCRIPTION_INPUT) {
    // The bound may cut a secret in two, leaving a head too short to recognise at the very end;
    // dropping that end after redaction drops the head with it.
    text = redactText(sliceSafe(text, MAX_DESCRIPTION_INPUT));
    return sliceSafe(text, text.length - CUT_EDGE_CHARS);
  }
  return redactText(text).trim();
}

/** Never leaves half of a surrogate pair at the end (it would make the part invalid UTF-8). */
function sliceSafe(text: string, end: number): string {
  let cut = Math.max(0, Math.min(end, text.length));
  if (cut > 0 && cut < text.length && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
  return text.slice(0, cut);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function formatTime(at: number): string | null {
  if (!Number.isFinite(at)) return null;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return null;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function headline(n: Notification, title: string): string {
  if (n.kind === 'resolved') return `RESOLVED: ${title}`;
  // An info notice reads as news, not as an alarm.
  if (n.severity === 'info') return title;
  return `${escapeHtml(cleanLabel(n.severity, MAX_LABEL_CHARS).toUpperCase())}: ${title}`;
}

function marker(n: Notification): string {
  return n.kind === 'resolved' ? RESOLVED_MARKER : (MARKER[n.severity] ?? MARKER.info);
}

// ---------------------------------------------------------------------------------------------
// Splitting

/**
 * Where to end a part of at most `max` characters of escaped text (which holds no tags, only the
 * entities `escapeHtml` wrote): at a line break, else at a space, else anywhere that is not inside
 * an entity or a surrogate pair. Returns [end of this part, start of the next].
 */
function findCut(text: string, max: number): [number, number] {
  const window = text.slice(0, max + 1);
  // Not too early: a break near the start would waste a whole message on a few characters.
  const newline = window.lastIndexOf('\n');
  if (newline > max / 2) return [newline, newline + 1];
  const space = window.lastIndexOf(' ');
  if (space > max / 2) return [space, space + 1];
  let cut = max;
  const amp = text.lastIndexOf('&', cut - 1);
  // The longest entity written here is `&amp;` (5 characters).
  if (amp >= 0 && amp > cut - 5 && text.indexOf(';', amp) >= cut) cut = amp;
  if (isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
  return [cut, cut];
}

function splitText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const [end, next] = findCut(rest, max);
    parts.push(rest.slice(0, end).trimEnd());
    rest = rest.slice(next);
  }
  parts.push(rest);
  return parts;
}

/** Shortens the last kept part so that it still fits once the truncation notice is appended. */
function withTruncationNotice(part: string, max: number): string {
  const room = max - TRUNCATED.length - 1;
  const kept = part.length > room ? part.slice(0, findCut(part, room)[0]).trimEnd() : part;
  return `${kept}\n${TRUNCATED}`;
}

// ---------------------------------------------------------------------------------------------

/**
 * The notification as one or more Telegram messages in HTML parse mode, each at most
 * TELEGRAM_MAX_CHARS long and valid on its own. Tags appear only in each part's first line, so
 * no cut can fall inside one; a split message repeats that first line with "(k/n)".
 *
 *     [STAGING] 🔴 <b>CRITICAL: Daily loss limit reached</b>
 *     DailyLossCritical · trade_executor · 2025-01-02 03:04:05 UTC
 *
 *     Daily loss $612.40 exceeds the $500.00 limit
 */
export function formatTelegram(n: Notification, opts: TelegramFormatOptions): string[] {
  const prefix = opts.staging ? '[STAGING] ' : '';
  const title = escapeHtml(cleanLabel(n.title, MAX_TITLE_CHARS)) || escapeHtml(cleanLabel(n.rule, MAX_LABEL_CHARS));
  const head = `${prefix}${marker(n)} <b>${headline(n, title)}</b>`;
  const header = (k: number, total: number): string => (total > 1 ? `${head} (${k}/${total})` : head);

  const meta = [escapeHtml(cleanLabel(n.rule, MAX_LABEL_CHARS)), escapeHtml(cleanLabel(n.component, MAX_LABEL_CHARS))];
  if (n.kind === 'resolved') meta.push(`was ${escapeHtml(cleanLabel(n.severity, MAX_LABEL_CHARS))}`);
  const time = formatTime(n.at);
  if (time !== null) meta.push(time);
  // Ids are hex by construction (the SDK's span context); checked anyway, as everything else here is.
  if (n.trace !== undefined && /^[0-9a-f]{32}$/.test(n.trace.traceId)) meta.push(`trace ${n.trace.traceId}`);
  const description = escapeHtml(cleanDescription(n.description));
  const body = meta.filter((m) => m !== '').join(SEPARATOR) + (description === '' ? '' : `\n\n${description}`);

  const single = `${header(1, 1)}\n${body}`;
  if (single.length <= TELEGRAM_MAX_CHARS) return [single];

  // Room for the body once the longest header, "(10/10)", and its line break are in.
  const room = TELEGRAM_MAX_CHARS - header(TELEGRAM_MAX_PARTS, TELEGRAM_MAX_PARTS).length - 1;
  let parts = splitText(body, room);
  if (parts.length > TELEGRAM_MAX_PARTS) {
    parts = parts.slice(0, TELEGRAM_MAX_PARTS);
    parts[parts.length - 1] = withTruncationNotice(parts[parts.length - 1]!, room);
  }
  return parts.map((part, i) => `${header(i + 1, parts.length)}\n${part}`);
}

/** One plain line for the log sink: redacted, unescaped, without line breaks, bounded. */
export function formatLogLine(n: Notification): string {
  const title = cleanLabel(n.title, MAX_TITLE_CHARS);
  let description = cleanDescription(n.description).replace(/\s*\n\s*/g, ' | ');
  if (description.length > MAX_LOG_DESCRIPTION) description = `${sliceSafe(description, MAX_LOG_DESCRIPTION)}\u2026`;
  const what = `${cleanLabel(n.kind, MAX_LABEL_CHARS)} ${cleanLabel(n.severity, MAX_LABEL_CHARS)}`;
  const where = `${cleanLabel(n.rule, MAX_LABEL_CHARS)} (${cleanLabel(n.component, MAX_LABEL_CHARS)})`;
  return `Alert ${what} ${where}: ${title}${description === '' ? '' : ` \u2014 ${description}`}`;
}
