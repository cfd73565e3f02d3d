/**
 * Real processes on loopback for end-to-end tests: the demo bot (or a scripted bot) started
 * with the built preload, free ephemeral ports, output captured, always killed afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REGISTER = path.join(ROOT, 'dist/register.js');
export const DEMO_BOT = path.join(ROOT, 'examples/copy-bot/bot.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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
