// The demo's trading through the official CLOB client (DEMO_CLOB=1 npm start): orders go through
// @polymarket/clob-client to a fake CLOB on loopback (examples/fake-clob/server.mjs). There is no
// monitoring code here, on purpose: this is what a real bot looks like, and the preload sees its
// orders, their outcomes and the client's requests by itself.
//
// DEMO_CLOB=1 (or `mixed`) answers mostly fills, some orders resting on the book, an unfilled
// marketable order and a refusal now and then; any one mode of the fake CLOB instead answers every
// order that way: DEMO_CLOB=http500 is a CLOB outage, `refuse` a wallet without balance, `drop`
// a CLOB that hangs up.
import { ClobClient, OrderType, Side } from '@polymarket/clob-client';
import { createWalletClient, http } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { polygon } from 'viem/chains';
import { MODES, startFakeClob } from '../fake-clob/server.mjs';

const DEMO_SCRIPT = ['fill', 'fill', 'rest', 'fill', 'fill', 'unmatched', 'fill', 'rest', 'fill', 'refuse'];

function scriptFor(setting) {
  const word = setting.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 'mixed'].includes(word)) return DEMO_SCRIPT;
  if (MODES.includes(word)) return [word];
  throw new Error(`DEMO_CLOB=${JSON.stringify(setting)}: expected 1 or one of ${MODES.join(', ')}`);
}

/** Starts the fake CLOB and a client on it; `place(order)` places one copied order as a limit order. */
export async function startClobTrader(setting) {
  const clob = await startFakeClob({ script: scriptFor(setting) });
  // A fresh key per run, never funded, and signing happens locally: nothing leaves the machine.
  const signer = createWalletClient({ account: privateKeyToAccount(generatePrivateKey()), chain: polygon, transport: http('http://127.0.0.1:1') });
  const creds = { key: 'c0ffee00-0000-4000-8000-00000000demo', secret: Buffer.from('demo only, not a real API secret').toString('base64'), passphrase: 'demo-passphrase' };
  const client = new ClobClient(clob.url, 137, signer, creds);
  return {
    url: clob.url,
    /** The demo's markets are condition ids; the CLOB trades token ids (decimal strings). */
    place: (order) =>
      client.createAndPostOrder(
        { tokenID: BigInt(order.market).toString(), price: order.price, size: order.size, side: order.side === 'SELL' ? Side.SELL : Side.BUY },
        undefined,
        OrderType.GTC,
      ),
    stop: () => clob.stop(),
  };
}
