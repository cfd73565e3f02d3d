/**
 * A CLOB client of a version the plugin does not support, imported by an ES module bot: the bot
 * gets the package's own module (its default export included), nothing is patched, and the
 * plugin says so in one line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnBot } from './harness.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pbm-unsupported-'));
  const pkg = path.join(dir, 'node_modules', '@polymarket', 'clob-client');
  mkdirSync(path.join(pkg, 'dist'), { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@polymarket/clob-client', version: '4.22.8', type: 'module', main: 'dist/index.js' }));
  // The order methods of a real client, answering without a network; and a default export, which
  // a re-exporting module would lose.
  writeFileSync(
    path.join(pkg, 'dist', 'index.js'),
    `export class ClobClient {
  async postOrder() { return { success: true, status: 'matched' }; }
  async postOrders() { return []; }
  async createAndPostOrder() { return this.postOrder(); }
  async createAndPostMarketOrder() { return this.postOrder(); }
  async cancelOrder() { return { canceled: [], not_canceled: {} }; }
  async cancelOrders() { return { canceled: [], not_canceled: {} }; }
  async cancelAll() { return { canceled: [], not_canceled: {} }; }
  async cancelMarketOrders() { return { canceled: [], not_canceled: {} }; }
  async get() { return {}; }
  async post() { return {}; }
  async del() { return {}; }
}
export default 'the default export';
`,
  );
  writeFileSync(
    path.join(dir, 'bot.mjs'),
    `import fallback, { ClobClient } from '@polymarket/clob-client';
const client = new ClobClient();
console.log('default:', fallback, 'postOrder is the package\\'s own:', ClobClient.prototype.postOrder.name === 'postOrder' && !String(ClobClient.prototype.postOrder).includes('traceTradeExecution'));
console.log('answer:', JSON.stringify(await client.postOrder({})));
`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('an unsupported CLOB client version imported by an ES module bot', () => {
  it('keeps its own module and exports, is not patched, and costs one warning line', async () => {
    const bot = spawnBot({ script: path.join(dir, 'bot.mjs'), env: { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) } });
    const { code } = await bot.exited;
    const output = bot.output();
    expect(code).toBe(0);
    expect(output).toContain("default: the default export postOrder is the package's own: true");
    expect(output).toContain('answer: {"success":true,"status":"matched"}');
    const warnings = output.split('\n').filter((line) => line.includes('is not a supported CLOB client'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('@polymarket/clob-client 4.22.8');
    expect(output).not.toMatch(/instrumented: orders/);
  });
});
