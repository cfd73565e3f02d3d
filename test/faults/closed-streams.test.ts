/**
 * The plugin's own output can fail (issue 15, finding 1): a bot whose stderr reader goes away
 * (a log shipper restarted, `| head`) must run on exactly as it would unmonitored. Before the fix
 * the plugin's next log line raised an uncaught `write EPIPE` and killed the bot within a second.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { REGISTER, ROOT, freePort } from '../e2e/harness.js';

const RUN_MS = 3_000;

// Trades through the probe every 20 ms for RUN_MS (each a debug line of the plugin's), then
// ends on its own with a line on stdout.
const BOT = `
import { traceTradeExecution } from 'polymarket-bot-monitoring/probe';
let placed = 0;
const timer = setInterval(() => {
  traceTradeExecution({ side: 'buy', size: 1, price: 0.5, market: 'm' }, () => ({ status: 'matched', success: true }));
  placed += 1;
}, 20);
setTimeout(() => {
  clearInterval(timer);
  process.stdout.write('placed ' + placed + '\\n');
}, ${RUN_MS});
`;

const children = new Set<ReturnType<typeof spawn>>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  ms: number;
}

/** Runs the bot with stderr read until its first bytes, then that pipe's reader closed. */
async function runWithClosedReader(monitored: boolean): Promise<Run> {
  const [metrics, health] = [await freePort(), await freePort()];
  const args = [...(monitored ? ['--import', REGISTER] : []), '--input-type=module', '-e', BOT];
  const started = Date.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      MONITORING_LOG_LEVEL: 'debug',
      METRICS_PORT: String(metrics),
      DASHBOARD_PORT: String(health),
      MONITOR_INTERVAL_SECONDS: '5',
    },
  });
  children.add(child);
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const target = child.stderr!;
  // Unmonitored, stderr may stay silent: close it after a short while whatever arrived.
  const closeTimer = setTimeout(() => target.destroy(), 300);
  target.once('data', () => {
    clearTimeout(closeTimer);
    target.destroy();
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  children.delete(child);
  return { code, signal, stdout, ms: Date.now() - started };
}

describe('a closed log stream', () => {
  it('does not kill a monitored bot whose stderr reader exits: it runs its course and exits as unmonitored', async () => {
    const [bare, monitored] = await Promise.all([runWithClosedReader(false), runWithClosedReader(true)]);
    expect(bare).toMatchObject({ code: 0, signal: null });
    expect(monitored.stdout, 'the monitored bot reached its end').toMatch(/placed \d+/);
    expect(monitored).toMatchObject({ code: 0, signal: null });
    expect(monitored.ms).toBeGreaterThanOrEqual(RUN_MS);
  }, 30_000);
});
