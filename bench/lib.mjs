// Shared by the benchmark sections: child processes on loopback (always killed, always bounded
// in time), /proc readings, scrapes, and small statistics.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH = path.join(ROOT, 'bench');
export const REGISTER = path.join(ROOT, 'dist/register.js');
export const DEMO_BOT = path.join(ROOT, 'examples/copy-bot/bot.js');
export const IDLE_BOT = path.join(BENCH, 'idle-bot.mjs');
export const NODESDK_PRELOAD = path.join(BENCH, 'baselines/nodesdk-prometheus.mjs');
export const PROM_CLIENT_PRELOAD = path.join(BENCH, 'baselines/prom-client.mjs');
export const LIBRARIES_PRELOAD = path.join(BENCH, 'baselines/libraries-only.mjs');
export const AUTO_PRELOAD = '@opentelemetry/auto-instrumentations-node/register';
/** Node 24 (the project's `node` devDependency): run.mjs is started with it, so children are too. */
export const NODE = process.execPath;

const CLK_TCK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every Linux ABI.

export const sum = (values) => values.reduce((a, b) => a + b, 0);

export function median(values) {
  const list = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (list.length === 0) return NaN;
  const mid = Math.floor(list.length / 2);
  return list.length % 2 ? list[mid] : (list[mid - 1] + list[mid]) / 2;
}

export function percentile(values, p) {
  const list = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (list.length === 0) return NaN;
  return list[Math.min(list.length - 1, Math.max(0, Math.ceil((p / 100) * list.length) - 1))];
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Two distinct free ports (the plugin's metrics and health servers must differ). */
export async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export function machine() {
  let model = os.cpus()[0]?.model?.trim() || 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) model = line.split(':')[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu: model,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

/** utime + stime of a live process, in seconds; NaN once it is gone. */
export function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime = fields 14, 15
  } catch {
    return NaN;
  }
}

/** Resident set size of a live process, in bytes; NaN once it is gone. */
export function procRssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The environment every child starts from: no stray OTEL_* or monitoring settings from the shell. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OTEL_') || key.startsWith('DEMO_') || key.startsWith('MONITOR') || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = String(value);
  return env;
}

const running = new Set();

/** Kills every child still running (the harness calls it on its way out, whatever happened). */
export function killAll() {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
  running.clear();
}

/** util-linux's taskset, when this machine has it (CPU pinning for the benchmarks that want it). */
export const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));

/**
 * Spawns `node [preload] script`, timing spawn → first stdout line. Killed with SIGKILL after
 * `deadlineMs` whatever it does, so no run can hang the harness.
 */
export function spawnNode({ script, preload, args = [], env = {}, deadlineMs = 120_000, ipc = false, nodeArgs = [], cpus }) {
  const argv = [...nodeArgs, ...(preload ? ['--import', preload] : []), script, ...args];
  const spawnedAt = performance.now();
  // `cpus` (a taskset list, e.g. '1'): pinned through taskset, which execs node in place (same
  // pid); without taskset, not pinned.
  const [command, commandArgs] = cpus === undefined || !TASKSET ? [NODE, argv] : [TASKSET, ['-c', cpus, NODE, ...argv]];
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let firstLineAt;
  let resolveFirst;
  const firstLine = new Promise((resolve) => (resolveFirst = resolve));
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (firstLineAt === undefined && stdout.includes('\n')) {
      firstLineAt = performance.now();
      resolveFirst(firstLineAt - spawnedAt);
    }
  });
  child.stderr.on('data', (chunk) => {
    if (stderr.length < 100_000) stderr += chunk;
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      running.delete(child);
      resolveFirst(NaN);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    pid: child.pid,
    /** ms from spawn to the first line on stdout (NaN if it exited first). */
    firstLine,
    exited,
    output: () => ({ stdout, stderr }),
    /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Waits for `firstLine`, failing with the child's output when it does not come. */
export async function started(proc, timeoutMs = 30_000) {
  let timer;
  const ms = await Promise.race([proc.firstLine, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, NaN)))]);
  clearTimeout(timer);
  if (!Number.isFinite(ms)) {
    await proc.stop(1_000);
    const { stdout, stderr } = proc.output();
    throw new Error(`child printed no line within ${timeoutMs} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`);
  }
  return ms;
}

/** GET /metrics: response time (request → whole body), body, series count. */
export async function scrape(url, timeoutMs = 10_000) {
  const startedAt = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  const ms = performance.now() - startedAt;
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return { ms, body, series: countSeries(body) };
}

/** Waits until a URL answers 200 (servers open asynchronously after the first line). */
export async function waitFor(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function countSeries(body) {
  let n = 0;
  for (const line of body.split('\n')) if (line && !line.startsWith('#')) n += 1;
  return n;
}

/** Sample values by name and labels, from a Prometheus text exposition. */
export function sampleValues(body, name, labels = {}) {
  const out = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = {};
    for (const m of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]] = m[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) out.push({ labels: found, value: Number(match[4]) });
  }
  return out;
}

export const sampleSum = (body, name, labels) => sum(sampleValues(body, name, labels).map((s) => s.value));

/**
 * Calls `fn` every `everyMs` until `stop()`; each call awaited, errors counted, never thrown. The
 * first call comes after `firstAfterMs` (default: one interval): scrapers of bots side by side are
 * given different offsets (as Prometheus gives each target its own), so their scrapes do not all
 * land — and queue for the two cores — at the same instant.
 */
export function every(everyMs, fn, firstAfterMs = everyMs) {
  const stopping = new AbortController();
  let errors = 0;
  const done = (async () => {
    let next = performance.now() + firstAfterMs;
    while (!stopping.signal.aborted) {
      await sleep(Math.max(0, next - performance.now()), undefined, { signal: stopping.signal }).catch(() => {});
      if (stopping.signal.aborted) break;
      next += everyMs;
      try {
        await fn();
      } catch {
        errors += 1;
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await done;
      return errors;
    },
  };
}

export const fmt = {
  ns: (v) => (Number.isFinite(v) ? `${v.toFixed(v < 100 ? 1 : 0)} ns` : 'n/a'),
  us: (v) => (Number.isFinite(v) ? `${v.toFixed(Math.abs(v) < 10 ? 1 : 0)} µs` : 'n/a'),
  ms: (v, digits = 1) => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a'),
  mb: (bytes) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : 'n/a'),
  s: (v, digits = 2) => (Number.isFinite(v) ? `${v.toFixed(digits)} s` : 'n/a'),
  pct: (v, digits = 2) => (Number.isFinite(v) ? `${v.toFixed(digits)} %` : 'n/a'),
  ratio: (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a'),
  num: (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a'),
};

/** A markdown table from a header row and data rows. */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * A loopback OTLP/HTTP receiver, as a collector with nothing to say: every POST is read in full
 * and answered 200 `{}`. JSON trace bodies (OTEL_EXPORTER_OTLP_PROTOCOL=http/json, gzip or not)
 * are parsed only to count their spans by name, so a run can check that its spans arrived.
 */
export async function startOtlpReceiver() {
  // Loaded here, not at the top: per-op's children import this file and measure in nanoseconds.
  const { createServer } = await import('node:http');
  const { gunzipSync } = await import('node:zlib');
  const spans = new Map();
  let posts = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      posts += 1;
      if (req.method === 'POST' && req.url?.startsWith('/v1/traces')) {
        try {
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          const json = JSON.parse(body.toString('utf8'));
          for (const rs of json.resourceSpans ?? []) {
            for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.set(span.name, (spans.get(span.name) ?? 0) + 1);
          }
        } catch {
          // Not JSON (a protobuf export): accepted, not counted.
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Spans received so far with this name (all names without one). */
    spans: (name) => (name === undefined ? sum([...spans.values()]) : (spans.get(name) ?? 0)),
    posts: () => posts,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
