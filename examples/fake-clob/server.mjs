// A fake Polymarket CLOB on loopback that the official @polymarket/clob-client can trade against:
// market metadata, order book, order placement, cancels. For the demo, the end-to-end tests and
// the benchmarks. It never verifies a signature (it only checks the L2 headers are there), holds no
// state between orders, and answers each trading request as its script says.
//
//   import { startFakeClob } from './examples/fake-clob/server.mjs';
//   const clob = await startFakeClob({ script: ['fill', 'rest', 'http500'] });
//   new ClobClient(clob.url, 137, signer, creds) … ; clob.stats.requests … ; await clob.stop();
//
// or stand-alone: `node examples/fake-clob/server.mjs [port] [mode|mode,mode,…]`.
//
// Trading requests (POST /order, POST /orders, DELETE /order, /orders, /cancel-all,
// /cancel-market-orders) each take the next step of the script, cycling; a batch is one step for
// all its orders. Everything else (tick size, neg risk, fee rate, book, time) always answers.
//
// @polymarket/clob-client-v2 reads two things more, also always answered: the order version the
// CLOB takes (GET /version, once per client; with throwOnError a 404 there would make every order
// throw before it is posted), and, for market orders, the market's info by token
// (GET /markets-by-token/:token → condition id, then GET /clob-markets/:condition_id → tick size,
// neg risk, fee details). Its orders arrive at the same POST /order, /orders in the v2 shape.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

/**
 * What a trading request gets:
 * - `fill` / `rest` / `delayed` / `unmatched`: HTTP 200 `{ success: true, status: matched|live|delayed|unmatched, … }`
 * - `refuse`: HTTP 200 `{ success: false, errorMsg: 'not enough balance / allowance' }` (the CLOB's documented refusal)
 * - `bad_request`: HTTP 400 `{ error: 'not enough balance / allowance' }` (what the live CLOB answers to most refusals)
 * - `http429`, `http500`: that status with `{ error }`
 * - `drop`: the request is read in full, then its socket destroyed without an answer
 * For cancels, the first four answer `{ canceled: [ids], not_canceled: {} }` and `refuse` puts every id in `not_canceled`
 * with a refusal (not "already canceled or matched", which means the order is gone: the cancel's aim).
 */
export const MODES = /** @type {const} */ (['fill', 'rest', 'delayed', 'unmatched', 'refuse', 'bad_request', 'http429', 'http500', 'drop']);

/** @typedef {(typeof MODES)[number]} Mode */

/** The `mixed` script: every mode once, in this order, then again. */
export const MIXED = /** @type {Mode[]} */ (['fill', 'rest', 'delayed', 'unmatched', 'refuse', 'bad_request', 'http429', 'http500', 'drop', 'fill']);

const ORDER_STATUS = { fill: 'matched', rest: 'live', delayed: 'delayed', unmatched: 'unmatched' };
const REFUSAL = 'not enough balance / allowance';
/** Where v2 reads a market's info: a path parameter, not a query. */
const MARKET_BY_TOKEN = '/markets-by-token/';
const CLOB_MARKET = '/clob-markets/';
const TRADING = new Set(['POST /order', 'POST /orders', 'DELETE /order', 'DELETE /orders', 'DELETE /cancel-all', 'DELETE /cancel-market-orders']);
const L2_HEADERS = ['poly_address', 'poly_signature', 'poly_timestamp', 'poly_api_key', 'poly_passphrase'];

/**
 * @typedef {object} SeenRequest
 * @property {string} method
 * @property {string} path        without the query string
 * @property {Record<string, string>} query
 * @property {unknown} body       parsed JSON, or undefined
 * @property {number | null} status  what was answered; null when dropped
 * @property {boolean} dropped
 * @property {Mode | undefined} mode  the script step a trading request took
 * @property {number | undefined} step  its index (0, 1, …), counting every trading request
 */

/** @param {Mode | 'mixed' | Mode[]} modeOrScript @returns {Mode[]} */
function toScript(modeOrScript) {
  const script = modeOrScript === 'mixed' ? MIXED : Array.isArray(modeOrScript) ? modeOrScript : [modeOrScript];
  if (script.length === 0) throw new Error('fake CLOB: empty script');
  for (const mode of script) if (!MODES.includes(mode)) throw new Error(`fake CLOB: unknown mode ${JSON.stringify(mode)}`);
  return [...script];
}

/**
 * @param {{ port?: number, host?: string, mode?: Mode | 'mixed', script?: Mode[], tickSize?: string, negRisk?: boolean, feeRateBps?: number, orderVersion?: number, log?: (line: string) => void }} [options]
 *   `orderVersion`: what GET /version answers (clob-client-v2 builds orders of that version; default 2)
 */
export async function startFakeClob(options = {}) {
  const { port = 0, host = '127.0.0.1', tickSize = '0.01', negRisk = false, feeRateBps = 0, orderVersion = 2, log } = options;
  let script = toScript(options.script ?? options.mode ?? 'fill');
  let step = 0;

  /** @type {SeenRequest[]} */
  const requests = [];
  const stats = {
    requests,
    /** Requests answered with a status for which `ok(status)` holds, dropped ones never. */
    answered: (/** @type {(status: number) => boolean} */ ok = () => true) => requests.filter((r) => r.status !== null && ok(r.status)).length,
    /** The API worked (2xx–4xx but 429), as the plugin's api health counts it. */
    get succeeded() { return requests.filter((r) => r.status !== null && r.status < 500 && r.status !== 429).length; },
    /** The API failed: 429, 5xx, or a dropped connection. */
    get failed() { return requests.filter((r) => r.dropped || (r.status !== null && (r.status >= 500 || r.status === 429))).length; },
    get dropped() { return requests.filter((r) => r.dropped).length; },
    /** Trading requests only, in arrival order. */
    get trades() { return requests.filter((r) => r.mode !== undefined); },
  };

  /** @type {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void} */
  const handle = (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake-clob');
      const text = Buffer.concat(chunks).toString();
      /** @type {SeenRequest} */
      const seen = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: undefined,
        status: null,
        dropped: false,
        mode: undefined,
        step: undefined,
      };
      try {
        seen.body = text === '' ? undefined : JSON.parse(text);
      } catch {
        seen.body = text;
      }
      requests.push(seen);
      const send = (/** @type {number} */ status, /** @type {unknown} */ body) => {
        seen.status = status;
        log?.(`${seen.method} ${seen.path} -> ${status}${seen.mode ? ` (${seen.mode})` : ''}`);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const key = `${seen.method} ${seen.path}`;
      if (TRADING.has(key)) {
        if (L2_HEADERS.some((h) => typeof req.headers[h] !== 'string')) return send(401, { error: 'Unauthorized/Invalid api key' });
        seen.step = step;
        seen.mode = script[step % script.length];
        step += 1;
        return trade(seen, send, () => {
          seen.dropped = true;
          log?.(`${key} -> dropped`);
          req.socket.destroy();
        });
      }
      const token = seen.query.token_id ?? '';
      if (seen.method === 'GET' && seen.path.startsWith(MARKET_BY_TOKEN)) {
        const condition = conditionOf(seen.path.slice(MARKET_BY_TOKEN.length));
        return condition ? send(200, marketByToken(condition)) : send(400, { error: 'Invalid token id' });
      }
      if (seen.method === 'GET' && seen.path.startsWith(CLOB_MARKET)) {
        const market = tokenOf(seen.path.slice(CLOB_MARKET.length));
        return market ? send(200, clobMarket(market, tickSize, negRisk, feeRateBps)) : send(404, { error: 'market not found' });
      }
      switch (key) {
        case 'GET /':
        case 'GET /ok':
          return send(200, 'OK');
        case 'GET /version':
          return send(200, { version: orderVersion });
        case 'GET /time':
          return send(200, Math.floor(Date.now() / 1000));
        case 'GET /tick-size':
          return token ? send(200, { minimum_tick_size: Number(tickSize) }) : send(400, { error: 'Invalid token id' });
        case 'GET /neg-risk':
          return token ? send(200, { neg_risk: negRisk }) : send(400, { error: 'Invalid token id' });
        case 'GET /fee-rate':
          return token ? send(200, { base_fee: feeRateBps }) : send(400, { error: 'Invalid token id' });
        case 'GET /book':
          return token ? send(200, book(token, tickSize, negRisk)) : send(400, { error: 'Invalid token id' });
        default:
          return send(404, { error: `fake CLOB: no route for ${key}` });
      }
    });
  };

  const server = createServer(handle);
  // Longer than any test: a keep-alive socket the server closes just as the client reuses it would
  // be a network error nobody scripted.
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  return {
    url,
    port: address.port,
    stats,
    /** From now on every trading request gets `mode` (or the `mixed` script); the step count goes on. */
    setMode(/** @type {Mode | 'mixed'} */ mode) {
      script = toScript(mode);
    },
    setScript(/** @type {Mode[]} */ modes) {
      script = toScript(modes);
    },
    /** Forgets every request and starts the script (and order ids) from its first step. */
    reset() {
      requests.length = 0;
      step = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/** A deterministic order id for the n-th trading request: the same script gives the same ids. */
const orderId = (/** @type {number} */ n, /** @type {number} */ i = 0) => `0x${(n * 1000 + i + 1).toString(16).padStart(64, '0')}`;

/**
 * @param {SeenRequest} seen
 * @param {(status: number, body: unknown) => void} send
 * @param {() => void} drop
 */
function trade(seen, send, drop) {
  const mode = /** @type {Mode} */ (seen.mode);
  const n = /** @type {number} */ (seen.step);
  if (mode === 'drop') return drop();
  if (mode === 'http500') return send(500, { error: 'Internal Server Error' });
  if (mode === 'http429') return send(429, { error: 'Too Many Requests' });
  if (mode === 'bad_request') return send(400, { error: REFUSAL });

  const body = /** @type {any} */ (seen.body);
  if (seen.method === 'DELETE') {
    const ids = seen.path === '/order' ? [body?.orderID] : seen.path === '/orders' && Array.isArray(body) ? body : [orderId(n)];
    return mode === 'refuse'
      ? send(200, { canceled: [], not_canceled: Object.fromEntries(ids.map((id) => [String(id), "the market is closed: orders cannot be canceled"])) })
      : send(200, { canceled: ids.map(String), not_canceled: {} });
  }

  /** @param {any} posted @param {number} i */
  const answer = (posted, i) => {
    if (mode === 'refuse') return { success: false, errorMsg: REFUSAL, orderID: '', transactionsHashes: [], status: '', takingAmount: '', makingAmount: '' };
    const status = ORDER_STATUS[/** @type {keyof typeof ORDER_STATUS} */ (mode)];
    const matched = status === 'matched';
    return {
      success: true,
      errorMsg: '',
      orderID: orderId(n, i),
      transactionsHashes: matched ? [`0x${'ab'.repeat(32)}`] : [],
      status,
      takingAmount: matched ? String(posted?.order?.takerAmount ?? '') : '',
      makingAmount: matched ? String(posted?.order?.makerAmount ?? '') : '',
    };
  };
  return seen.path === '/orders' ? send(200, (Array.isArray(body) ? body : []).map(answer)) : send(200, answer(body, 0));
}

/** A book deep enough for any small market order on either side. */
function book(/** @type {string} */ token, /** @type {string} */ tickSize, /** @type {boolean} */ negRisk) {
  return {
    market: `0x${'cd'.repeat(32)}`,
    asset_id: token,
    timestamp: '1700000000000',
    // The client walks both lists from the end: best price last.
    bids: [{ price: '0.48', size: '1000' }, { price: '0.49', size: '1000' }],
    asks: [{ price: '0.52', size: '1000' }, { price: '0.51', size: '1000' }],
    min_order_size: '5',
    tick_size: tickSize,
    neg_risk: negRisk,
    last_trade_price: '0.5',
    hash: `0x${'ef'.repeat(20)}`,
  };
}

/**
 * Token ids are decimal uint256 strings; a token's market (condition id) is the same number as 32
 * bytes of hex, so either is read back from the other with no state. Both of a market's tokens:
 * the token asked for, and the token after it.
 */
function conditionOf(/** @type {string} */ token) {
  if (!/^\d{1,78}$/.test(token)) return undefined;
  const n = BigInt(token);
  return n < 2n ** 256n ? `0x${n.toString(16).padStart(64, '0')}` : undefined;
}
function tokenOf(/** @type {string} */ condition) {
  return /^0x[0-9a-fA-F]{64}$/.test(condition) ? BigInt(condition).toString() : undefined;
}

/** GET /markets-by-token/:token */
function marketByToken(/** @type {string} */ condition) {
  const token = BigInt(condition);
  return { condition_id: condition, primary_token_id: token.toString(), secondary_token_id: (token + 1n).toString() };
}

/** GET /clob-markets/:condition_id, in the CLOB's short keys (what clob-client-v2 reads: t, mts, nr, fd). */
function clobMarket(/** @type {string} */ token, /** @type {string} */ tickSize, /** @type {boolean} */ negRisk, /** @type {number} */ feeRateBps) {
  return {
    c: conditionOf(token),
    t: [{ t: token, o: 'Yes' }, { t: (BigInt(token) + 1n).toString(), o: 'No' }],
    mts: Number(tickSize),
    nr: negRisk,
    fd: { r: feeRateBps / 10_000, e: 1 },
    mos: 5,
    r: null,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [portArg, modeArg = 'fill'] = process.argv.slice(2);
  const script = modeArg === 'mixed' ? MIXED : /** @type {Mode[]} */ (modeArg.split(','));
  const clob = await startFakeClob({ port: Number(portArg ?? 0), script, log: (line) => console.log(line) });
  console.log(`fake CLOB listening on ${clob.url} (script: ${script.join(', ')})`);
  const stop = () => void clob.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
