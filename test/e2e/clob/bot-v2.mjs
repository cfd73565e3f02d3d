// bot.mjs on the successor client, @polymarket/clob-client-v2 (ESM build, dist/client.js): the
// constructor takes one options object, orders are v2 orders (GET /version first, market orders
// read the market's info from /markets-by-token and /clob-markets). No monitoring code.
//
//   CLOB_HOST=http://127.0.0.1:PORT node [--import polymarket-bot-monitoring/register] test/e2e/clob/bot-v2.mjs
//
// BOT_ORDERS        limit orders to place one after the other, BUY and SELL alternating (default 4)
// BOT_HOLD=1        after the last call print `bot: done`, then stay up until SIGTERM
// BOT_PROBE=1       also place one order inside the probe's traceTradeExecution and one inside
//                   traceWalletScan (the probe is imported only then)
// CLOB_THROW_ON_ERROR=1, CLOB_RETRY_ON_ERROR=1   the client's own options
//
// The calls, in order: BOT_ORDERS × createAndPostOrder, one createAndPostMarketOrder (BUY $5),
// one postOrders batch of two SELL orders, [BOT_PROBE: a traced order (BUY), an order in a wallet
// scan (SELL)], one cancelOrder.
import { Chain, ClobClient, OrderType, Side } from '@polymarket/clob-client-v2';
import { createWalletClient, http } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { polygon } from 'viem/chains';

const TOKEN_ID = '123456789';
const flag = (name) => process.env[name] === '1' || process.env[name] === 'true';
const host = process.env.CLOB_HOST;
if (!host) {
  console.error('bot: CLOB_HOST is not set');
  process.exit(2);
}

// A fresh key per run: nothing here is ever worth anything. The transport is never used, a local
// account signs typed data itself.
const signer = createWalletClient({
  account: privateKeyToAccount(generatePrivateKey()),
  chain: polygon,
  transport: http('http://127.0.0.1:1'),
});
const creds = { key: 'c0ffee00-0000-4000-8000-000000000021', secret: Buffer.from('a v2 made-up secret, 32 bytes ok').toString('base64'), passphrase: 'fake-passphrase' };
const client = new ClobClient({
  host,
  chain: Chain.POLYGON,
  signer,
  creds,
  retryOnError: flag('CLOB_RETRY_ON_ERROR'),
  throwOnError: flag('CLOB_THROW_ON_ERROR'),
});

let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
  release?.();
});
let release;

/** Runs one client call and prints what it returned or threw, as the bot would log it. */
async function call(name, side, fn) {
  try {
    print({ call: name, side, returned: await fn() });
  } catch (error) {
    print({ call: name, side, threw: { name: error?.name, message: error?.message, status: error?.status } });
  }
}
const print = (record) => console.log(`result ${JSON.stringify(record)}`);
const limit = (side) => ({ tokenID: TOKEN_ID, price: 0.5, size: 10, side });

const orders = Number(process.env.BOT_ORDERS ?? 4);
for (let i = 0; i < orders && !stopping; i++) {
  const side = i % 2 === 0 ? Side.BUY : Side.SELL;
  await call('createAndPostOrder', side, () => client.createAndPostOrder(limit(side)));
}
if (!stopping) {
  await call('createAndPostMarketOrder', Side.BUY, () =>
    client.createAndPostMarketOrder({ tokenID: TOKEN_ID, amount: 5, side: Side.BUY }, undefined, OrderType.FOK),
  );
}
if (!stopping) {
  const batch = [await client.createOrder(limit(Side.SELL)), await client.createOrder(limit(Side.SELL))];
  await call('postOrders', Side.SELL, () => client.postOrders(batch.map((order) => ({ order, orderType: OrderType.GTC }))));
}
if (!stopping && flag('BOT_PROBE')) {
  const { traceTradeExecution, traceWalletScan } = await import('polymarket-bot-monitoring/probe');
  await call('traceTradeExecution(createAndPostOrder)', Side.BUY, () =>
    traceTradeExecution({ market: TOKEN_ID, side: 'buy', size: 10, price: 0.5 }, () => client.createAndPostOrder(limit(Side.BUY))),
  );
  await call('traceWalletScan(createAndPostOrder)', Side.SELL, () =>
    traceWalletScan('0x00000000000000000000000000000000000a11ce', () => client.createAndPostOrder(limit(Side.SELL))),
  );
}
if (!stopping) await call('cancelOrder', undefined, () => client.cancelOrder({ orderID: '0x01' }));

if (flag('BOT_HOLD') && !stopping) {
  console.log('bot: done');
  // Up until SIGTERM; then the event loop empties and the process ends as it would have.
  const keepAlive = setInterval(() => {}, 60_000);
  await new Promise((resolve) => (release = resolve));
  clearInterval(keepAlive);
}
console.log('bot: exiting');
