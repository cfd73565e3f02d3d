/**
 * Redaction by what a secret is, not how it is spelt (issue 15, finding 2). Property-based: for
 * generated secrets of every kind the plugin knows (hex private keys, base64 API secrets,
 * passphrases, BIP-39 mnemonics), registered from the environment as the preload does, and their
 * mutations — cut anywhere keeping at least 12 characters, re-cased, 0x dropped or added, encoded
 * as hex, base64 or base64url, a mnemonic cut to 4+ words and joined by any separator — embedded
 * in arbitrary text, no path the plugin writes through lets 12 consecutive characters of what was
 * embedded survive. Before the fix: a key cut to 60 characters, upper-cased without 0x and one
 * character short, in base64, a mnemonic joined with `-` and a passphrase cut in half all passed.
 * And the masker does not cheat: a condition id and ordinary text stay readable.
 */
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { formatLogLine, formatTelegram } from '../src/alerts/format.js';
import { createLogger, writeLine } from '../src/core/log.js';
import {
  clearRegisteredSecrets,
  maskIdentifier,
  redactAndTruncate,
  redactText,
  redactValue,
  registerSecrets,
  secretsFromEnv,
} from '../src/core/redact.js';

/** The README's promise: any 12 consecutive characters of a known secret are masked. */
const SECRET_WINDOW = 12;

const WORDS: readonly string[] = (createRequire(import.meta.url)('@scure/bip39/wordlists/english.js') as { wordlist: string[] }).wordlist;

afterEach(() => clearRegisteredSecrets());

const hexChars = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const privateKey = fc.tuple(hexChars(64), fc.boolean()).map(([hex, prefix]) => (prefix ? `0x${hex}` : hex));
const apiSecret = fc.uint8Array({ minLength: 24, maxLength: 48 }).map((b) => Buffer.from(b).toString('base64'));
const passphrase = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'), minLength: 20, maxLength: 64 });
const mnemonic = fc.constantFrom(12, 24).chain((n) => fc.array(fc.constantFrom(...WORDS), { minLength: n, maxLength: n })).map((w) => w.join(' '));

/** Text around the secret: anything printable, short. */
const context = fc.string({ unit: fc.constantFrom(...' abcxyz:=,"{}[]()|/.-_0123456789\n'), maxLength: 24 });

const cased = (s: string, how: number): string => (how === 0 ? s : how === 1 ? s.toUpperCase() : s.toLowerCase());

/** A mutation of a non-mnemonic secret: what ends up in the text. */
const mutated = (secret: string) =>
  fc
    .record({
      from: fc.nat(),
      length: fc.integer({ min: SECRET_WINDOW, max: 200 }),
      how: fc.nat(2),
      prefix: fc.constantFrom('strip', 'add', 'keep'),
      encoding: fc.constantFrom('none', 'hex', 'base64', 'base64url'),
    })
    .map(({ from, length, how, prefix, encoding }) => {
      let s = secret;
      if (prefix === 'strip') s = s.replace(/^0x/i, '');
      else if (prefix === 'add' && /^[0-9a-f]+$/i.test(s)) s = `0x${s}`;
      const start = from % Math.max(1, s.length - SECRET_WINDOW + 1);
      s = cased(s.slice(start, start + length), how);
      if (encoding === 'hex') return Buffer.from(s).toString('hex');
      if (encoding === 'base64') return Buffer.from(s).toString('base64');
      if (encoding === 'base64url') return Buffer.from(s).toString('base64url');
      return s;
    });

/** Every 12-character window of `s`, case-folded: what must not be found in an output. */
function windows(s: string): string[] {
  const folded = s.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + SECRET_WINDOW <= folded.length; i++) out.push(folded.slice(i, i + SECRET_WINDOW));
  return out;
}

/** Every output path the plugin has for a piece of text. */
function outputs(text: string): string[] {
  const stream = new PassThrough();
  let logged = '';
  stream.on('data', (chunk: Buffer) => (logged += chunk.toString()));
  const logger = createLogger({ level: 'debug', format: 'json', stream });
  writeLine(logger, 'warn', text, { detail: text, nested: { error: text } });
  const notification = { kind: 'event' as const, rule: 'PolymarketBotTradeFailed', component: 'trade_executor', severity: 'warning' as const, title: 'Copied trade failed', description: text, silent: false, at: 0 };
  return [
    redactText(text),
    JSON.stringify(redactValue({ message: text, list: [text] })),
    redactAndTruncate(text, 300),
    logged,
    ...formatTelegram(notification, { staging: false }),
    formatLogLine(notification),
  ];
}

function leaks(embedded: string, text: string): string[] {
  const found: string[] = [];
  for (const out of outputs(text)) {
    const folded = out.toLowerCase();
    for (const w of windows(embedded)) if (folded.includes(w)) found.push(w);
  }
  return found;
}

describe('a known secret, however it is spelt', () => {
  for (const [kind, secrets, variable] of [
    ['a private key', privateKey, 'PRIVATE_KEY'],
    ['an API secret', apiSecret, 'CLOB_SECRET'],
    ['a passphrase', passphrase, 'CLOB_PASS_PHRASE'],
  ] as const) {
    it(`${kind}: no 12 consecutive characters of a cut, re-cased or encoded copy survive any output`, () => {
      fc.assert(
        fc.property(
          (secrets as fc.Arbitrary<string>).chain((secret) => fc.tuple(fc.constant(secret), mutated(secret), context, context)),
          ([secret, piece, before, after]) => {
            clearRegisteredSecrets();
            registerSecrets(secretsFromEnv({ [variable]: secret }));
            expect(leaks(piece, `${before}${piece}${after}`)).toEqual([]);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('a mnemonic: no 4 consecutive words of it survive, cut anywhere and joined by any separator', () => {
    const separator = fc.constantFrom(' ', '-', '_', ',', ', ', '\n', '|', '.', '  ');
    fc.assert(
      fc.property(mnemonic, fc.nat(), fc.integer({ min: 4, max: 24 }), separator, fc.nat(2), context, (phrase, from, count, sep, how, around) => {
        clearRegisteredSecrets();
        registerSecrets(secretsFromEnv({ MNEMONIC: phrase }));
        const words = phrase.split(' ');
        const start = from % (words.length - 3);
        const piece = cased(words.slice(start, start + count).join(sep), how);
        for (const out of outputs(`${around}${piece}${around}`)) {
          const tokens = out.toLowerCase().match(/[a-z]+/g) ?? [];
          const run = words.slice(start, start + 4).join(' ');
          for (let i = 0; i + 4 <= tokens.length; i++) expect(tokens.slice(i, i + 4).join(' ')).not.toBe(run);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('what is not a secret stays readable', () => {
  it('a condition id (0x + 64 hex) shown as an identifier, with a key registered', () => {
    fc.assert(
      fc.property(privateKey, hexChars(64), (key, id) => {
        clearRegisteredSecrets();
        registerSecrets(secretsFromEnv({ PRIVATE_KEY: key }));
        fc.pre(!windows(key.replace(/^0x/, '')).some((w) => id.includes(w)));
        expect(maskIdentifier(`0x${id}`)).toBe(`0x${id}`);
      }),
      { numRuns: 200 },
    );
  });

  it('ordinary log text with a secret registered', () => {
    const word = fc.constantFrom('order', 'placed', 'price', 'size', 'BUY', 'SELL', 'ms', 'fill', 'qty');
    const token = fc.oneof(word, fc.integer({ min: 0, max: 1_000_000 }).map(String), fc.double({ min: 0, max: 1, noNaN: true }).map((n) => n.toFixed(3)));
    fc.assert(
      fc.property(apiSecret, fc.array(token, { minLength: 1, maxLength: 11 }), (secret, tokens) => {
        clearRegisteredSecrets();
        registerSecrets(secretsFromEnv({ CLOB_SECRET: secret }));
        const text = tokens.join(' ');
        expect(redactText(text)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('a wallet address in an identifier is shortened, never shown whole', () => {
    fc.assert(
      fc.property(hexChars(40), (hex) => {
        expect(maskIdentifier(`0x${hex}`)).toBe(`…${hex.slice(-6)}`);
      }),
      { numRuns: 100 },
    );
  });
});
