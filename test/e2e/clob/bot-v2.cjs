// bot.cjs on the successor client: `require('@polymarket/clob-client-v2')` loads v2's own
// CommonJS build (dist/index.cjs → dist/client.cjs), not the ESM one through require(esm) as
// bot.cjs does with 5.x. No monitoring code.
//
//   CLOB_HOST=http://127.0.0.1:PORT node [--import polymarket-bot-monitoring/register] test/e2e/clob/bot-v2.cjs
//
// BOT_ORDERS (default 4) limit orders BUY/SELL alternating, then one cancelAll. BOT_HOLD=1: print
// `bot: done` and stay up until SIGTERM. CLOB_THROW_ON_ERROR=1, CLOB_RETRY_ON_ERROR=1: the client's options.
'use strict';
const { Chain, ClobClient, Side } = require('@polymarket/clob-client-v2');
const { createWalletClient, http } = require('viem');
const { generatePrivateKey, privateKeyToAccount } = require('viem/accounts');
const { polygon } = require('viem/chains');

const TOKEN_ID = '123456789';
const flag = (name) => process.env[name] === '1' || process.env[name] === 'true';

async function main() {
  const host = process.env.CLOB_HOST;
  if (!host) {
    console.error('bot: CLOB_HOST is not set');
    process.exitCode = 2;
    return;
  }
  const signer = createWalletClient({
    account: privateKeyToAccount(generatePrivateKey()),
    chain: polygon,
    transport: http('http://127.0.0.1:1'),
  });
  const creds = { key: 'c0ffee00-0000-4000-8000-000000000022', secret: Buffer.from('one more made-up secret, 32 byte').toString('base64'), passphrase: 'fake-passphrase' };
  const client = new ClobClient({
    host,
    chain: Chain.POLYGON,
    signer,
    creds,
    retryOnError: flag('CLOB_RETRY_ON_ERROR'),
    throwOnError: flag('CLOB_THROW_ON_ERROR'),
  });

  let stopping = false;
  let release;
  process.once('SIGTERM', () => {
    stopping = true;
    if (release) release();
  });
  const print = (record) => console.log(`result ${JSON.stringify(record)}`);
  const call = async (name, side, fn) => {
    try {
      print({ call: name, side, returned: await fn() });
    } catch (error) {
      print({ call: name, side, threw: { name: error && error.name, message: error && error.message, status: error && error.status } });
    }
  };

  const orders = Number(process.env.BOT_ORDERS || 4);
  for (let i = 0; i < orders && !stopping; i++) {
    const side = i % 2 === 0 ? Side.BUY : Side.SELL;
    await call('createAndPostOrder', side, () => client.createAndPostOrder({ tokenID: TOKEN_ID, price: 0.5, size: 10, side }));
  }
  if (!stopping) await call('cancelAll', undefined, () => client.cancelAll());

  if (flag('BOT_HOLD') && !stopping) {
    console.log('bot: done');
    const keepAlive = setInterval(() => {}, 60_000);
    await new Promise((resolve) => (release = resolve));
    clearInterval(keepAlive);
  }
  console.log('bot: exiting');
}

main().catch((error) => {
  console.error('bot: crashed', error);
  process.exitCode = 1;
});
