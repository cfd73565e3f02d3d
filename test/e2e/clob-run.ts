/**
 * What the CLOB client end-to-end files share: the real bots (test/e2e/clob/), the fake CLOB and
 * the loopback OTLP receiver per test, and the readings of what the fake CLOB says happened.
 */
import type { Readable } from 'node:stream';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { startFakeClob, type Mode, type SeenRequest } from '../../examples/fake-clob/server.mjs';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { REGISTER, ROOT, freePort, get, killAll, parseExposition, spawnBot, type Bot, type Sample, type SpawnOptions } from './harness.js';

export const BOTS = {
  esm: path.join(ROOT, 'test/e2e/clob/bot.mjs'),
  cjs: path.join(ROOT, 'test/e2e/clob/bot.cjs'),
  ts: path.join(ROOT, 'test/e2e/clob/bot.ts'),
};
export const TOKEN_ID = '123456789';
export const TRADE_COUNT = 'monitoring_trade_execution_duration_seconds_count';
export const API_REQUESTS = 'monitoring_api_requests_total';
export const SUCCESS_LIKE = ['filled', 'resting', 'delayed', 'success'];

export type FakeClob = Awaited<ReturnType<typeof startFakeClob>>;
/** The fake CLOB and the OTLP receiver of the running test. */
export const fx = {} as { clob: FakeClob; receiver: OtlpReceiver };

/** Starts a fake CLOB (mixed mode) and an OTLP receiver before each test of the calling file; stops them and its bots after. */
export function useFakeClob(): typeof fx {
  beforeEach(async () => {
    fx.clob = await startFakeClob({ mode: 'mixed' });
    fx.receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    killAll();
    await fx.clob.stop();
    await fx.receiver.stop();
  });
  return fx;
}

// --- what the fake CLOB says happened -------------------------------------------------------

export interface Operation {
  operation: 'place' | 'cancel';
  side: 'buy' | 'sell' | 'other';
  outcome: string;
}

export const PLACED: Record<Mode, string> = {
  fill: 'filled', rest: 'resting', delayed: 'delayed', unmatched: 'unfilled',
  refuse: 'rejected', bad_request: 'rejected', http429: 'failed', http500: 'failed', drop: 'error',
};
export const CANCELED: Record<Mode, string> = {
  fill: 'success', rest: 'success', delayed: 'success', unmatched: 'success',
  refuse: 'rejected', bad_request: 'rejected', http429: 'failed', http500: 'failed', drop: 'error',
};

export function sideOf(request: SeenRequest): Operation['side'] {
  const sides = new Set<string>();
  if (request.path === '/order') sides.add(String((request.body as { order?: { side?: string } })?.order?.side));
  else if (Array.isArray(request.body)) for (const o of request.body as { order?: { side?: string } }[]) sides.add(String(o?.order?.side));
  const [only] = sides;
  return sides.size === 1 && (only === 'BUY' || only === 'SELL') ? (only.toLowerCase() as 'buy' | 'sell') : 'other';
}

/** One trade operation per trading request the fake CLOB saw, in arrival order. */
export function operationsSeen(): Operation[] {
  return fx.clob.stats.trades.map((r) =>
    r.method === 'POST'
      ? { operation: 'place', side: sideOf(r), outcome: PLACED[r.mode!] }
      : { operation: 'cancel', side: 'other', outcome: CANCELED[r.mode!] },
  );
}

export const key = (o: Operation): string => `${o.operation} ${o.side} ${o.outcome}`;
export function tally(operations: Operation[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of operations) counts[key(o)] = (counts[key(o)] ?? 0) + 1;
  return counts;
}

// --- what the monitoring shows ------------------------------------------------------------------

/** Trade histogram counts by `operation side outcome`, zero series left out. */
export function tradeCounts(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== TRADE_COUNT || s.value === 0) continue;
    const k = `${s.labels.operation} ${s.labels.side} ${s.labels.outcome}`;
    counts[k] = (counts[k] ?? 0) + s.value;
  }
  return counts;
}
export const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

export function apiCount(samples: Sample[], outcome: 'success' | 'failure'): number {
  return samples
    .filter((s) => s.name === API_REQUESTS && s.labels.api === 'clob' && s.labels.outcome === outcome)
    .reduce((sum, s) => sum + s.value, 0);
}

export function collect(stream: Readable | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/** The `result {json}` lines a bot printed: what each client call returned or threw. */
export function results(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('result '))
    .map((line) => JSON.parse(line.slice('result '.length)) as unknown);
}

export interface Run {
  readonly bot: Bot;
  readonly stdout: () => string;
  scrape(): Promise<Sample[]>;
  /** Scrapes until `done` holds (or `timeoutMs` passes); returns the last scrape either way. */
  scrapeUntil(done: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * A bot with the preload, OTLP/JSON to the receiver, staying up after its last call until
 * stopped (BOT_HOLD), so /metrics can be read while it runs.
 */
export async function monitored(script: string, env: Record<string, string> = {}, spawn: Pick<SpawnOptions, 'nodeArgs' | 'preload'> = {}): Promise<Run> {
  const metricsPort = String(await freePort());
  const bot = spawnBot({
    script,
    ...spawn,
    env: {
      CLOB_HOST: fx.clob.url,
      BOT_HOLD: '1',
      METRICS_PORT: metricsPort,
      DASHBOARD_PORT: String(await freePort()),
      MONITOR_INTERVAL_SECONDS: '5',
      // Other test processes load this host: a trip would shed the spans under test.
      CIRCUIT_BREAKER_ENABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: fx.receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    },
  });
  const stdout = collect(bot.child.stdout);
  await bot.waitForLine(/^bot: done/, 15_000);
  const scrape = async (): Promise<Sample[]> => parseExposition((await get(`http://127.0.0.1:${metricsPort}/metrics`, 3_000)).body);
  return {
    bot,
    stdout,
    scrape,
    async scrapeUntil(done, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const samples = await scrape();
        if (done(samples) || Date.now() > deadline) return samples;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      bot.kill('SIGTERM');
      return (await bot.exited).code;
    },
  };
}

/** The same bot with no preload, to the end; its printed results. */
export async function unmonitored(script: string, env: Record<string, string> = {}): Promise<unknown[]> {
  const bot = spawnBot({ script, preload: false, env: { CLOB_HOST: fx.clob.url, ...env } });
  const stdout = collect(bot.child.stdout);
  const { code } = await bot.exited;
  expect(code, bot.output()).toBe(0);
  return results(stdout());
}

/** Trade counts and api="clob" counts, once the histogram holds every operation the fake CLOB saw. */
export async function expectMonitoringToMatchFakeClob(run: Run): Promise<void> {
  const expected = tally(operationsSeen());
  const samples = await run.scrapeUntil((s) => total(tradeCounts(s)) >= total(expected) && apiCount(s, 'success') + apiCount(s, 'failure') >= fx.clob.stats.requests.length);
  expect(tradeCounts(samples), run.bot.output()).toEqual(expected);
  expect({ success: apiCount(samples, 'success'), failure: apiCount(samples, 'failure') }).toEqual({
    success: fx.clob.stats.succeeded,
    failure: fx.clob.stats.failed,
  });
  for (const count of samples.filter((s) => s.name === TRADE_COUNT && s.value > 0)) {
    const { otel_scope_name: _name, otel_scope_version: _version, ...labels } = count.labels;
    expect(count.labels.otel_scope_name).toBeTruthy();
    const inf = samples.find(
      (s) => s.name === 'monitoring_trade_execution_duration_seconds_bucket' && s.labels.le === '+Inf' && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    expect(inf?.value).toBe(count.value);
  }
}

export const tradeSpans = (spans: readonly ReceivedSpan[]): ReceivedSpan[] =>
  spans.filter((s) => s.name === 'trade.execute').sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));

// --- the tests ----------------------------------------------------------------------------------------
