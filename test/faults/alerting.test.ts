/**
 * Fault injection, alert delivery. The demo bot (built preload, evaluation every 5 s, breaker
 * off) sends a steady stream of notifications — a copied-trade notice about every 100 ms from its
 * feed and its scans, trade failures (DEMO_FAILURE_RATE), the daily-loss warning (13 %) — to a
 * Telegram Bot API on loopback that is down, rate-limits every request, fails with 500, never
 * answers, or answers too slowly to keep up; and, last, to one that fails and then recovers.
 *
 * Each time the bot must not notice: the event-loop delay p99 of every 5 s window stays under
 * 0.1 s (the PolymarketBotEventLoopLagHigh threshold), it keeps scanning, /metrics keeps answering,
 * and nothing unhandled or uncaught reaches its output. And the plugin must tell: the failure is
 * counted in monitoring_alerts_failed_total under its reason (and under no other), alert_system
 * turns degraded in /health, a full queue counts its drops.
 *
 * The cases run concurrently (vitest's maxConcurrency, 5 at a time), each with its own bot and its
 * own Telegram: one such bot costs about 6 % of one core, so five leave the loop-delay reading
 * meaningful on two cores, and the slowest case (a hanging Telegram: 4 attempts × 5 s timeout
 * before the first failure) sets the file's time rather than the sum of all. A control run with a
 * working Telegram gives the loop delay to compare with. Figures go to the test output.
 */
import { afterAll, describe, it, type ExpectStatic } from 'vitest';
import { killAll, type Sample } from '../e2e/harness.js';
import {
  CRASH_TEXT,
  LOOP_P99_LIMIT_S,
  ScriptedTelegram,
  TOKEN,
  Watcher,
  messageTime,
  ms,
  scanLines,
  startBot,
  total,
  uniquePort,
  until,
  value,
  type LoopWindow,
  type RunningBot,
} from './support-alerting-export.js';

const REASONS = ['timeout', 'network', 'rate_limited', 'http_4xx', 'http_5xx', 'rejected'] as const;
type Reason = (typeof REASONS)[number];

/** Enough notifications to fill the 100-deep queue within seconds when Telegram is slow. */
const NOISY_BOT = {
  TELEGRAM_BOT_TOKEN: TOKEN,
  TELEGRAM_CHAT_ID: '42',
  ALERT_ON_TRADE: 'on',
  DEMO_FEED_INTERVAL_MS: '100',
  DEMO_SCAN_INTERVAL_MS: '200',
  DEMO_LATENCY_SCALE: '0.05',
  DEMO_FAILURE_RATE: '0.1',
  // A warning: below the demo's own 15 % halt, so the bot keeps trading (and notifying).
  DEMO_DAILY_LOSS_PERCENT: '13',
};

/** The sink's retry pacing (src/alerts/telegram.ts TELEGRAM_DEFAULTS), minus timer slack. */
const MIN_BACKOFF_MS = 500 - 50;
const REQUEST_TIMEOUT_MS = 5_000 - 100;
const MAX_ATTEMPTS = 4;

const telegrams: ScriptedTelegram[] = [];
afterAll(async () => {
  killAll();
  await Promise.all(telegrams.map((t) => t.stop()));
});

async function telegram(behaviour: ScriptedTelegram['behaviour']): Promise<ScriptedTelegram> {
  const fake = await new ScriptedTelegram().start();
  fake.behaviour = behaviour;
  telegrams.push(fake);
  return fake;
}

const failedBy = (samples: readonly Sample[]): Record<Reason, number> =>
  Object.fromEntries(REASONS.map((reason) => [reason, value(samples, 'monitoring_alerts_failed_total', { reason }) ?? 0])) as Record<
    Reason,
    number
  >;

interface Outcome {
  /** Event-loop windows (one per evaluation cycle) closed while the fault lasted. */
  windows: LoopWindow[];
  failed: Record<Reason, number>;
  sent: number;
  dropped: number;
  /** "scanned 25 wallets" lines printed from the moment the fault showed to the end of the run. */
  scansDuringFault: number;
  faultSeconds: number;
  /** alert_system in /health at the end of the run, after a cycle under the fault. */
  alertSystem: { status: string; message: string };
  scrapeFailures: number;
  output: string;
}

interface CaseOptions {
  telegramUrl: string;
  /** The moment the fault has shown in the bot's metrics (a failure counted, a drop). */
  shown: (samples: readonly Sample[]) => boolean;
  what: string;
  shownWithinMs: number;
  /** The alert_system status to wait for once the fault has shown (it is read again at the end). */
  alertSystem?: 'degraded' | 'healthy';
}

type ComponentReading = { status: string; message: string };

/**
 * Runs the noisy bot against `telegramUrl` until the fault has shown, alert_system reads as
 * expected, and at least one full loop window and 5 s have passed under the fault.
 */
async function runCase(opts: CaseOptions, onFinished: (fn: () => void) => void): Promise<Outcome> {
  const running: RunningBot = await startBot({ ...NOISY_BOT, TELEGRAM_API_URL: opts.telegramUrl });
  onFinished(() => running.bot.kill('SIGKILL'));
  await running.bot.waitForLine(/monitoring started/, 20_000);
  const watcher = new Watcher(running);
  try {
    const shownAt = await until(() => (opts.shown(watcher.latest) ? Date.now() : undefined), opts.what, opts.shownWithinMs);
    const scansAtShown = scanLines(running.bot.output());
    const wanted = opts.alertSystem;
    if (wanted !== undefined) {
      await until(
        async () => ((await running.health()).components.alert_system!.status === wanted ? true : undefined),
        `alert_system ${wanted} in /health`,
        12_000,
        500,
      );
    }
    await until(
      () =>
        watcher.windows.length >= 2 && watcher.windowsSince(shownAt).length >= 1 && Date.now() - shownAt >= 5_000 ? true : undefined,
      'two loop windows, one closed after the fault showed, 5 s on',
      15_000,
    );
    // Read after a cycle that ran under the fault: what /health says while it lasts.
    const alertSystem: ComponentReading = (await running.health()).components.alert_system!;
    const last = await running.scrape();
    return {
      windows: watcher.windows,
      failed: failedBy(last),
      sent: total(last, 'monitoring_alerts_sent_total'),
      dropped: value(last, 'monitoring_alerts_dropped_total') ?? 0,
      scansDuringFault: scanLines(running.bot.output()) - scansAtShown,
      faultSeconds: (Date.now() - shownAt) / 1000,
      alertSystem,
      scrapeFailures: watcher.scrapeFailures,
      output: running.bot.output(),
    };
  } catch (error) {
    const tail = running.bot.output().split('\n').filter((l) => !/scanned|Alert event|trade failed|scan failed/.test(l)).slice(-30);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nlast scrape: failed ${JSON.stringify(failedBy(watcher.latest))}\nbot output (plugin lines):\n${tail.join('\n')}`);
  } finally {
    await watcher.stop();
    running.bot.kill('SIGKILL');
  }
}

/** What must hold whatever Telegram does: the bot does not notice. */
function expectBotUnharmed(expect: ExpectStatic, outcome: Outcome): void {
  expect(outcome.windows.length, 'loop windows read').toBeGreaterThanOrEqual(2);
  for (const w of outcome.windows) expect(w.p99, `loop delay p99 of the window closed at cycle ${w.cycle}`).toBeLessThan(LOOP_P99_LIMIT_S);
  // About 3 passes over the 25 wallets a second: 5 in 5 s is far below normal, far above stalled.
  expect(outcome.scansDuringFault, 'scan passes while the fault lasted').toBeGreaterThanOrEqual(5);
  expect(outcome.scrapeFailures, '/metrics scrapes that failed').toBe(0);
  expect(outcome.output).not.toMatch(CRASH_TEXT);
}

function report(name: string, outcome: Outcome, extra: Record<string, unknown> = {}): void {
  const p99s = outcome.windows.map((w) => w.p99);
  const failed = Object.entries(outcome.failed)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason}=${n}`)
    .join(' ');
  console.log(
    `[faults/alerting] ${name}: loop p99 per 5 s window [${p99s.map(ms).join(', ')}] (max ${ms(Math.max(...p99s))}, ` +
      `max delay ${ms(Math.max(...outcome.windows.map((w) => w.max)))}); failed {${failed}}; sent ${outcome.sent}; ` +
      `dropped ${outcome.dropped}; scan passes ${outcome.scansDuringFault} in ${outcome.faultSeconds.toFixed(1)} s under the fault; ` +
      `alert_system ${outcome.alertSystem.status} ("${outcome.alertSystem.message}")` +
      Object.entries(extra)
        .map(([k, v]) => `; ${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(''),
  );
}

/** Shortest gap between two attempts at the same text, and the most attempts any text got. */
function pacing(fake: ScriptedTelegram): { minGapMs: number; maxAttempts: number; texts: number } {
  let minGapMs = Number.POSITIVE_INFINITY;
  let maxAttempts = 0;
  const byText = fake.attemptsByText();
  for (const times of byText.values()) {
    maxAttempts = Math.max(maxAttempts, times.length);
    for (let i = 1; i < times.length; i++) minGapMs = Math.min(minGapMs, times[i]! - times[i - 1]!);
  }
  return { minGapMs, maxAttempts, texts: byText.size };
}

function onlyReason(expect: ExpectStatic, failed: Record<Reason, number>, reason: Reason): void {
  expect(failed[reason], `monitoring_alerts_failed_total{reason="${reason}"}`).toBeGreaterThanOrEqual(1);
  for (const other of REASONS) if (other !== reason) expect(failed[other], `failed_total{reason="${other}"}`).toBe(0);
}

// One run shared by the two tests about a slow Telegram (one of them an expected failure).
let slowRun: Promise<{ outcome: Outcome; fake: ScriptedTelegram; queueFullLines: number }> | undefined;
function slowTelegramRun(onFinished: (fn: () => void) => void) {
  slowRun ??= (async () => {
    // Accepts every message, 2.5 s later (under the 5 s request timeout): about 0.4 messages a
    // second against about 10 produced.
    const fake = await telegram({ kind: 'slow', delayMs: 2_500 });
    const outcome = await runCase(
      {
        telegramUrl: fake.url,
        shown: (s) => (value(s, 'monitoring_alerts_dropped_total') ?? 0) > 0 && total(s, 'monitoring_alerts_sent_total') > 0,
        what: 'a drop and a delivery',
        shownWithinMs: 30_000,
      },
      onFinished,
    );
    const queueFullLines = outcome.output.match(/Telegram alert queue full/g)?.length ?? 0;
    return { outcome, fake, queueFullLines };
  })();
  return slowRun;
}

describe.concurrent('Telegram failing under a stream of notifications', () => {
  it('hanging (accepts, never answers): the bot does not notice; timeouts counted, one request in flight, the queue drops, alert_system degraded', async ({
    expect,
    onTestFinished,
  }) => {
    const fake = await telegram({ kind: 'hang' });
    const outcome = await runCase(
      {
        telegramUrl: fake.url,
        // 4 attempts of 5 s each, with backoff between them, before the first verdict.
        shown: (s) => failedBy(s).timeout >= 1,
        what: 'failed_total{reason="timeout"}',
        shownWithinMs: 50_000,
        alertSystem: 'degraded',
      },
      onTestFinished,
    );
    const { minGapMs, maxAttempts } = pacing(fake);
    report('Telegram hanging', outcome, { requests: fake.requests.length, maxInFlight: fake.maxInFlight, minGapMs, maxAttempts });
    expectBotUnharmed(expect, outcome);
    onlyReason(expect, outcome.failed, 'timeout');
    expect(outcome.sent).toBe(0);
    expect(outcome.dropped, 'drops from the full queue').toBeGreaterThan(0);
    expect(fake.maxInFlight, 'requests held open at once').toBeLessThanOrEqual(1);
    expect(minGapMs, 'gap between attempts at one message').toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(maxAttempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
  });

  it('answering 502, then recovering: the first message after recovery arrives, alert_system turns healthy again, no text is delivered twice', async ({
    expect,
    onTestFinished,
  }) => {
    const fake = await telegram({ kind: 'status', status: 502, body: { ok: false, error_code: 502, description: 'Bad Gateway' } });
    const running = await startBot({ ...NOISY_BOT, TELEGRAM_API_URL: fake.url });
    onTestFinished(() => running.bot.kill('SIGKILL'));
    await running.bot.waitForLine(/monitoring started/, 20_000);
    const watcher = new Watcher(running);
    try {
      await until(() => (failedBy(watcher.latest).http_5xx >= 1 ? true : undefined), 'failed_total{reason="http_5xx"}', 25_000);
      await until(
        async () => ((await running.health()).components.alert_system!.status === 'degraded' ? true : undefined),
        'alert_system degraded',
        12_000,
        500,
      );
      const failedBeforeRecovery = fake.requests.length;

      fake.behaviour = { kind: 'ok' };
      const recoveredAt = Date.now();
      // Messages carry their notification time to the second: one stamped a full second after
      // the switch was decided after it.
      const after = Math.floor(recoveredAt / 1000) * 1000 + 1000;
      const isAfter = (text: string): boolean => (messageTime(text) ?? 0) >= after;
      await until(() => (fake.accepted.some((m) => isAfter(m.text)) ? true : undefined), 'the first message decided after recovery', 20_000);
      const firstAfter = fake.accepted.find((m) => isAfter(m.text))!;
      const alertSystem = await until(
        async () => {
          const component = (await running.health()).components.alert_system!;
          return component.status === 'healthy' ? component : undefined;
        },
        'alert_system healthy again',
        12_000,
        500,
      );
      await running.bot.waitForLine(/Telegram alert delivery recovered/, 5_000);
      await until(() => (watcher.windows.length >= 2 ? true : undefined), 'two loop windows', 12_000);

      // /metrics serves one collection's answer for up to 1 s (a scrape flood costs one collection
      // a second): wait that out so this scrape is collected after everything counted above.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const acceptedBefore = fake.accepted.length;
      const last = await running.scrape();
      const acceptedAfter = fake.accepted.length;
      const sent = total(last, 'monitoring_alerts_sent_total');
      const texts = fake.accepted.map((m) => m.text);
      const duplicates = texts.filter((text, i) => texts.indexOf(text) !== i);
      // A text Telegram accepted is never sent again, not even as a retry.
      const acceptedAt = new Map(fake.accepted.map((m) => [m.text, m.at]));
      const resentAfterAcceptance = fake.requests.filter((r) => {
        const at = acceptedAt.get(r.text);
        return at !== undefined && r.at > at;
      });
      console.log(
        `[faults/alerting] Telegram 502 then recovering: ${failedBeforeRecovery} requests refused before recovery; first message ` +
          `decided after recovery accepted ${((firstAfter.at - recoveredAt) / 1000).toFixed(1)} s after it; ${acceptedAfter} accepted, ` +
          `${duplicates.length} duplicates; sent_total ${sent}; failed ${JSON.stringify(failedBy(last))}; ` +
          `loop p99 per window [${watcher.windows.map((w) => ms(w.p99)).join(', ')}]`,
      );
      expect(duplicates, 'texts accepted twice').toEqual([]);
      expect(resentAfterAcceptance, 'requests for a text after Telegram accepted it').toEqual([]);
      // The counter counts what Telegram accepted: at most the one in flight is not counted yet.
      expect(sent).toBeGreaterThanOrEqual(acceptedBefore - 1);
      expect(sent).toBeLessThanOrEqual(acceptedAfter);
      expect(alertSystem.message).toBe('last Telegram delivery ok');
      expect(watcher.windows.length).toBeGreaterThanOrEqual(2);
      for (const w of watcher.windows) expect(w.p99, `loop delay p99 at cycle ${w.cycle}`).toBeLessThan(LOOP_P99_LIMIT_S);
      expect(running.bot.output()).not.toMatch(CRASH_TEXT);
    } finally {
      await watcher.stop();
      running.bot.kill('SIGKILL');
    }
  });

  it('down (a closed loopback port): the bot does not notice; failures counted as network, alert_system degraded', async ({
    expect,
    onTestFinished,
  }) => {
    const closed = await uniquePort(); // bound and released: nothing listens there
    const outcome = await runCase(
      {
        telegramUrl: `http://127.0.0.1:${closed}`,
        shown: (s) => failedBy(s).network >= 1,
        what: 'failed_total{reason="network"}',
        shownWithinMs: 25_000,
        alertSystem: 'degraded',
      },
      onTestFinished,
    );
    report('Telegram down', outcome);
    expectBotUnharmed(expect, outcome);
    onlyReason(expect, outcome.failed, 'network');
    expect(outcome.sent).toBe(0);
    expect(outcome.alertSystem.message).toBe('last Telegram delivery failed');
  });

  it('answering 429 with retry_after=1 to every request (a storm): the bot does not notice; retry_after honoured, failures counted as rate_limited, alert_system degraded', async ({
    expect,
    onTestFinished,
  }) => {
    const fake = await telegram({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '1' },
      body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } },
    });
    const outcome = await runCase(
      {
        telegramUrl: fake.url,
        shown: (s) => failedBy(s).rate_limited >= 1,
        what: 'failed_total{reason="rate_limited"}',
        shownWithinMs: 25_000,
        alertSystem: 'degraded',
      },
      onTestFinished,
    );
    const { minGapMs, maxAttempts, texts } = pacing(fake);
    const spanS = (fake.requests.at(-1)!.at - fake.requests[0]!.at) / 1000;
    report('Telegram 429 storm', outcome, { requests: fake.requests.length, texts, overSeconds: spanS.toFixed(1), minGapMs, maxAttempts });
    expectBotUnharmed(expect, outcome);
    onlyReason(expect, outcome.failed, 'rate_limited');
    expect(outcome.sent).toBe(0);
    // The storm is not fed: each retry waits the second Telegram asked for, and one message at a
    // time is attempted, so the request rate stays near one a second however many wait.
    expect(minGapMs, 'gap between attempts at one message').toBeGreaterThanOrEqual(950);
    expect(maxAttempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect(fake.requests.length / Math.max(1, spanS), 'requests per second').toBeLessThan(2);
    expect(fake.maxInFlight).toBeLessThanOrEqual(1);
  });

  it('answering 500: the bot does not notice; backoff between attempts, failures counted as http_5xx, alert_system degraded', async ({ expect, onTestFinished }) => {
    const fake = await telegram({ kind: 'status', status: 500, body: { ok: false, error_code: 500, description: 'Internal Server Error' } });
    const outcome = await runCase(
      {
        telegramUrl: fake.url,
        shown: (s) => failedBy(s).http_5xx >= 1,
        what: 'failed_total{reason="http_5xx"}',
        shownWithinMs: 25_000,
        alertSystem: 'degraded',
      },
      onTestFinished,
    );
    const { minGapMs, maxAttempts } = pacing(fake);
    report('Telegram 500', outcome, { requests: fake.requests.length, minGapMs, maxAttempts });
    expectBotUnharmed(expect, outcome);
    onlyReason(expect, outcome.failed, 'http_5xx');
    expect(outcome.sent).toBe(0);
    expect(minGapMs, 'gap between attempts at one message').toBeGreaterThanOrEqual(MIN_BACKOFF_MS);
    expect(maxAttempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect(fake.maxInFlight).toBeLessThanOrEqual(1);
  });

  it('working (control): every notice goes out, nothing fails or drops, alert_system healthy, and the loop delay to compare with', async ({
    expect,
    onTestFinished,
  }) => {
    const fake = await telegram({ kind: 'ok' });
    const outcome = await runCase(
      {
        telegramUrl: fake.url,
        shown: (s) => total(s, 'monitoring_alerts_sent_total') >= 20,
        what: '20 alerts sent',
        shownWithinMs: 20_000,
        alertSystem: 'healthy',
      },
      onTestFinished,
    );
    report('Telegram working (control)', outcome, { accepted: fake.accepted.length });
    expectBotUnharmed(expect, outcome);
    expect(Object.values(outcome.failed).reduce((a, b) => a + b, 0)).toBe(0);
    expect(outcome.dropped).toBe(0);
    expect(outcome.alertSystem.message).toBe('last Telegram delivery ok');
    const texts = fake.accepted.map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('so slow that the queue fills (every answer 2.5 s late): drops counted, one "queue full" line, deliveries go on, the bot does not notice', async ({
    expect,
    onTestFinished,
  }) => {
    const { outcome, fake, queueFullLines } = await slowTelegramRun(onTestFinished);
    report('Telegram slow (2.5 s per answer)', outcome, { accepted: fake.accepted.length, queueFullLines, maxInFlight: fake.maxInFlight });
    expectBotUnharmed(expect, outcome);
    expect(outcome.dropped, 'monitoring_alerts_dropped_total').toBeGreaterThan(0);
    expect(outcome.sent, 'monitoring_alerts_sent_total').toBeGreaterThan(0);
    expect(Object.values(outcome.failed).reduce((a, b) => a + b, 0), 'failed_total, all reasons').toBe(0);
    // A state change, not a line per drop.
    expect(queueFullLines).toBeGreaterThanOrEqual(1);
    expect(queueFullLines).toBeLessThanOrEqual(2);
    expect(fake.maxInFlight).toBeLessThanOrEqual(1);
  });

  // Lost alerts must show where people look, not only in monitoring_alerts_dropped_total:
  // alert_system is degraded for every cycle in which the queue dropped something.
  it('so slow that the queue fills: alert_system turns degraded while alerts are being dropped', async ({ expect, onTestFinished }) => {
    const { outcome } = await slowTelegramRun(onTestFinished);
    expect(outcome.dropped).toBeGreaterThan(0);
    expect(outcome.alertSystem.status).toBe('degraded');
    expect(outcome.alertSystem.message).toMatch(/alerts dropped/);
  });
});
