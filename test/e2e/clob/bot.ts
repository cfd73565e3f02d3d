// The same kind of bot in TypeScript, run from source with tsx; no monitoring code. The preload
// goes first so that it is in place before tsx's loader compiles the bot:
//
//   CLOB_HOST=http://127.0.0.1:PORT node --import polymarket-bot-monitoring/register --import tsx test/e2e/clob/bot.ts
//
// BOT_ORDERS (default 4) limit orders BUY/SELL alternating, then one cancelOrders. BOT_HOLD=1:
// print `bot: done` and stay up until SIGTERM.
import { ClobClient, Side, type ApiKeyCreds, type UserOrder } from '@polymarket/clob-client';
import { createWalletClient, http } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { polygon } from 'viem/chains';

const TOKEN_ID = '123456789';
const flag = (name: string): boolean => process.env[name] === '1' || process.env[name] === 'true';

const host = process.env.CLOB_HOST;
if (!host) {
  console.error('bot: CLOB_HOST is not set');
  process.exit(2);
}

const signer = createWalletClient({
  account: privateKeyToAccount(generatePrivateKey()),
  chain: polygon,
  transport: http('http://127.0.0.1:1'),
});
const creds: ApiKeyCreds = {
  key: 'c0ffee00-0000-4000-8000-000000000003',
  secret: Buffer.from('a third made-up secret, 32 bytes').toString('base64'),
  passphrase: 'fake-passphrase',
};
const client = new ClobClient(host, 137, signer, creds);

let stopping = false;
let release: (() => void) | undefined;
process.once('SIGTERM', () => {
  stopping = true;
  release?.();
});

const print = (record: object): void => console.log(`result ${JSON.stringify(record)}`);
async function call(name: string, side: Side | undefined, fn: () => Promise<unknown>): Promise<void> {
  try {
    print({ call: name, side, returned: await fn() });
  } catch (error) {
    const e = error as { name?: string; message?: string; status?: number };
    print({ call: name, side, threw: { name: e?.name, message: e?.message, status: e?.status } });
  }
}

const orders = Number(process.env.BOT_ORDERS ?? 4);
for (let i = 0; i < orders && !stopping; i++) {
  const side = i % 2 === 0 ? Side.BUY : Side.SELL;
  const order: UserOrder = { tokenID: TOKEN_ID, price: 0.5, size: 10, side };
  await call('createAndPostOrder', side, () => client.createAndPostOrder(order));
}
if (!stopping) await call('cancelOrders', undefined, () => client.cancelOrders(['0x01', '0x02']));

if (flag('BOT_HOLD') && !stopping) {
  console.log('bot: done');
  const keepAlive = setInterval(() => {}, 60_000);
  await new Promise<void>((resolve) => (release = resolve));
  clearInterval(keepAlive);
}
console.log('bot: exiting');
