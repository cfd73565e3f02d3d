/**
 * Fault injection, the Node.js versions the plugin promises (`engines.node >=22.15`): the preload
 * and the zero-code CLOB client instrumentation on the oldest Node it allows, 22.15.0, and on the
 * first 24.x, 24.0.0 — not only on the Node this project runs on.
 *
 * Why these two: a module *load* hook (module.registerHooks), even one that passes everything
 * through, breaks loading CommonJS from ES modules in Node 22.15–22.20 and 24.0 ("request for
 * './index.js' is not in cache"), so a bot crashed at start before its first line. The plugin now
 * registers a resolve hook only (src/instrument/clob-client.ts); this file keeps it that way.
 *
 * Each Node binary comes from the npm registry (the `node` package at that exact version installs
 * the real binary), cached under os.tmpdir() by version; a failed install fails the tests here
 * with npm's output. With that binary, for each real-client bot of test/e2e/clob (5.x from ESM,
 * 5.x through require(esm), v2's ESM build, v2's CommonJS build), preloaded with dist/register.js
 * against the fake CLOB: the bot runs to its end, the plugin says the client is instrumented,
 * /metrics has one trade sample per trading request the fake CLOB answered (with its outcome) and
 * api="clob" counts matching what it answered, the bot exits 0 on SIGTERM, and the same bot on
 * the same Node without the preload prints the same `result {…}` lines. Then the demo bot, which
 * imports no client, runs its 3 seconds with the preload and ends with 0.
 *
 * `npm run test:faults` builds dist/ first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeClob, type Mode, type SeenRequest } from '../../examples/fake-clob/server.mjs';
import { DEMO_BOT, REGISTER, ROOT, freePort, get, parseExposition, type Sample } from '../e2e/harness.js';
import { pluginLines } from './support-bot.js';

/** The oldest Node `engines` allows, and the first 24.x: both broke under a load hook. */
const VERSIONS = ['22.15.0', '24.0.0'] as const;

/** Binaries stay here between runs, one directory per version. */
const CACHE = path.join(os.tmpdir(), 'polymarket-bot-monitoring-node');
/** The registry may be slow; a binary is ~30 MB compressed. */
const INSTALL_TIMEOUT_MS = 300_000;

const CLOB_BOTS = [
  { name: 'ESM bot, @polymarket/clob-client 5.x (import)', script: 'test/e2e/clob/bot.mjs', pkg: '@polymarket/clob-client', major: 5, operations: 7 },
  { name: 'CommonJS bot, @polymarket/clob-client 5.x (require of the ESM client)', script: 'test/e2e/clob/bot.cjs', pkg: '@polymarket/clob-client', major: 5, operations: 5 },
  { name: 'ESM bot, @polymarket/clob-client-v2 1.x (its ESM build)', script: 'test/e2e/clob/bot-v2.mjs', pkg: '@polymarket/clob-client-v2', major: 1, operations: 7 },
  { name: 'CommonJS bot, @polymarket/clob-client-v2 1.x (its CommonJS build)', script: 'test/e2e/clob/bot-v2.cjs', pkg: '@polymarket/clob-client-v2', major: 1, operations: 5 },
] as const;

/** Every kind of answer that decides an outcome: filled, resting, refused, a 5xx, no answer. */
const SCRIPT: Mode[] = ['fill', 'rest', 'refuse', 'http500', 'drop'];
const PLACED: Partial<Record<Mode, string>> = { fill: 'filled', rest: 'resting', refuse: 'rejected', http500: 'failed', drop: 'error' };
const CANCELED: Partial<Record<Mode, string>> = { fill: 'success', rest: 'success', refuse: 'rejected', http500: 'failed', drop: 'error' };

const TRADE_COUNT = 'monitoring_trade_execution_duration_seconds_count';
const API_REQUESTS = 'monitoring_api_requests_total';
const WALLET_SCANS = 'monitoring_wallet_scan_duration_seconds_count';

// --- a Node binary from the npm registry ------------------------------------------------------

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs a command to its end (or kills it at `timeoutMs`); its output, stdout and stderr merged. */
function runToEnd(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Exited & { output: string; error?: Error }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${options.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: null, signal: null, output, error });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, output });
    });
  });
}

/** The binary under `dir` that says it is Node `version`, if any. */
async function binaryIn(dir: string, version: string): Promise<string | undefined> {
  const candidates = [
    path.join(dir, 'node_modules/node/bin/node'),
    path.join(dir, `node_modules/node/node_modules/node-${process.platform}-${process.arch}/bin/node`),
  ];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    const { code, output } = await runToEnd(candidate, ['--version'], { cwd: dir, env: {}, timeoutMs: 20_000 });
    if (code === 0 && output.trim() === `v${version}`) return candidate;
  }
  return undefined;
}

/** npm's own environment when run from an npm script, that would point this install elsewhere. */
const NPM_CONTEXT = /^(npm_package_|npm_lifecycle_|npm_command$|npm_config_(local_prefix|prefix|global_prefix|global|call|ignore_scripts|dry_run|workspaces?|include_workspace_root)$)/i;

/**
 * Node `version`'s binary: from the cache, else `npm install node@<version>` into a fresh
 * directory that becomes the cache entry once the binary in it answers with that version.
 */
async function nodeBinary(version: string): Promise<string> {
  const dir = path.join(CACHE, `v${version}`);
  const cached = await binaryIn(dir, version);
  if (cached) return cached;

  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(path.join(CACHE, `v${version}.installing-`));
  try {
    // The `node` package fetches the binary in its preinstall script: allowed here as the project's
    // own package.json allows it (npm 11 asks for approval of install scripts).
    writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify({ private: true, allowScripts: { node: true } }, null, 2)}\n`);
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!NPM_CONTEXT.test(key) && key !== 'NODE_OPTIONS') env[key] = value;
    const args = ['install', '--prefix', staging, '--no-audit', '--no-fund', '--no-save', '--global=false', '--ignore-scripts=false', `node@${version}`];
    const started = Date.now();
    const npm = await runToEnd('npm', args, { cwd: staging, env, timeoutMs: INSTALL_TIMEOUT_MS });
    const failed = (why: string): Error =>
      new Error(
        `could not install Node ${version} from the npm registry (${why}): \`npm ${args.join(' ')}\` after ${Math.round((Date.now() - started) / 1000)} s\n${npm.output.trim().slice(-4_000)}`,
      );
    if (npm.error) throw failed(`npm did not start: ${npm.error.message}`);
    if (npm.code !== 0) throw failed(npm.signal ? `npm killed by ${npm.signal}` : `npm exited ${npm.code}`);
    if (!(await binaryIn(staging, version))) throw failed(`npm succeeded, but no binary in ${staging} says v${version}`);
    try {
      renameSync(staging, dir);
    } catch {
      // Another run cached it first, or a broken entry is in the way: take this one's place.
      if (!(await binaryIn(dir, version))) {
        rmSync(dir, { recursive: true, force: true });
        renameSync(staging, dir);
      }
    }
    const binary = await binaryIn(dir, version);
    if (!binary) throw new Error(`Node ${version} was installed, but no binary in ${dir} says v${version}`);
    return binary;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// --- bots on that binary -------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const clobs: FakeClob[] = [];
type FakeClob = Awaited<ReturnType<typeof startFakeClob>>;

async function stopEverything(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await Promise.all(clobs.splice(0).map((clob) => clob.stop()));
}
afterEach(stopEverything);
afterAll(stopEverything);

interface Bot {
  readonly stdout: () => string;
  /** stdout and stderr as they came. */
  readonly output: () => string;
  readonly exited: Promise<Exited>;
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  kill(signal: NodeJS.Signals): void;
}

/** `script` on `node`, with the built preload or without, MONITORING_LOG_LEVEL=info, no OTEL_* or NODE_OPTIONS from the shell. */
function startBot(node: string, script: string, preload: boolean, extraEnv: Record<string, string>): Bot {
  const env: NodeJS.ProcessEnv = { MONITORING_LOG_LEVEL: 'info' };
  for (const [key, value] of Object.entries(process.env)) {
    // NODE_OPTIONS might hold a flag this older Node does not know; OTEL_* would change the plugin.
    if (!key.startsWith('OTEL_') && key !== 'NODE_OPTIONS' && !(key in env)) env[key] = value;
  }
  Object.assign(env, extraEnv);
  const args = [...(preload ? ['--import', REGISTER] : []), path.join(ROOT, script)];
  const child = spawn(node, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let output = '';
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
    wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    wake();
  });
  const exited = new Promise<Exited>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
      wake();
    }),
  );
  const shown = `${preload ? `--import dist/register.js ` : ''}${script}`;
  return {
    stdout: () => stdout,
    output: () => output,
    exited,
    kill: (signal) => void child.kill(signal),
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const line = output.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${shown} on ${node} ended (code ${child.exitCode}, signal ${child.signalCode}) before printing ${pattern}; its output:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${shown} on ${node} printed no ${pattern} within ${timeoutMs} ms; its output:\n${output}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The `result {json}` lines a bot printed: what each client call returned or threw. */
function results(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('result '))
    .map((line) => JSON.parse(line.slice('result '.length)) as unknown);
}

async function scrapeUntil(port: number, done: (samples: Sample[]) => boolean, timeoutMs = 10_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await get(`http://127.0.0.1:${port}/metrics`, 5_000);
    const samples = status === 200 ? parseExposition(body) : [];
    if (done(samples) || Date.now() > deadline) return samples;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// --- what the fake CLOB answered, and what /metrics says -------------------------------------

function sideOf(request: SeenRequest): string {
  const sides = new Set<string>();
  if (request.path === '/order') sides.add(String((request.body as { order?: { side?: string } })?.order?.side));
  else if (Array.isArray(request.body)) for (const o of request.body as { order?: { side?: string } }[]) sides.add(String(o?.order?.side));
  const [only] = sides;
  return sides.size === 1 && (only === 'BUY' || only === 'SELL') ? only.toLowerCase() : 'other';
}

/** `operation side outcome` → count, one per trading request the fake CLOB saw. */
function expectedTrades(clob: FakeClob): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of clob.stats.trades) {
    const key = r.method === 'POST' ? `place ${sideOf(r)} ${PLACED[r.mode!]}` : `cancel other ${CANCELED[r.mode!]}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function tradeCounts(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== TRADE_COUNT || s.value === 0) continue;
    const key = `${s.labels.operation} ${s.labels.side} ${s.labels.outcome}`;
    counts[key] = (counts[key] ?? 0) + s.value;
  }
  return counts;
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

function clobRequests(samples: Sample[]): { success: number; failure: number } {
  const count = (outcome: string): number =>
    samples.filter((s) => s.name === API_REQUESTS && s.labels.api === 'clob' && s.labels.outcome === outcome).reduce((a, s) => a + s.value, 0);
  return { success: count('success'), failure: count('failure') };
}

// --- the tests -------------------------------------------------------------------------------------

describe.each(VERSIONS)('Node %s with the preload', (version) => {
  let node = '';

  beforeAll(async () => {
    if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: build first (npm run build)`);
    node = await nodeBinary(version);
  }, INSTALL_TIMEOUT_MS + 60_000);

  it.each(CLOB_BOTS)('$name: runs to its end, instrumented, trade samples and api="clob" counts, same results as unmonitored', async (bot) => {
    const clob = await startFakeClob({ script: SCRIPT });
    clobs.push(clob);
    const metricsPort = await freePort();
    let dashboardPort = await freePort();
    while (dashboardPort === metricsPort) dashboardPort = await freePort();
    const monitored = startBot(node, bot.script, true, {
      CLOB_HOST: clob.url,
      BOT_HOLD: '1',
      METRICS_PORT: String(metricsPort),
      DASHBOARD_PORT: String(dashboardPort),
      // Other processes load this host: a trip would keep orders from the client.
      CIRCUIT_BREAKER_ENABLED: 'false',
    });

    // The bot's last call is done: it did not crash at start, nor anywhere on the way.
    await monitored.waitForLine(/^bot: done/, 30_000);
    const output = monitored.output();
    expect(output, output).not.toMatch(/monitoring disabled|not a supported CLOB client|could not be instrumented/);
    const instrumented = new RegExp(`^${bot.pkg.replace(/[/\\.]/g, '\\$&')} ${bot.major}\\.\\d+\\.\\d+\\S* instrumented`);
    expect(pluginLines(output).filter((l) => l.level === 'info' && instrumented.test(l.message)).map((l) => l.message), output).toHaveLength(1);

    expect(clob.stats.trades, output).toHaveLength(bot.operations);
    const expected = expectedTrades(clob);
    const answered = { success: clob.stats.succeeded, failure: clob.stats.failed };
    const samples = await scrapeUntil(metricsPort, (s) => {
      const api = clobRequests(s);
      return sum(tradeCounts(s)) >= bot.operations && api.success + api.failure >= clob.stats.requests.length;
    });
    expect(tradeCounts(samples), output).toEqual(expected);
    expect(clobRequests(samples), output).toEqual(answered);

    monitored.kill('SIGTERM');
    expect(await monitored.exited, monitored.output()).toEqual({ code: 0, signal: null });
    expect(monitored.stdout()).toMatch(/^bot: exiting$/m);
    const withMonitoring = results(monitored.stdout());
    expect(withMonitoring).toHaveLength(bot.operations);

    // The same bot on the same Node, no preload, against a fresh fake CLOB with the same script.
    const bare = await startFakeClob({ script: SCRIPT });
    clobs.push(bare);
    const unmonitored = startBot(node, bot.script, false, { CLOB_HOST: bare.url });
    expect(await unmonitored.exited, unmonitored.output()).toEqual({ code: 0, signal: null });
    expect(results(unmonitored.stdout())).toEqual(withMonitoring);
  });

  it('the demo bot (no client import): monitoring starts, scans are counted, it ends on its own with 0', async () => {
    const metricsPort = await freePort();
    let dashboardPort = await freePort();
    while (dashboardPort === metricsPort) dashboardPort = await freePort();
    const demo = startBot(node, path.relative(ROOT, DEMO_BOT), true, {
      DEMO_RUN_SECONDS: '3',
      METRICS_PORT: String(metricsPort),
      DASHBOARD_PORT: String(dashboardPort),
    });
    await demo.waitForLine(/monitoring started: metrics http/, 15_000);
    const samples = await scrapeUntil(metricsPort, (s) => s.some((x) => x.name === WALLET_SCANS && x.value > 0), 5_000);
    expect(samples.filter((s) => s.name === WALLET_SCANS).reduce((a, s) => a + s.value, 0), demo.output()).toBeGreaterThan(0);
    expect(await demo.exited, demo.output()).toEqual({ code: 0, signal: null });
    expect(demo.stdout()).toMatch(/^demo bot: stopped$/m);
    expect(demo.output()).not.toMatch(/monitoring disabled/);
  });
});
