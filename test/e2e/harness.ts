/**
 * Real processes on loopback for end-to-end tests: the demo bot (or a scripted bot) started
 * with the built preload, free ports on loopback, output captured, always killed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REGISTER = path.join(ROOT, 'dist/register.js');
export const DEMO_BOT = path.join(ROOT, 'examples/copy-bot/bot.js');

/*
 * A port handed to a child process to bind later. Picked by bind(0), it could be handed out again
 * before the child binds it — to this worker's next call (two equal ports: the bot moves /health
 * off METRICS_PORT) or to another worker's server bound to port 0 — and a test then talks to the
 * wrong server (a CI run got 404 from /health that way). So each vitest worker takes its ports in
 * turn from a slice of its own below the kernel's ephemeral range (32768–60999 by default), where
 * neither bind(0) nor an outgoing connection lands; a port something else holds is skipped.
 */
const PORTS_FIRST = 20_000;
const PORTS_PER_WORKER = 400;
const WORKER_SLICES = 30; // 20 000 + 30 × 400 stays below 32 768
const workerSlice = Number(process.env.VITEST_POOL_ID ?? process.pid) % WORKER_SLICES;
// A random start: each test file imports this afresh, and the last file's bots may still be exiting.
let nextInSlice = Math.floor(Math.random() * PORTS_PER_WORKER);

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORTS_PER_WORKER; tries++) {
    const port = PORTS_FIRST + workerSlice * PORTS_PER_WORKER + (nextInSlice++ % PORTS_PER_WORKER);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in 127.0.0.1:${PORTS_FIRST + workerSlice * PORTS_PER_WORKER}+${PORTS_PER_WORKER}`);
}

export interface Bot {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the first output line matching `pattern`, rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Script to run; defaults to the demo bot. */
  script?: string;
  /** Inline ES module source instead of a script file. */
  eval?: string;
  env?: Record<string, string | undefined>;
  preload?: boolean;
  /** Node flags after the preload's `--import` (e.g. `['--import', 'tsx']`), before the script. */
  nodeArgs?: string[];
}

const running = new Set<ChildProcess>();

export function spawnBot(options: SpawnOptions = {}): Bot {
  const args = [...(options.preload === false ? [] : ['--import', REGISTER]), ...(options.nodeArgs ?? [])];
  if (options.eval !== undefined) args.push('--input-type=module', '--eval', options.eval);
  else args.push(options.script ?? DEMO_BOT);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, MONITORING_LOG_LEVEL: 'info', ...options.env })) {
    if (value !== undefined) env[key] = value;
  }
  // Tests never reach a real collector; a stray OTEL_* from the developer's shell must not change them.
  for (const key of Object.keys(env)) if (key.startsWith('OTEL_') && !(options.env && key in options.env)) delete env[key];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      for (const waiter of waiters) waiter();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    waitForLine(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const line = output.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process exited before printing ${pattern}; output:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
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

export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** GET with a deadline; retries connection refusals until the server is up. */
export async function get(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string; headers: Headers }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, deadline - Date.now())) });
      return { status: res.status, body: await res.text(), headers: res.headers };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Parses a Prometheus text exposition into samples: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}
