import { afterEach, describe, expect, it } from 'vitest';
import {
  REDACTED,
  clearRegisteredSecrets,
  isSecretKey,
  redactText,
  redactValue,
  registerSecrets,
  secretsFromEnv,
  shortAddress,
} from '../src/core/redact.js';

// Hardhat's well-known development key and account: public, never funded on a real chain.
const PRIVATE_KEY = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const TELEGRAM_TOKEN = '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ';
const MNEMONIC_12 = 'test test test test test test test test test test test junk';
const MNEMONIC_24 = `${'abandon '.repeat(23)}art`;
const API_KEY_UUID = '3f8d2a1c-7b4e-4c9a-9e2f-1a2b3c4d5e6f';
const API_SECRET_B64 = 'dGhpcyBpcyBub3QgYSByZWFsIHNlY3JldCBidXQgbG9va3MgbGlrZSBvbmU=';
const PASSPHRASE = 'f00dbabe-not-a-real-passphrase';

afterEach(() => clearRegisteredSecrets());

describe('redactText: secrets by shape', () => {
  it('masks a 64-hex private key with 0x', () => {
    expect(redactText(`signer loaded from 0x${PRIVATE_KEY}.`)).toBe(`signer loaded from ${REDACTED}.`);
  });

  it('masks a 64-hex private key without 0x', () => {
    expect(redactText(`pk ${PRIVATE_KEY} in use`)).toBe(`pk ${REDACTED} in use`);
  });

  it('masks a run longer than 64 hex digits, in which a key may hide', () => {
    expect(redactText(`calldata 0x${PRIVATE_KEY}${PRIVATE_KEY} end`)).toBe(`calldata ${REDACTED} end`);
  });

  it('masks a 64-hex key whole instead of shortening its last 40 digits as an address', () => {
    const out = redactText(`key=0x${PRIVATE_KEY}`);
    expect(out).toBe(`key=${REDACTED}`);
    expect(out).not.toContain('\u2026');
  });

  it('masks a Telegram bot token on its own', () => {
    expect(redactText(`telegram token ${TELEGRAM_TOKEN} rejected`)).toBe(`telegram token ${REDACTED} rejected`);
  });

  it('masks a Telegram bot token embedded in an API URL', () => {
    expect(redactText(`POST https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage: 401`)).toBe(
      `POST https://api.telegram.org/bot${REDACTED}/sendMessage: 401`,
    );
  });

  it('masks a 12-word mnemonic as one run', () => {
    expect(redactText(`restoring wallet from ${MNEMONIC_12} for the bot`)).toBe(
      `restoring wallet from ${REDACTED} for the bot`,
    );
  });

  it('masks a BIP39 word next to a mnemonic with it, since the phrase boundary is unknowable', () => {
    expect(redactText(`${MNEMONIC_12} now`)).toBe(REDACTED);
  });

  it('masks a 24-word mnemonic as one run', () => {
    expect(redactText(`[${MNEMONIC_24}]`)).toBe(`[${REDACTED}]`);
  });

  it('masks a capitalised mnemonic spread over lines', () => {
    const phrase = MNEMONIC_12.split(' ').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('\n');
    expect(redactText(phrase)).toBe(REDACTED);
  });

  it('masks a mnemonic printed as an array of quoted words', () => {
    const printed = JSON.stringify(MNEMONIC_12.split(' '));
    expect(redactText(`words ${printed}`)).not.toMatch(/junk|test/);
  });

  it('leaves a long sentence of ordinary words that are not all in the BIP39 list', () => {
    // 16 words of 3 to 8 letters: only the word list tells this apart from a mnemonic.
    const sentence = 'when the order book gets thin our bot waits for more depth then sends fewer orders';
    expect(redactText(sentence)).toBe(sentence);
  });

  it('leaves a realistic log message alone apart from the address', () => {
    const message = `copy trade executed: target wallet ${ADDRESS} bought 25 shares of market 0xabc at price 0.42 after 3 retries`;
    expect(redactText(message)).toBe(
      'copy trade executed: target wallet \u2026b92266 bought 25 shares of market 0xabc at price 0.42 after 3 retries',
    );
  });

  it('masks the credential after Bearer', () => {
    expect(redactText('sent with Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln== ok')).toBe(
      `sent with Bearer ${REDACTED} ok`,
    );
  });

  it('masks the password of a URL with credentials', () => {
    expect(redactText('rpc https://alice:pa55w0rd-x@rpc.example.com/v1 down')).toBe(
      `rpc https://alice:${REDACTED}@rpc.example.com/v1 down`,
    );
  });
});

describe('redactText: secrets by key', () => {
  it.each([
    ['apiKey=abcdef123456', `apiKey=${REDACTED}`],
    ['api_key: abcdef123456', `api_key: ${REDACTED}`],
    ['API-KEY = abcdef123456', `API-KEY = ${REDACTED}`],
    ['apikey=abcdef123456&market=1', `apikey=${REDACTED}&market=1`],
    ['api key: abcdef123456, next', `api key: ${REDACTED}, next`],
    ['private key: 5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3', `private key: ${REDACTED}`],
    ['client_secret=s3cr3t-value', `client_secret=${REDACTED}`],
    ['POLY_PASSPHRASE: correct-horse', `POLY_PASSPHRASE: ${REDACTED}`],
    ['pass-phrase=correct-horse', `pass-phrase=${REDACTED}`],
    ['password: hunter2', `password: ${REDACTED}`],
    ['access_token=ya29.a0AfH6SM', `access_token=${REDACTED}`],
    ['Mnemonic: whatever words follow here', `Mnemonic: ${REDACTED}`],
    ['seed phrase: something secret', `seed phrase: ${REDACTED}`],
    ['Authorization: Basic dXNlcjpwYXNz', `Authorization: Basic ${REDACTED}`],
    ['https://x.test/cb?token=abc123def&user=1', `https://x.test/cb?token=${REDACTED}&user=1`],
  ])('masks the value in %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('masks JSON string values of secret keys and keeps the rest', () => {
    const json = JSON.stringify({ apiKey: 'abc-123-def', secret: API_SECRET_B64, passphrase: PASSPHRASE, tokenId: '123' });
    expect(JSON.parse(redactText(json))).toEqual({
      apiKey: REDACTED,
      secret: REDACTED,
      passphrase: REDACTED,
      tokenId: '123',
    });
  });

  it('masks a whole nested JSON value under a secret key', () => {
    const json = '{"credentials":{"user":"bob","pin":"12345678"},"ok":true}';
    expect(redactText(json)).toBe(`{"credentials":${REDACTED},"ok":true}`);
  });

  it('masks values inside double-encoded JSON', () => {
    expect(redactText('body={\\"secret\\":\\"abc def\\",\\"n\\":1}')).toBe(`body={\\"secret\\":\\"${REDACTED}\\",\\"n\\":1}`);
  });

  it('masks the UUID under a bare "key", the API key of a CLOB credentials object', () => {
    expect(redactText(`{"key":"${API_KEY_UUID}"}`)).toBe(`{"key":"${REDACTED}"}`);
  });

  it('leaves a bare "key" alone when its value is not a UUID', () => {
    expect(redactText('cache key: positions-0xabc')).toBe('cache key: positions-0xabc');
  });

  it('keeps values that show a secret is missing, which is what an operator needs to see', () => {
    expect(redactText('apiKey=undefined secret: null')).toBe('apiKey=undefined secret: null');
  });

  it('leaves public token ids and counts under token-like keys', () => {
    const line = 'tokenId=71321045679252212594626385532706912750332728571942532289631379312455583992563 tokens: 2';
    expect(redactText(line)).toBe(line);
  });
});

describe('redactText: what is not a secret', () => {
  it('shortens a wallet address to its last 6 characters', () => {
    expect(redactText(`wallet ${ADDRESS} scanned`)).toBe('wallet \u2026b92266 scanned');
  });

  it('shortens every address in a line', () => {
    const other = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    expect(redactText(`${ADDRESS} -> ${other}`)).toBe('\u2026b92266 -> \u2026dc79C8');
  });

  it('does not shorten 40 hex digits that are part of a longer hex run', () => {
    const run = `0x${'ab'.repeat(25)}`;
    expect(redactText(`data ${run} end`)).toBe(`data ${run} end`);
  });

  it.each([
    'processed 42 txs in 1.5s',
    'market 0xabc resolved',
    'scan of 12 wallets done at 12:30:45',
    'bought outcome 71321045679252212594626385532706912750332728571942532289631379312455583992563',
    'GET https://clob.polymarket.com/markets?next_cursor=MTAw 200',
    'short',
  ])('leaves %j untouched', (line) => {
    expect(redactText(line)).toBe(line);
  });
});

describe('known secret values', () => {
  it('does not mask a UUID API key before it is registered', () => {
    expect(redactText(`creds ${API_KEY_UUID} loaded`)).toBe(`creds ${API_KEY_UUID} loaded`);
  });

  it('masks registered values wherever they appear', () => {
    registerSecrets([API_KEY_UUID, API_SECRET_B64, PASSPHRASE]);
    expect(redactText(`creds ${API_KEY_UUID}/${API_SECRET_B64}/${PASSPHRASE}`)).toBe(
      `creds ${REDACTED}/${REDACTED}/${REDACTED}`,
    );
  });

  it('masks registered values in their URL-encoded form', () => {
    registerSecrets([API_SECRET_B64]);
    expect(redactText(`?sig=${encodeURIComponent(API_SECRET_B64)}`)).toBe(`?sig=${REDACTED}`);
  });

  it('masks registered values that contain regular-expression syntax literally', () => {
    registerSecrets(['a+b(c)*[d]$x']);
    expect(redactText('value a+b(c)*[d]$x here, ab(c) not')).toBe(`value ${REDACTED} here, ab(c) not`);
  });

  it('ignores values shorter than 8 characters, which would mask ordinary words', () => {
    registerSecrets(['order']);
    expect(redactText('order placed on book')).toBe('order placed on book');
  });

  it('masks the longer of two overlapping registered values whole', () => {
    registerSecrets(['abcdefgh', 'abcdefgh-ijklmnop']);
    expect(redactText('x abcdefgh-ijklmnop y')).toBe(`x ${REDACTED} y`);
  });

  it('takes exactly the secret-named variables from the environment', () => {
    const env = {
      PRIVATE_KEY: `0x${PRIVATE_KEY}`,
      CLOB_API_KEY: API_KEY_UUID,
      CLOB_SECRET: API_SECRET_B64,
      CLOB_PASS_PHRASE: PASSPHRASE,
      POLY_PASSPHRASE: 'another-passphrase',
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      MNEMONIC: MNEMONIC_12,
      SEED: 'seed-value-123',
      DB_PASSWORD: 'db-password-1',
      PK: 'short-pk-value',
      HOME: '/root',
      MARKET_COUNT: '12345678',
      TOKEN_ID: '71321045679252212594626385532706912750',
      MONITOR_INTERVAL_SECONDS: '30',
      EMPTY_TOKEN: '',
    };
    expect(new Set(secretsFromEnv(env))).toEqual(
      new Set([
        `0x${PRIVATE_KEY}`,
        API_KEY_UUID,
        API_SECRET_B64,
        PASSPHRASE,
        'another-passphrase',
        TELEGRAM_TOKEN,
        MNEMONIC_12,
        'seed-value-123',
        'db-password-1',
        'short-pk-value',
      ]),
    );
  });

  it('takes the credential out of OTLP exporter headers', () => {
    const secrets = secretsFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20otlp-cred-123,x-tenant=acme-prod' });
    expect(secrets).toContain('otlp-cred-123');
    expect(secrets).toContain('acme-prod');
  });

  it('masks a CLOB credential set once registered from the environment', () => {
    registerSecrets(secretsFromEnv({ CLOB_API_KEY: API_KEY_UUID, CLOB_SECRET: API_SECRET_B64, CLOB_PASS_PHRASE: PASSPHRASE }));
    const out = redactText(`L2 headers ${API_KEY_UUID} ${API_SECRET_B64} ${PASSPHRASE}`);
    expect(out).toBe(`L2 headers ${REDACTED} ${REDACTED} ${REDACTED}`);
  });
});

describe('isSecretKey', () => {
  it.each([
    'privateKey', 'PRIVATE_KEY', 'private-key', 'private key', 'secret', 'apiSecret', 'CLOB_SECRET', 'passphrase',
    'passPhrase', 'POLY_PASS_PHRASE', 'password', 'apiKey', 'APIKey', 'x-api-key', 'apikey', 'token', 'botToken',
    'TELEGRAM_BOT_TOKEN', 'access_token', 'mnemonic', 'seedPhrase', 'seed phrase', 'Authorization', 'credentials',
  ])('%j looks secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['tokenId', 'token_id', 'clobTokenIds', 'tokens', 'tokenizer', 'keyboard', 'monkey', 'secretary', 'market', 'wallet', 'key'])(
    '%j does not',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});

describe('redactValue', () => {
  it('masks the whole value of secret-looking keys at any depth', () => {
    const input = {
      wallet: ADDRESS,
      config: { clob: { apiKey: 'plain', nested: { privateKey: PRIVATE_KEY, password: 12345678 } } },
      telegram: { botToken: 'not-a-token-shape' },
    };
    expect(redactValue(input)).toEqual({
      wallet: '\u2026b92266',
      config: { clob: { apiKey: REDACTED, nested: { privateKey: REDACTED, password: REDACTED } } },
      telegram: { botToken: REDACTED },
    });
  });

  it('masks secrets inside ordinary strings', () => {
    expect(redactValue({ note: `tg ${TELEGRAM_TOKEN}`, list: [`0x${PRIVATE_KEY}`, MNEMONIC_12] })).toEqual({
      note: `tg ${REDACTED}`,
      list: [REDACTED, REDACTED],
    });
  });

  it('masks the bare "key" of a {key, secret, passphrase} credentials object', () => {
    expect(redactValue({ clob: { key: 'k-123', secret: 's', passphrase: 'p' } })).toEqual({
      clob: { key: REDACTED, secret: REDACTED, passphrase: REDACTED },
    });
  });

  it('keeps booleans and absent values under secret keys, which say whether a secret is set', () => {
    expect(redactValue({ hasPrivateKey: true, apiKey: undefined, secret: null })).toEqual({
      hasPrivateKey: true,
      apiKey: undefined,
      secret: null,
    });
  });

  it('masks a mnemonic given as an array of words', () => {
    expect(redactValue({ words: MNEMONIC_12.split(' ') })).toEqual({ words: Array(12).fill(REDACTED) });
  });

  it('keeps numbers, booleans and short hex market ids', () => {
    const input = { txCount: 42, ok: true, market: '0xabc', price: 0.42, at: null };
    expect(redactValue(input)).toEqual(input);
  });

  it('returns a copy, never the caller\u2019s object', () => {
    const input = { nested: { n: 1 } };
    const out = redactValue(input) as typeof input;
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.nested).not.toBe(input.nested);
  });

  it('keeps name, redacted message and redacted stack of an Error', () => {
    const error = new TypeError(`cannot sign with 0x${PRIVATE_KEY}`);
    const out = redactValue(error) as Record<string, unknown>;
    expect(out.name).toBe('TypeError');
    expect(out.message).toBe(`cannot sign with ${REDACTED}`);
    expect(out.stack).toMatch(/^TypeError: cannot sign with \[REDACTED\]\n\s+at /);
    expect(JSON.stringify(out)).not.toContain(PRIVATE_KEY);
  });

  it('redacts the extra fields and the cause of an Error', () => {
    const error = Object.assign(new Error('request failed', { cause: new Error(`token ${TELEGRAM_TOKEN}`) }), {
      code: 'E401',
      config: { headers: { POLY_API_KEY: API_KEY_UUID } },
    });
    const out = redactValue(error) as Record<string, unknown>;
    expect(out.code).toBe('E401');
    expect(out.config).toEqual({ headers: { POLY_API_KEY: REDACTED } });
    expect((out.cause as Record<string, unknown>).message).toBe(`token ${REDACTED}`);
  });

  it('replaces a cycle by a marker instead of recursing', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    a.list = [a];
    expect(redactValue(a)).toEqual({ name: 'a', self: '[Circular]', list: ['[Circular]'] });
  });

  it('copies a shared, non-cyclic object twice rather than calling it a cycle', () => {
    const shared = { n: 1 };
    expect(redactValue({ x: shared, y: shared })).toEqual({ x: { n: 1 }, y: { n: 1 } });
  });

  it('stops at a bounded depth', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: { secret: 'x' } } } } } } } };
    expect(JSON.stringify(redactValue(deep))).toBe('{"a":{"b":{"c":{"d":{"e":{"f":"[Object]"}}}}}}');
  });

  it('replaces raw bytes by their length', () => {
    expect(redactValue({ raw: Buffer.from(PRIVATE_KEY, 'hex') })).toEqual({ raw: '[Buffer 32 bytes]' });
  });

  it('masks secret keys of a Map', () => {
    expect(redactValue(new Map<string, unknown>([['apiSecret', 'x'], ['n', 1]]))).toEqual({ apiSecret: REDACTED, n: 1 });
  });

  it('survives a getter that throws', () => {
    const hostile = {
      get boom(): string {
        throw new Error('no');
      },
      fine: 1,
    };
    expect(redactValue(hostile)).toEqual({ boom: '[unreadable]', fine: 1 });
  });
});

describe('shortAddress', () => {
  it('keeps an ellipsis and the last 6 characters', () => {
    expect(shortAddress(ADDRESS)).toBe('\u2026b92266');
  });
});

describe('pathological input', () => {
  // Each shape targets one rule's worst case; a catastrophic regex would hang here until the
  // test times out.
  it.each([
    ['one long word', 'a'.repeat(100_000)],
    ['repeated secret word without separator', 'token'.repeat(20_000)],
    ['many separators', 'a:'.repeat(50_000)],
    ['many secret keys without values', 'key= '.repeat(20_000)],
    ['unterminated quoted secret', `"secret":"${'x'.repeat(100_000)}`],
    ['unterminated bracket', `"secret":${'['.repeat(100_000)}`],
    ['long hex run', 'f'.repeat(100_000)],
    ['almost-tokens', '123456789:'.repeat(10_000)],
    ['almost-mnemonics', 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon, '.repeat(1_200)],
    ['a very long mnemonic-like run', 'abandon '.repeat(12_500)],
    ['almost-addresses', `0x${'a'.repeat(39)} `.repeat(2_300)],
    ['bearer with no credential', 'Bearer '.repeat(14_000)],
    ['url-like', 'https://a:'.repeat(10_000)],
  ])('finishes on 100 kB of %s', (_name, input) => {
    expect(typeof redactText(input)).toBe('string');
  });

  it('cuts a 100 kB mnemonic-like run to the 64 KiB it scans, and masks all of that', () => {
    expect(redactText('abandon '.repeat(12_500))).toBe(`${REDACTED} … [${100_000 - 65_536} characters cut]`);
  });
});

describe('secretsFromEnv and the shell', () => {
  it('does not take PWD and OLDPWD (working directories) for passwords: file paths stay readable', () => {
    expect(secretsFromEnv({ PWD: '/srv/polymarket-bot', OLDPWD: '/srv', DB_PWD: 'hunter2-hunter2' })).toEqual(['hunter2-hunter2']);
  });

  it('does not take where a secret is kept for the secret (…_FILE, …_PATH, …_DIR)', () => {
    expect(secretsFromEnv({ PRIVATE_KEY_FILE: '/run/secrets/key', TLS_KEY_PATH: '/etc/tls/key.pem', SECRETS_DIR: '/run/secrets' })).toEqual([]);
  });
});
