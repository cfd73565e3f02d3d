/**
 * Shared by the bot-misbehaving and lifecycle fault cases: scripted bots run with and without the
 * preload (test/e2e/harness.ts), their stdout and stderr kept apart and time-stamped, the
 * plugin's own log lines told from the bot's, and checks on a scraped exposition.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { freePort, get, parseExposition, spawnBot, type Bot, type Sample, type SpawnOptions } from '../e2e/harness.js';

export { killAll, type Sample } from '../e2e/harness.js';

/** What a scripted bot imports; resolves through the package's own exports from the repo root. */
export const PROBE = 'polymarket-bot-monitoring/probe';

export async function twoPorts(): Promise<{ METRICS_PORT: string; DASHBOARD_PORT: string }> {
  const metrics = await freePort();
  let dashboard = await freePort();
  while (dashboard === metrics) dashboard = await freePort();
  return { METRICS_PORT: String(metrics), DASHBOARD_PORT: String(dashboard) };
}

export async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function scrape(port: number | string, timeoutMs = 5_000): Promise<Sample[]> {
  const { status, body } = await get(`http://127.0.0.1:${port}/metrics`, timeoutMs);
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  return parseExposition(body);
}

export function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Sum of a series over every label set that matches `labels`. */
export function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The two gauges whose value may be below zero: a day's loss, and -1 for a critical component. */
export const MAY_BE_NEGATIVE: ReadonlySet<string> = new Set(['monitoring_daily_pnl_usd', 'monitoring_component_status']);

/** Every sample that is not a finite number, or is negative where that makes no sense. */
export function senselessSamples(samples: readonly Sample[]): string[] {
  const bad: string[] = [];
  for (const s of samples) {
    const shown = `${s.name}${JSON.stringify(s.labels)} = ${s.value}`;
    if (!Number.isFinite(s.value)) bad.push(`not finite: ${shown}`);
    else if (s.value < 0 && !MAY_BE_NEGATIVE.has(s.name)) bad.push(`negative: ${shown}`);
  }
  return bad;
}

const SCOPE_LABELS = new Set(['otel_scope_name', 'otel_scope_version', 'le']);

/**
 * Distinct series per metric: a histogram's _bucket/_sum/_count and its `le` fold into one
 * series per label set, and the exporter's scope labels do not count.
 */
export function seriesPerMetric(samples: readonly Sample[]): Map<string, Set<string>> {
  const histograms = new Set(samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.name.slice(0, -'_bucket'.length)));
  const series = new Map<string, Set<string>>();
  for (const s of samples) {
    const family = s.name.replace(/_(bucket|sum|count)$/, '');
    const name = histograms.has(family) ? family : s.name;
    const key = Object.entries(s.labels)
      .filter(([k]) => !SCOPE_LABELS.has(k))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let set = series.get(name);
    if (!set) series.set(name, (set = new Set()));
    set.add(key);
  }
  return series;
}

/** The distinct values of one label of one metric (histograms by their _count). */
export function labelValues(samples: readonly Sample[], name: string, label: string): Set<string> {
  return new Set(
    samples.filter((s) => s.name === name && s.labels[label] !== undefined).map((s) => s.labels[label]!),
  );
}

export interface PluginLine {
  readonly level: string;
  readonly message: string;
  readonly alert?: boolean;
  readonly [field: string]: unknown;
}

/** The plugin logs JSON lines with a level, a message and a time; nothing a bot prints here does. */
export function pluginLines(text: string): PluginLine[] {
  const lines: PluginLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.level === 'string' && typeof parsed.message === 'string' && typeof parsed.time === 'string') {
        lines.push(parsed as unknown as PluginLine);
      }
    } catch {
      // Not one of ours.
    }
  }
  return lines;
}

/** Everything but the plugin's lines: what the bot (or Node on its behalf) printed. */
export function withoutPluginLines(text: string): string {
  const ours = new Set(pluginLines(text).map((l) => JSON.stringify(l)));
  return text
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('{')) return true;
      try {
        return !ours.has(JSON.stringify(JSON.parse(line)));
      } catch {
        return true;
      }
    })
    .join('\n');
}

/**
 * Plugin lines at warn or error that are not alerts: the plugin's own problems, of which each
 * fault may produce exactly one. (An alert about the bot — a failed trade — is not a problem.)
 */
export const problems = (text: string): PluginLine[] =>
  pluginLines(text).filter((l) => (l.level === 'warn' || l.level === 'error') && l.alert !== true);

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() in this process when the child's exit was seen. */
  readonly at: number;
}

export interface Run {
  readonly bot: Bot;
  readonly spawnedAt: number;
  stdout(): string;
  stderr(): string;
  /** When the first stdout line matching `pattern` arrived (undefined if none yet). */
  lineAt(pattern: RegExp): number | undefined;
  readonly exit: Promise<Exit>;
  /** Lines of the form `<TAG> <json>` the scripted bots print, parsed. */
  reports<T = Record<string, unknown>>(tag: string): T[];
}

/** spawnBot, with stdout and stderr kept apart and each line time-stamped on arrival. */
export function run(options: SpawnOptions): Run {
  const bot = spawnBot(options);
  const spawnedAt = Date.now();
  const streams = { stdout: '', stderr: '' };
  const arrivals: { at: number; line: string }[] = [];
  const partial = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    bot.child[name]!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      streams[name] += text;
      if (name === 'stderr') return; // the plugin's log can be long; the bot's lines are on stdout
      const pieces = (partial[name] + text).split('\n');
      partial[name] = pieces.pop()!;
      const at = Date.now();
      for (const line of pieces) arrivals.push({ at, line });
    });
  }
  const exit = new Promise<Exit>((resolve) => {
    bot.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return {
    bot,
    spawnedAt,
    stdout: () => streams.stdout,
    stderr: () => streams.stderr,
    lineAt: (pattern) => arrivals.find((a) => pattern.test(a.line))?.at,
    exit,
    reports: <T>(tag: string) =>
      streams.stdout
        .split('\n')
        .filter((l) => l.startsWith(`${tag} `))
        .map((l) => JSON.parse(l.slice(tag.length + 1)) as T),
  };
}

/** Waits for the bot's own readiness line and, with the preload, for the plugin to be listening. */
export async function ready(r: Run, preload: boolean, timeoutMs = 15_000): Promise<void> {
  await r.bot.waitForLine(/^bot ready/, timeoutMs);
  if (preload) await r.bot.waitForLine(/monitoring started/, timeoutMs);
}

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * TCP ports process `pid` listens on, from /proc (Linux): the socket inodes among its open file
 * descriptors, matched against the kernel's LISTEN table.
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, the inode is column 10.
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue;
      ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** The plugin's JSON log lines flagged as alerts (one per notification the log sink received). */
export const alertLines = (text: string): PluginLine[] => pluginLines(text).filter((l) => l.alert === true);
