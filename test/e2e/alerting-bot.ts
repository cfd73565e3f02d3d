/**
 * What the alert end-to-end files share: a fake Telegram Bot API on loopback per test, and the demo
 * bot started with the built preload, Telegram pointed at the fake, evaluating every 5 s. The
 * monitoring circuit breaker is off in these runs: other test processes load this host, and a trip
 * would shed the very work under test (the breaker has tests of its own).
 */
import { afterEach, beforeEach } from 'vitest';
import { FakeTelegram, type SentMessage } from './fake-telegram.js';
import { freePort, get, killAll, parseExposition, type Bot, type Sample, spawnBot } from './harness.js';

// The shape of a real token (bot id, colon, 35 characters), so that redaction is tested on it.
export const TOKEN_SECRET = 'AAGx7Qp2Lm9Rt4Vw8Yz1Bc3Df5Gh6Jk0NqX';
export const TOKEN = `123456:${TOKEN_SECRET}`;
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const RESET = '/admin/circuit-breaker/reset';

/** A fake Telegram started before and stopped after each test of the calling file (and its bots killed). */
export function useFakeTelegram(): { readonly current: FakeTelegram } {
  const holder = {} as { current: FakeTelegram };
  beforeEach(async () => {
    holder.current = await new FakeTelegram().start();
  });
  afterEach(async () => {
    killAll();
    await holder.current.stop();
  });
  return holder;
}

export async function ports(): Promise<{ METRICS_PORT: string; DASHBOARD_PORT: string }> {
  return { METRICS_PORT: String(await freePort()), DASHBOARD_PORT: String(await freePort()) };
}

/** The demo bot with Telegram pointed at the fake, evaluating every 5 s. */
export async function alertingBot(telegram: FakeTelegram, env: Record<string, string>) {
  const bound = await ports();
  const bot = spawnBot({
    env: {
      ...bound,
      MONITOR_INTERVAL_SECONDS: '5',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_CHAT_ID: '42',
      TELEGRAM_API_URL: telegram.url,
      ALERT_ON_TRADE: 'off',
      // No random API failures: their alerts would be messages these tests do not count on.
      DEMO_FAILURE_RATE: '0',
      CIRCUIT_BREAKER_ENABLED: 'false',
      ...env,
    },
  });
  const scrape = async (): Promise<Sample[]> =>
    parseExposition((await get(`http://127.0.0.1:${bound.METRICS_PORT}/metrics`, 3_000)).body);
  return { bot, scrape, ports: bound };
}

export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Polls /metrics until `done` holds for a scrape; returns that scrape. */
export async function scrapeUntil(scrape: () => Promise<Sample[]>, done: (samples: Sample[]) => boolean, what: string, timeoutMs = 25_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (done(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const cyclesRun = (samples: Sample[]): number =>
  samples.filter((s) => s.name === 'monitoring_health_checks_total').reduce((sum, s) => sum + s.value, 0);

export const isDailyLoss = (m: SentMessage): boolean => m.text.includes('DailyLoss');
export const scanLines = (bot: Bot): number => bot.output().match(/scanned \d+ wallets/g)?.length ?? 0;

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
