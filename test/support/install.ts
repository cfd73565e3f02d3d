/**
 * Installing the package the way a user does, for test/package*.test.ts: `npm pack` of a fresh
 * copy of the working tree, or a git URL; a scratch bot folder that knows nothing of monitoring;
 * the bot started with `node --import polymarket-bot-monitoring/register`. Every temp dir and
 * child process made here is tracked, and `cleanup()` removes and kills them all.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, freePort, get } from '../e2e/harness.js';

export { ROOT };

const tempDirs = new Set<string>();
/** Process groups of the npm and git commands (each started detached: npm spawns git, npm, tsc). */
const groups = new Set<ChildProcess>();
const bots = new Set<ChildProcess>();

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pbm-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills whatever is still running, then removes every temp dir. */
export function cleanup(): void {
  for (const child of bots) child.kill('SIGKILL');
  bots.clear();
  for (const child of groups) killGroup(child);
  groups.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.clear();
}

/**
 * The environment for npm: the caller's (proxy, cache, registry settings stay), without what
 * `npm test` exports about this project, and with the Node that runs the tests first on PATH.
 */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = [path.dirname(process.execPath), env.PATH ?? ''].join(path.delimiter);
  return env;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Wall time, seconds. */
  seconds: number;
}

/** Runs a command to completion; rejects with its output on a non-zero exit or after `timeoutMs`. */
export function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    groups.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => killGroup(child), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      groups.delete(child);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // npm may leave a grandchild behind on failure: take the whole group down either way.
      killGroup(child);
      groups.delete(child);
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ stdout, stderr, seconds });
      else {
        const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}` : `exit ${code}`;
        reject(new Error(`${command} ${args.join(' ')} (in ${cwd}): ${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      }
    });
  });
}

/** The flags every install uses: the npm cache is already populated, the registry is the fallback. */
export const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];

/**
 * A copy of the working tree as a fresh clone would have it, plus this checkout's uncommitted and
 * untracked (not ignored) files: no dist/, and node_modules linked from the checkout. Packing the
 * copy runs the package's own lifecycle (prepare builds dist/) without touching the checkout's
 * dist/, which the other end-to-end tests are running from at the same time.
 */
export function copyWorkingTree(dest: string): void {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const rel of listed.toString().split('\0')) {
    // A node_modules or dist/ symlink is not matched by the directory patterns of .gitignore.
    if (rel === '' || /^(node_modules|dist)(\/|$)/.test(rel)) continue;
    const from = path.join(ROOT, rel);
    const stat = fs.statSync(from, { throwIfNoEntry: false });
    if (!stat || stat.isDirectory()) continue; // deleted but not yet committed; a submodule; a linked folder
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.cpSync(from, path.join(dest, rel), { verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dest, 'node_modules'), 'dir');
}

export interface PackedFile {
  path: string;
  size: number;
}
export interface PackResult {
  tarball: string;
  /** Compressed size, bytes. */
  size: number;
  unpackedSize: number;
  files: PackedFile[];
  seconds: number;
}

/** `npm pack --json` of `dir` into `destination`. */
export async function pack(dir: string, destination: string, timeoutMs: number): Promise<PackResult> {
  const result = await run('npm', ['pack', '--json', '--pack-destination', destination], dir, timeoutMs);
  let parsed: Array<{ filename: string; size: number; unpackedSize: number; files: PackedFile[] }>;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new Error(`npm pack --json printed no JSON:\n${result.stdout}\n${result.stderr}`);
  }
  const [entry] = parsed;
  if (!entry) throw new Error(`npm pack --json listed no package:\n${result.stdout}`);
  return {
    tarball: path.join(destination, entry.filename),
    size: entry.size,
    unpackedSize: entry.unpackedSize,
    files: entry.files,
    seconds: result.seconds,
  };
}

/** Every file path an `exports` map points at, without the leading "./". */
export function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports.replace(/^\.\//, '')];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap((value) => exportTargets(value));
}

/**
 * A bot that has never heard of monitoring: an interval, a log line per tick; it stops after
 * BOT_RUN_SECONDS (default 20, so that nothing outlives a killed test run for long) or on
 * SIGTERM, by clearing its interval and letting Node end.
 */
export const BOT_SOURCE = `let ticks = 0;
const timer = setInterval(() => console.log('bot tick ' + ++ticks), 500);
const stop = (why) => {
  clearInterval(timer);
  clearTimeout(deadline);
  console.log('bot stopping: ' + why);
};
const deadline = setTimeout(() => stop('time is up'), 1000 * Number(process.env.BOT_RUN_SECONDS || 20));
process.once('SIGTERM', () => stop('SIGTERM'));
console.log('bot started, pid ' + process.pid);
`;

/** A scratch bot folder: its own package.json and bot.mjs, nothing installed yet. */
export function scratchBot(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'scratch-bot', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, 'bot.mjs'), BOT_SOURCE);
  return dir;
}

export interface BotCheck {
  /** From spawn to the "monitoring started" line, seconds. */
  startSeconds: number;
  metrics: string;
  health: { status: number; body: string };
  exit: { code: number | null; signal: NodeJS.Signals | null };
  output: string;
}

/**
 * Starts `node --import polymarket-bot-monitoring/register bot.mjs` in `dir` with the Node that
 * runs the tests, on free loopback ports; waits for "monitoring started"; scrapes /metrics and
 * /health; then SIGTERMs the bot and waits for it to end.
 */
export async function startInstalledBot(dir: string): Promise<BotCheck> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  // Only what Node needs from the caller: no OTEL_*, TELEGRAM_* or monitoring settings leak in.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    METRICS_PORT: String(metricsPort),
    DASHBOARD_PORT: String(healthPort),
    MONITORING_HOST: '127.0.0.1',
    MONITORING_LOG_LEVEL: 'info',
  };
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'polymarket-bot-monitoring/register', 'bot.mjs'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bots.add(child);
  let output = '';
  const changed = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wake of changed) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      bots.delete(child);
      for (const wake of changed) wake();
      resolve({ code, signal });
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`)), timeoutMs);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        changed.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        if (pattern.test(output)) finish();
        else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`bot exited before ${pattern}; output:\n${output}`));
      };
      changed.add(check);
      check();
    });
  try {
    await waitFor(/monitoring started/, 30_000);
    const startSeconds = (performance.now() - started) / 1000;
    const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
    if (metrics.status !== 200) throw new Error(`/metrics answered ${metrics.status}:\n${metrics.body}`);
    const health = await get(`http://127.0.0.1:${healthPort}/health`);
    // The bot runs on alongside: its interval ticks.
    await waitFor(/bot tick 1/, 10_000);
    child.kill('SIGTERM');
    const exit = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`bot still running 15 s after SIGTERM; output:\n${output}`)), 15_000),
      ),
    ]);
    return { startSeconds, metrics: metrics.body, health: { status: health.status, body: health.body }, exit, output };
  } finally {
    if (bots.has(child)) child.kill('SIGKILL');
  }
}
