// The one place that guarantees no secret reaches a log line, span attribute, label, alert or
// HTTP response. Every rule errs towards masking: a hidden tx hash costs a lookup, a leaked
// private key costs the wallet.

import { createRequire } from 'node:module';

export const REDACTED = '[REDACTED]';

const ELLIPSIS = '\u2026';

/** `…` + the last 6 characters: enough to tell wallets apart in a dashboard, too little to paste. */
export function shortAddress(addr: string): string {
  const a = String(addr).trim();
  return ELLIPSIS + a.slice(-6);
}

// ---------------------------------------------------------------------------------------------
// Keys that name a secret

const SECRET_WORD =
  /(?:^|_)(?:private_?key|priv_?key|secrets?|pass_?phrase|password|passwd|pwd|api_?key|access_?key|token|mnemonics?|seed(?:_?phrase)?|authorization|cookies?|credentials?|creds)(?:_|$)/;

// Polymarket's CLOB is full of token ids (outcome tokens), which are public and what an operator
// most needs to read; without this every `tokenId` would be masked.
const PUBLIC_TOKEN_FIELD =
  /(?:^|_)token_(?:id|ids|address|addr|symbol|name|decimals|amount|balance|count|type|index|price|standard|side|outcome)(?=_|$)/g;

const keyCache = new Map<string, boolean>();
const KEY_CACHE_LIMIT = 2000;

function normalizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');
}

/** Whether a property, header, env var or `key=` name looks like it holds a secret. */
export function isSecretKey(key: string): boolean {
  const cached = keyCache.get(key);
  if (cached !== undefined) return cached;
  const normalized = normalizeKey(key).replace(PUBLIC_TOKEN_FIELD, '_x_');
  const secret = SECRET_WORD.test(normalized);
  // Keys repeat (the same few metadata fields on every line); the bound stops hostile input
  // with unique keys from growing the cache forever.
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(key, secret);
  return secret;
}

const MNEMONIC_KEY = /(?:^|_)(?:mnemonics?|seed|seed_?phrase|pass_?phrase|password)(?:_|$)/;

// ---------------------------------------------------------------------------------------------
// Known secret values

const knownSecrets = new Set<string>();
let knownSecretsPattern: RegExp | null = null;
const MIN_SECRET_LENGTH = 8;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function rebuildKnownSecretsPattern(): void {
  if (knownSecrets.size === 0) {
    knownSecretsPattern = null;
    return;
  }
  // Longest first, so a secret that contains another is masked whole.
  const alternatives = [...knownSecrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
  // Case-insensitive: a hex key is the same key in upper case, and masking errs towards more.
  knownSecretsPattern = new RegExp(alternatives.join('|'), 'gi');
}

/**
 * Masks these literal values wherever they appear from now on. Values shorter than 8 characters
 * are ignored: they would mask ordinary words and are not credentials worth the name.
 */
export function registerSecrets(values: Iterable<string>): void {
  let changed = false;
  const add = (v: string): void => {
    if (v.length >= MIN_SECRET_LENGTH && !knownSecrets.has(v)) {
      knownSecrets.add(v);
      changed = true;
    }
  };
  for (const raw of values) {
    if (typeof raw !== 'string') continue;
    const v = raw.trim();
    add(raw);
    add(v);
    // The same secret often reaches a log already escaped: inside a URL or a JSON string.
    try {
      add(encodeURIComponent(v));
    } catch {
      // A lone surrogate cannot be URI-encoded; the plain form is still registered.
    }
    add(JSON.stringify(v).slice(1, -1));
    // A 0x key is the same key without its prefix (how most signing libraries print it).
    const hex = /^0x([0-9a-f]{16,})$/i.exec(v);
    if (hex?.[1]) add(hex[1]);
  }
  if (changed) {
    rebuildKnownSecretsPattern();
    rebuildSecretWindows();
  }
}

// ---------------------------------------------------------------------------------------------
// Known secrets by what they are, not how they are spelt: any 12 consecutive characters of one,
// in any case, with or without 0x, or of its hex, base64 or base64url encoding.

/** The shortest run of a known secret that is masked wherever it appears. */
export const SECRET_WINDOW = 12;
/** Past this length a secret's tail adds nothing a window of its head would not catch. */
const MAX_INDEXED_SECRET = 4096;
/** Upper bound on the index, whatever is registered (each entry is a 12-character string). */
const MAX_WINDOWS = 200_000;

/** Every window of every known secret's forms, folded (see `foldCode`), and their rolling hashes. */
let secretWindows: Set<string> | null = null;
let secretWindowHashes: Set<number> = new Set();
/** Known mnemonics, as their word lists, for runs of their words whatever the separators. */
let knownMnemonics: string[][] = [];

/**
 * Folds case and base64's two alphabets into one, character by character: a window of the text
 * lines up with the text itself. ASCII only: a Unicode case mapping can change lengths.
 */
function foldCode(c: number): number {
  if (c >= 65 && c <= 90) return c + 32; // A-Z
  if (c === 43) return 45; // + → -
  if (c === 47) return 95; // / → _
  return c;
}

function fold(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(foldCode(s.charCodeAt(i)));
  return out;
}

// A polynomial rolling hash over folded character codes, so a scan costs a few integer
// operations per character and builds a string only where a window's hash is known.
const HASH_BASE = 131;
const HASH_DROP = (() => {
  let p = 1;
  for (let i = 1; i < SECRET_WINDOW; i++) p = Math.imul(p, HASH_BASE);
  return p;
})();

function windowHash(folded: string, start: number): number {
  let h = 0;
  for (let i = start; i < start + SECRET_WINDOW; i++) h = (Math.imul(h, HASH_BASE) + folded.charCodeAt(i)) | 0;
  return h;
}

/** The spellings a secret reaches a log in: itself, without 0x, and its bytes as hex and base64 at each alignment. */
function secretForms(secret: string): string[] {
  const v = secret.slice(0, MAX_INDEXED_SECRET);
  const forms = [v];
  // Text is matched case-blind, but an encoding of upper-cased text is not a re-cased encoding:
  // each casing of the secret is encoded on its own.
  const encodings: Buffer[] = [...new Set([v, v.toUpperCase(), v.toLowerCase()])].map((c) => Buffer.from(c, 'utf8'));
  const hexKey = /^(?:0x)?([0-9a-f]+)$/i.exec(v);
  if (hexKey?.[1]) {
    forms.push(hexKey[1]);
    // A hex key is also the bytes it spells: printed as base64 by some libraries.
    if (hexKey[1].length % 2 === 0) encodings.push(Buffer.from(hexKey[1], 'hex'));
  }
  for (const bytes of encodings) {
    forms.push(bytes.toString('hex'));
    // Base64 encodes 3 bytes as 4 characters: a piece of the secret encoded on its own lines up
    // with one of the three encodings starting at byte 0, 1 or 2. The last characters of each
    // depend on where the piece ends, so they are left out.
    for (let offset = 0; offset < 3 && offset < bytes.length; offset++) {
      const encoded = bytes.subarray(offset).toString('base64').replace(/=+$/, '');
      forms.push(encoded.slice(0, Math.max(0, encoded.length - 2)));
    }
  }
  return forms;
}

function rebuildSecretWindows(): void {
  const windows = new Set<string>();
  const hashes = new Set<number>();
  const mnemonics: string[][] = [];
  for (const secret of knownSecrets) {
    const words = secret.trim().toLowerCase().split(/[\s,;|_.-]+/);
    if (words.length >= MNEMONIC_MIN_WORDS && words.every((w) => /^[a-z]{3,8}$/.test(w))) mnemonics.push(words);
    for (const form of secretForms(secret)) {
      const folded = fold(form);
      for (let i = 0; i + SECRET_WINDOW <= folded.length && windows.size < MAX_WINDOWS; i++) {
        windows.add(folded.slice(i, i + SECRET_WINDOW));
        hashes.add(windowHash(folded, i));
      }
    }
  }
  secretWindows = windows.size > 0 ? windows : null;
  secretWindowHashes = hashes;
  knownMnemonics = mnemonics;
}

/** Spans [start, end) of `s` covered by a window of a known secret, merged. */
function knownSecretSpans(s: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  if (secretWindows === null || s.length < SECRET_WINDOW) return spans;
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    if (i >= SECRET_WINDOW) h = (h - Math.imul(foldCode(s.charCodeAt(i - SECRET_WINDOW)), HASH_DROP)) | 0;
    h = (Math.imul(h, HASH_BASE) + foldCode(s.charCodeAt(i))) | 0;
    if (i < SECRET_WINDOW - 1 || !secretWindowHashes.has(h)) continue;
    const start = i + 1 - SECRET_WINDOW;
    if (!secretWindows.has(fold(s.slice(start, i + 1)))) continue;
    const last = spans[spans.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = i + 1;
    else spans.push([start, i + 1]);
  }
  return spans;
}

/** Consecutive words of a known mnemonic, this many or more, are masked whatever joins them. */
const MNEMONIC_RUN_WORDS = 4;

function knownMnemonicSpans(s: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  if (knownMnemonics.length === 0) return spans;
  const tokens: Array<[number, number, string]> = [];
  const re = /[A-Za-z]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) tokens.push([m.index, m.index + m[0].length, m[0].toLowerCase()]);
  for (const words of knownMnemonics) {
    const positions = new Map<string, number[]>();
    words.forEach((w, i) => positions.set(w, [...(positions.get(w) ?? []), i]));
    // Longest run of tokens that follow the phrase word by word, from each start.
    for (let t = 0; t < tokens.length; t++) {
      for (const first of positions.get(tokens[t]![2]) ?? []) {
        let n = 1;
        while (t + n < tokens.length && words[first + n] === tokens[t + n]![2] && tokens[t + n]![0] - tokens[t + n - 1]![1] <= 4) n++;
        if (n >= MNEMONIC_RUN_WORDS) spans.push([tokens[t]![0], tokens[t + n - 1]![1]]);
      }
    }
  }
  return spans;
}

function maskSpans(s: string, spans: Array<[number, number]>): string {
  if (spans.length === 0) return s;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let last = 0;
  for (const [start, end] of spans) {
    if (end <= last) continue;
    out += s.slice(last, Math.max(last, start)) + REDACTED;
    last = end;
  }
  return out + s.slice(last);
}

/** Masks every run of a known secret in `s`, however it is cut, cased or encoded. */
function maskKnownSecretRuns(s: string): string {
  return maskSpans(s, [...knownSecretSpans(s), ...knownMnemonicSpans(s)]);
}

/**
 * A public identifier as it may be shown (a market's condition id in a span): readable, unless it
 * holds a known secret, and a wallet address in it shortened like everywhere else.
 */
export function maskIdentifier(s: string): string {
  return maskKnownSecrets(s).replace(ADDRESS, (a) => shortAddress(a));
}

/**
 * Masks only the registered secret values. For public identifiers that look like keys by shape
 * (a market's condition id is 0x + 64 hex) and must stay readable: the bot's real key, once
 * registered from the environment, is still masked in them.
 */
export function maskKnownSecrets(s: string): string {
  const whole = knownSecretsPattern === null ? s : s.replace(knownSecretsPattern, REDACTED);
  return maskKnownSecretRuns(whole);
}

/**
 * The most of one string any pattern reads (README: redaction): redactText cuts longer text to
 * this first, redactAndTruncate drops it whole.
 */
export const MAX_SCANNED = 64 * 1024;

/**
 * Redacts, then cuts to at most `max` characters. In that order: cutting first could shorten a key below
 * the length its pattern needs and let most of it through.
 */
export function redactAndTruncate(s: string, max: number): string {
  if (s.length > MAX_SCANNED) return `${REDACTED} (${s.length} characters)`;
  const redacted = redactText(s);
  return redacted.length > max ? redacted.slice(0, max) : redacted;
}

/** Forgets every registered value (tests, and a preload that restarts). */
export function clearRegisteredSecrets(): void {
  knownSecrets.clear();
  knownSecretsPattern = null;
  secretWindows = null;
  secretWindowHashes = new Set();
  knownMnemonics = [];
}

const SECRET_ENV_EXTRA = /(?:^|_)(?:pk|key|pass)$/;
/** `pwd` is a password's abbreviation in a key, but PWD and OLDPWD are where the shell stands. */
const SHELL_DIRECTORY_ENV: ReadonlySet<string> = new Set(['PWD', 'OLDPWD']);
const SECRET_LOCATION_ENV = /_(?:FILE|PATH|DIR)$/i;
const OTLP_HEADERS_ENV = /^OTEL_EXPORTER_OTLP_(?:[A-Z]+_)?HEADERS$/;

/**
 * The values of environment variables whose name looks secret, for `registerSecrets` at start:
 * a CLOB API key is a plain UUID that no pattern would recognise in a log line.
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (OTLP_HEADERS_ENV.test(name)) {
      // `Authorization=Bearer%20abc,api-key=xyz`: every header value is a credential here.
      for (const pair of value.split(',')) {
        const eq = pair.indexOf('=');
        if (eq < 0) continue;
        let headerValue = pair.slice(eq + 1).trim();
        try {
          headerValue = decodeURIComponent(headerValue);
        } catch {
          // Keep the raw form.
        }
        out.push(headerValue);
        const scheme = /^(?:Bearer|Basic|Token|ApiKey)\s+(.+)$/i.exec(headerValue);
        if (scheme?.[1]) out.push(scheme[1]);
      }
      continue;
    }
    // The shell's working directories, not passwords: registered, they masked every file path.
    // Likewise where a secret is kept (PRIVATE_KEY_FILE=/run/secrets/key) is not the secret.
    if (SHELL_DIRECTORY_ENV.has(name) || SECRET_LOCATION_ENV.test(name)) continue;
    const normalized = normalizeKey(name);
    if (isSecretKey(name) || SECRET_ENV_EXTRA.test(normalized)) out.push(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// BIP39 mnemonics

let wordlist: ReadonlySet<string> | null | undefined;

function loadWordlist(): ReadonlySet<string> | null {
  if (wordlist !== undefined) return wordlist;
  try {
    // Loaded on first need rather than imported: most processes never log a 12-word run, and
    // importing this module must cost nothing. This file only holds the word list; it does not
    // pull in @noble/hashes as the package's index would.
    const require = createRequire(import.meta.url);
    const mod = require('@scure/bip39/wordlists/english.js') as { wordlist?: unknown };
    const list = Array.isArray(mod.wordlist) ? (mod.wordlist as string[]) : [];
    wordlist = list.length === 2048 ? new Set(list) : null;
  } catch {
    wordlist = null;
  }
  return wordlist;
}

// Bip39 English words are 3 to 8 letters long.
function isMnemonicWord(word: string, list: ReadonlySet<string> | null): boolean {
  if (word.length < 3 || word.length > 8) return false;
  // Without the list, fail closed: any run of 12 short words is treated as a mnemonic.
  return list === null ? true : list.has(word.toLowerCase());
}

const MNEMONIC_MIN_WORDS = 12;
// Words of a phrase are separated by whitespace; the comma and quoted forms are the same
// phrase printed as an array.
const WORD_GAP = /^(?:[\s,;:|/_.+-]{1,4}|\s?["'],\s?["']\s?)$/;

function maskMnemonics(s: string): string {
  const words: Array<[start: number, end: number]> = [];
  const runs: Array<Array<[number, number]>> = [];
  const flush = (): void => {
    if (words.length >= MNEMONIC_MIN_WORDS) runs.push(words.slice());
    words.length = 0;
  };
  const re = /[A-Za-z]+/g;
  let m: RegExpExecArray | null;
  // First pass without the word list: runs of 12+ adjacent short words are rare in log lines,
  // so the list is usually never loaded.
  while ((m = re.exec(s)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    const len = m[0].length;
    const prev = words[words.length - 1];
    const adjacent = prev !== undefined && WORD_GAP.test(s.slice(prev[1], start));
    if (!adjacent) flush();
    if (len >= 3 && len <= 8) words.push([start, end]);
    else flush();
  }
  flush();
  if (runs.length === 0) return s;

  const list = loadWordlist();
  const spans: Array<[number, number]> = [];
  for (const run of runs) {
    let count = 0;
    let runStart = 0;
    let runEnd = 0;
    const close = (): void => {
      if (count >= MNEMONIC_MIN_WORDS) spans.push([runStart, runEnd]);
      count = 0;
    };
    for (const [start, end] of run) {
      if (isMnemonicWord(s.slice(start, end), list)) {
        if (count === 0) runStart = start;
        runEnd = end;
        count++;
      } else {
        close();
      }
    }
    close();
  }
  if (spans.length === 0) return s;
  let out = '';
  let last = 0;
  for (const [start, end] of spans) {
    out += s.slice(last, start) + REDACTED;
    last = end;
  }
  return out + s.slice(last);
}

// ---------------------------------------------------------------------------------------------
// key=value, key: value, "key":"value"

const KEY_CHAR = /[A-Za-z0-9_.-]/;
const UNQUOTED_VALUE_END = /[\s,;&"'<>(){}[\]`|]/;
const BENIGN_VALUE = /^(?:null|undefined|true|false|none|\[REDACTED\]|\*+)$/i;
const AUTH_SCHEME = /^(?:Bearer|Basic|Digest|Token|Bot|ApiKey)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_KEY_LENGTH = 64;

function readKeyBackwards(s: string, end: number): { key: string; start: number } {
  let i = end;
  while (i > 0 && end - i < MAX_KEY_LENGTH && KEY_CHAR.test(s[i - 1]!)) i--;
  return { key: s.slice(i, end), start: i };
}

/** Index just past the closing `quote` (which may be `\"` in double-encoded JSON), or -1. */
function findClosingQuote(s: string, from: number, quote: string): number {
  if (quote.length === 1) {
    for (let i = from; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') i++;
      else if (c === quote) return i;
    }
    return -1;
  }
  return s.indexOf(quote, from);
}

function findClosingBracket(s: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function maskKeyValues(s: string): string {
  if (s.indexOf(':') < 0 && s.indexOf('=') < 0) return s;
  const sep = /[:=]/g;
  let out = '';
  let copied = 0;
  let m: RegExpExecArray | null;
  while ((m = sep.exec(s)) !== null) {
    const at = m.index;
    // `https://` is a scheme, not a key.
    if (s[at] === ':' && s[at + 1] === '/' && s[at + 2] === '/') continue;

    let j = at;
    while (j > 0 && at - j < 8 && (s[j - 1] === ' ' || s[j - 1] === '\t')) j--;
    if (j > 0 && (s[j - 1] === '"' || s[j - 1] === "'")) {
      j--;
      while (j > 0 && s[j - 1] === '\\') j--;
    }
    const { key, start: keyStart } = readKeyBackwards(s, j);
    if (key === '') continue;
    let name = key;
    let secret = isSecretKey(key);
    if (!secret && s[keyStart - 1] === ' ') {
      // Two-word keys in prose: "api key: …", "private key = …", "seed phrase: …".
      const prev = readKeyBackwards(s, keyStart - 1);
      name = `${prev.key}_${key}`;
      secret = prev.key !== '' && isSecretKey(name);
    }
    const mnemonicKey = secret && MNEMONIC_KEY.test(normalizeKey(name));
    // A bare `key` is the API key of a Polymarket credentials object (`{key, secret, passphrase}`);
    // only its UUID form is recognisable without the sibling fields.
    const bareKey = !secret && key.toLowerCase() === 'key';
    if (!secret && !bareKey) continue;

    let k = at + 1;
    while (k < s.length && k - at < 8 && (s[k] === ' ' || s[k] === '\t')) k++;
    if (k >= s.length) continue;

    let valueStart: number;
    let valueEnd: number;
    let keepTail = '';
    let backslashes = 0;
    while (s[k + backslashes] === '\\') backslashes++;
    const q = s[k + backslashes];
    if (q === '"' || q === "'") {
      const quote = '\\'.repeat(backslashes) + q;
      valueStart = k + quote.length;
      const close = findClosingQuote(s, valueStart, quote);
      valueEnd = close < 0 ? s.length : close;
    } else if (s[k] === '{' || s[k] === '[') {
      valueStart = k;
      const close = findClosingBracket(s, k);
      valueEnd = close < 0 ? s.length : close;
    } else {
      valueStart = k;
      valueEnd = k;
      while (valueEnd < s.length && !UNQUOTED_VALUE_END.test(s[valueEnd]!)) valueEnd++;
      const first = s.slice(valueStart, valueEnd);
      if (AUTH_SCHEME.test(first) && s[valueEnd] === ' ') {
        // Keep the scheme readable, mask the credential after it.
        keepTail = `${first} `;
        valueStart = valueEnd + 1;
        valueEnd = valueStart;
        while (valueEnd < s.length && !UNQUOTED_VALUE_END.test(s[valueEnd]!)) valueEnd++;
      } else if (mnemonicKey && /^[a-z]+$/.test(first)) {
        // An unquoted phrase runs on word by word; masking only its first word would leak the rest.
        const rest = /^(?: [a-z]+)+/.exec(s.slice(valueEnd));
        if (rest) valueEnd += rest[0].length;
      }
    }
    const value = s.slice(valueStart, valueEnd);
    if (value === '' || BENIGN_VALUE.test(value.trim())) continue;
    if (bareKey && !UUID.test(value)) continue;

    out += s.slice(copied, valueStart - keepTail.length) + keepTail + REDACTED;
    copied = valueEnd;
    sep.lastIndex = Math.max(valueEnd, at + 1);
  }
  return copied === 0 ? s : out + s.slice(copied);
}

// ---------------------------------------------------------------------------------------------
// Text

// Any run of 64 or more hex digits: private keys, but also tx hashes and condition ids, which are
// indistinguishable from a key by shape. Longer runs are masked too: a key inside calldata or a
// concatenation is still a key. A run of decimal digits alone is a Polymarket token id (77 digits),
// which an operator needs to read; a random 64-hex key has no letter with probability 1e-13.
const LONG_HEX = /(?<![0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64,}/g;
const maskLongHex = (run: string): string => (run.startsWith('0x') || /[a-fA-F]/.test(run) ? REDACTED : run);
const TELEGRAM_TOKEN = /(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]+):[^\s@/]+@/gi;
// Word-bounded on both sides, so 40 digits inside a longer hex run are never taken for an address.
const ADDRESS = /\b0x[0-9a-fA-F]{40}\b/g;

/** Masks every secret this module can recognise in free text, and shortens wallet addresses. */
export function redactText(s: string): string {
  if (typeof s !== 'string') return s;
  // Nothing recognisable fits in fewer characters; most metadata strings end here.
  if (s.length < 8) return s;
  // Bounded work: no pattern ever runs over more than MAX_SCANNED characters.
  let t = s.length > MAX_SCANNED ? `${s.slice(0, MAX_SCANNED)}… [${s.length - MAX_SCANNED} characters cut]` : s;
  if (knownSecretsPattern !== null) t = t.replace(knownSecretsPattern, REDACTED);
  t = maskKnownSecretRuns(t);
  if (t.includes('://')) t = t.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  t = t.replace(LONG_HEX, maskLongHex);
  t = t.replace(TELEGRAM_TOKEN, REDACTED);
  t = t.replace(BEARER, `$1 ${REDACTED}`);
  // Before key=value: "seed phrase: abandon ability …" must lose every word, not just the first.
  t = maskMnemonics(t);
  t = maskKeyValues(t);
  // Last, so a 64-hex key has already been masked whole rather than shortened.
  t = t.replace(ADDRESS, (a) => shortAddress(a));
  return t;
}

// ---------------------------------------------------------------------------------------------
// Structured values

const MAX_DEPTH = 6;
const MAX_KEYS = 100;
const MAX_NODES = 1000;

interface Walk {
  readonly ancestors: Set<object>;
  nodes: number;
}

function isBenign(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'boolean' || v === '';
}

function read(obj: object, key: PropertyKey): unknown {
  try {
    return (obj as Record<PropertyKey, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}

function redactEntries(entries: Iterable<[string, unknown]>, depth: number, w: Walk): Record<string, unknown> {
  const list: Array<[string, unknown]> = [];
  let total = 0;
  let secretSibling = false;
  for (const entry of entries) {
    total++;
    if (list.length < MAX_KEYS) {
      list.push(entry);
      if (!secretSibling && isSecretKey(entry[0])) secretSibling = true;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of list) {
    // A bare `key` next to `secret`/`passphrase` is the API key of a credentials object.
    const secret = isSecretKey(key) || (secretSibling && key.toLowerCase() === 'key');
    out[redactText(key)] = secret && !isBenign(value) ? REDACTED : walk(value, depth + 1, w);
  }
  if (total > list.length) out[ELLIPSIS] = `${total - list.length} more keys`;
  return out;
}

function redactError(err: Error, depth: number, w: Walk): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: redactText(String(read(err, 'name') ?? 'Error')),
    message: redactText(String(read(err, 'message') ?? '')),
  };
  const stack = read(err, 'stack');
  if (typeof stack === 'string') out.stack = redactText(stack);
  const rest = redactEntries(
    Object.keys(err).map((k): [string, unknown] => [k, read(err, k)]),
    depth,
    w,
  );
  for (const [k, v] of Object.entries(rest)) if (!(k in out)) out[k] = v;
  const cause = read(err, 'cause');
  if (cause !== undefined && !('cause' in out)) out.cause = walk(cause, depth + 1, w);
  const errors = read(err, 'errors');
  if (Array.isArray(errors) && !('errors' in out)) out.errors = walk(errors, depth + 1, w);
  return out;
}

function redactArray(arr: readonly unknown[], depth: number, w: Walk): unknown[] {
  const n = Math.min(arr.length, MAX_KEYS);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(walk(read(arr, i), depth + 1, w));
  if (arr.length > n) out.push(`${ELLIPSIS} ${arr.length - n} more items`);
  // A mnemonic split into an array of words passes redactText one word at a time.
  maskMnemonicArray(out);
  return out;
}

function maskMnemonicArray(items: unknown[]): void {
  if (items.length < MNEMONIC_MIN_WORDS) return;
  const candidate = (v: unknown): boolean => typeof v === 'string' && /^\s*[A-Za-z]{3,8}\s*$/.test(v);
  if (items.filter(candidate).length < MNEMONIC_MIN_WORDS) return;
  const list = loadWordlist();
  let runStart = 0;
  let count = 0;
  const close = (end: number): void => {
    if (count >= MNEMONIC_MIN_WORDS) items.fill(REDACTED, runStart, end);
    count = 0;
  };
  items.forEach((v, i) => {
    if (candidate(v) && isMnemonicWord((v as string).trim(), list)) {
      if (count === 0) runStart = i;
      count++;
    } else {
      close(i);
    }
  });
  close(items.length);
}

function walk(v: unknown, depth: number, w: Walk): unknown {
  if (typeof v === 'string') return redactText(v);
  if (typeof v === 'function') return `[Function${v.name ? ` ${v.name}` : ''}]`;
  if (typeof v !== 'object' || v === null) return v;
  if (w.ancestors.has(v)) return '[Circular]';
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof URL) return redactText(v.href);
  if (v instanceof RegExp) return redactText(String(v));
  // Raw bytes could be a key; their length is all a log needs.
  if (ArrayBuffer.isView(v)) return `[${v.constructor?.name ?? 'Binary'} ${v.byteLength} bytes]`;
  if (v instanceof ArrayBuffer) return `[ArrayBuffer ${v.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return Array.isArray(v) ? '[Array]' : '[Object]';
  if (++w.nodes > MAX_NODES) return '[Truncated]';

  w.ancestors.add(v);
  try {
    if (v instanceof Error) return redactError(v, depth, w);
    if (Array.isArray(v)) return redactArray(v, depth, w);
    if (v instanceof Map) {
      return redactEntries(
        [...v.entries()].map(([k, val]): [string, unknown] => [String(k), val]),
        depth,
        w,
      );
    }
    if (v instanceof Set) return redactArray([...v], depth, w);
    return redactEntries(
      Object.keys(v).map((k): [string, unknown] => [k, read(v, k)]),
      depth,
      w,
    );
  } finally {
    w.ancestors.delete(v);
  }
}

/**
 * A deep copy with every string passed through `redactText` and the whole value of every
 * secret-looking property masked. Bounded in depth and size, cycle-safe, never throws.
 */
export function redactValue(v: unknown): unknown {
  try {
    return walk(v, 0, { ancestors: new Set(), nodes: 0 });
  } catch {
    // Fail closed: an unexpected shape must not become an unredacted one.
    return REDACTED;
  }
}
