/**
 * The health checks, one component at a time: what each one reads, where its thresholds sit
 * (one step either side of every boundary), and the findings that become alerts.
 */
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/rules/alert-history.js';
import {
  apiConditions,
  checkMainBot,
  checkTradeExecutor,
  checkWalletMonitor,
  STALE_CRITICAL_FACTOR,
  type CheckInputs,
  type CheckOutcome,
  type HealthCheck,
  type Limits,
} from '../../src/rules/checks.js';
import type { ComponentStatus, Severity } from '../../src/core/model.js';
import { BotState } from '../../src/state/bot-state.js';

const T0 = 1_750_000_000_000;
const SECOND = 1_000;
const STALE_AFTER = 120 * SECOND;

const LIMITS: Limits = {
  memoryThresholdMb: { wallet_monitor: 500, trade_executor: 200, total_system: 2000 },
  dailyLossWarning: 0.12,
  dailyLossCritical: 0.15,
  staleAfterMs: STALE_AFTER,
};

function setup() {
  const clock = { t: T0 };
  const bot = new BotState(() => clock.t);
  /** The inputs of a check run now; rssMb defaults to a small, healthy process. */
  const inputs = (overrides: Partial<CheckInputs> = {}): CheckInputs => ({
    breaker: { tripped: false, reason: null },
    alerts: { telegramConfigured: false, lastDelivery: null },
    bot,
    rssMb: 100,
    limits: LIMITS,
    now: clock.t,
    startedAt: T0,
    ...overrides,
  });
  return { clock, bot, inputs };
}

const only = (outcome: CheckOutcome) => outcome.findings.map((f) => ({ rule: f.rule, component: f.component, severity: f.severity }));

/** A daily PnL that is `percent` % of a 10 000 USD starting balance lost. */
const loss = (percent: number) => ({ pnlUsd: -percent * 100, startingBalanceUsd: 10_000 });

describe('checkMainBot', () => {
  it('is unknown until the bot reports on it', () => {
    const { inputs } = setup();
    expect(checkMainBot(inputs())).toEqual({ status: 'unknown', message: 'not reported yet', findings: [] });
  });

  it('is healthy when every flag is true and the main loop ticked just now', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { flags: { signing_key_present: true, config_valid: true }, heartbeat: true } });
    expect(checkMainBot(inputs())).toEqual({ status: 'healthy', message: 'configuration ok, main loop running', findings: [] });
  });

  it('is degraded with a BotConfigFlagOff warning naming a flag the bot reports false', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { flags: { signing_key_present: false, config_valid: true } } });
    const outcome = checkMainBot(inputs());
    expect(outcome.status).toBe('degraded');
    expect(outcome.findings).toEqual([
      {
        rule: 'BotConfigFlagOff',
        component: 'main_bot',
        severity: 'warning',
        title: 'Bot configuration incomplete',
        description: 'the bot reports signing_key_present = false',
      },
    ]);
  });

  it('keeps a heartbeat exactly staleAfter old healthy', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { heartbeat: true } });
    clock.t = T0 + STALE_AFTER;
    expect(checkMainBot(inputs()).status).toBe('healthy');
  });

  it('is degraded with a MainLoopStalled warning once the heartbeat is older than staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { heartbeat: true } });
    clock.t = T0 + STALE_AFTER + 1;
    const outcome = checkMainBot(inputs());
    expect(outcome.status).toBe('degraded');
    expect(only(outcome)).toEqual([{ rule: 'MainLoopStalled', component: 'main_bot', severity: 'warning' }]);
    expect(outcome.message).toBe('last main-loop heartbeat 2 min ago (degraded after 2 min, critical after 8 min)');
  });

  it('is still only degraded at exactly four times staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { heartbeat: true } });
    clock.t = T0 + STALE_CRITICAL_FACTOR * STALE_AFTER;
    expect(checkMainBot(inputs()).status).toBe('degraded');
  });

  it('is critical once the heartbeat is older than four times staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { heartbeat: true } });
    clock.t = T0 + 4 * STALE_AFTER + 1;
    const outcome = checkMainBot(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'MainLoopStalled', component: 'main_bot', severity: 'critical' }]);
  });

  it('does not judge staleness when the bot never sent a heartbeat', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'main_bot', state: { flags: { config_valid: true } } });
    clock.t = T0 + 10 * STALE_AFTER;
    expect(checkMainBot(inputs()).status).toBe('healthy');
  });

  it('has no memory finding just below 80 % of the total_system threshold', () => {
    const { inputs } = setup();
    expect(checkMainBot(inputs({ rssMb: 1599.9 })).findings).toEqual([]);
  });

  it('raises a MemoryHigh warning at 80 % of the total_system threshold, even when the bot never reported', () => {
    const { inputs } = setup();
    const outcome = checkMainBot(inputs({ rssMb: 1600 }));
    expect(outcome.status).toBe('degraded');
    expect(only(outcome)).toEqual([{ rule: 'MemoryHigh', component: 'main_bot', severity: 'warning' }]);
    expect(outcome.message).toBe('The bot process uses 1600 MB of its 2000 MB threshold');
  });

  it('raises a critical MemoryHigh at 100 % of the total_system threshold, even when the bot never reported', () => {
    const { inputs } = setup();
    const outcome = checkMainBot(inputs({ rssMb: 2000 }));
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'MemoryHigh', component: 'main_bot', severity: 'critical' }]);
  });
});

describe('checkWalletMonitor', () => {
  it('is unknown until the bot reports on it or a scan succeeds', () => {
    const { clock, inputs } = setup();
    clock.t = T0 + 10 * STALE_AFTER; // no report at all is not the same as stale
    expect(checkWalletMonitor(inputs())).toEqual({ status: 'unknown', message: 'not reported yet', findings: [] });
  });

  it('shows how many wallets are watched and how old the last scan is', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 25, memoryMb: 40, lastScanAt: T0 } });
    clock.t = T0 + 3 * SECOND;
    expect(checkWalletMonitor(inputs())).toEqual({ status: 'healthy', message: '25 wallets watched, last scan 3 s ago', findings: [] });
  });

  it('has no memory finding just below 80 % of its threshold', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { memoryMb: 399.9, lastScanAt: T0 } });
    expect(checkWalletMonitor(inputs()).findings).toEqual([]);
  });

  it('raises a MemoryHigh warning at 80 % of its threshold', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { memoryMb: 400, lastScanAt: T0 } });
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('degraded');
    expect(only(outcome)).toEqual([{ rule: 'MemoryHigh', component: 'wallet_monitor', severity: 'warning' }]);
    expect(outcome.message).toBe('The wallet monitor uses 400 MB of its 500 MB threshold');
  });

  it('raises a critical MemoryHigh at 100 % of its threshold', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { memoryMb: 500, lastScanAt: T0 } });
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'MemoryHigh', component: 'wallet_monitor', severity: 'critical' }]);
  });

  it('gives a bot that never scanned staleAfter from the start of monitoring', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 25 } });
    clock.t = T0 + STALE_AFTER;
    expect(checkWalletMonitor(inputs()).status).toBe('healthy');
  });

  it('is stale when no scan has succeeded since monitoring started longer than staleAfter ago', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 25 } });
    clock.t = T0 + STALE_AFTER + 1;
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('degraded');
    expect(only(outcome)).toEqual([{ rule: 'WalletScansStale', component: 'wallet_monitor', severity: 'warning' }]);
    expect(outcome.message).toMatch(/^no successful wallet scan since monitoring started 2 min ago/);
  });

  it('is degraded when the last successful scan is older than staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 25, lastScanAt: T0 } });
    clock.t = T0 + STALE_AFTER + 1;
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('degraded');
    expect(only(outcome)).toEqual([{ rule: 'WalletScansStale', component: 'wallet_monitor', severity: 'warning' }]);
    expect(outcome.message).toMatch(/^last successful wallet scan 2 min ago/);
  });

  it('is critical when the last successful scan is older than four times staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.scanSucceeded(T0, 'observed');
    clock.t = T0 + 4 * STALE_AFTER + 1;
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'WalletScansStale', component: 'wallet_monitor', severity: 'critical' }]);
  });
});

describe('checkTradeExecutor', () => {
  it('is unknown until the bot reports on it or its PnL', () => {
    const { inputs } = setup();
    expect(checkTradeExecutor(inputs())).toEqual({ status: 'unknown', message: 'not reported yet', findings: [] });
  });

  it('is healthy with its breaker closed and a small loss, saying how much', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: false } });
    bot.reportPnl(loss(5));
    expect(checkTradeExecutor(inputs())).toEqual({ status: 'healthy', message: 'circuit breaker closed, daily loss 5.0 %', findings: [] });
  });

  it("is degraded with the reason when the bot's own breaker is open", () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'five losses in a row' } });
    const outcome = checkTradeExecutor(inputs());
    expect(outcome.status).toBe('degraded');
    expect(outcome.findings).toEqual([
      {
        rule: 'TradeCircuitBreakerOpen',
        component: 'trade_executor',
        severity: 'warning',
        title: "Bot's trading circuit breaker open",
        description: "trading halted by the bot's own circuit breaker: five losses in a row",
      },
    ]);
    expect(outcome.message).toBe("trading halted by the bot's own circuit breaker: five losses in a row");
  });

  it('has no loss finding at 11.9 %', () => {
    const { bot, inputs } = setup();
    bot.reportPnl(loss(11.9));
    expect(checkTradeExecutor(inputs())).toMatchObject({ status: 'healthy', findings: [] });
  });

  it('raises a DailyLoss warning at exactly 12 %', () => {
    const { bot, inputs } = setup();
    bot.reportPnl(loss(12));
    const outcome = checkTradeExecutor(inputs());
    expect(outcome.status).toBe('degraded');
    expect(outcome.findings).toEqual([
      {
        rule: 'DailyLoss',
        component: 'trade_executor',
        severity: 'warning',
        title: 'Daily loss nearing its limit',
        description: 'daily loss 12.0 % of the starting balance (-1200.00 USD of 10000.00 USD); warning at 12.0 %, critical at 15.0 %',
      },
    ]);
  });

  it('stays a warning at 14.9 %', () => {
    const { bot, inputs } = setup();
    bot.reportPnl(loss(14.9));
    expect(only(checkTradeExecutor(inputs()))).toEqual([{ rule: 'DailyLoss', component: 'trade_executor', severity: 'warning' }]);
  });

  it('raises a critical DailyLoss at exactly 15 %', () => {
    const { bot, inputs } = setup();
    bot.reportPnl(loss(15));
    const outcome = checkTradeExecutor(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'DailyLoss', component: 'trade_executor', severity: 'critical' }]);
    expect(outcome.findings[0]?.title).toBe('Daily loss limit reached');
  });

  it('raises a MemoryHigh warning at 80 % and a critical one at 100 % of its threshold', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'trade_executor', state: { memoryMb: 159.9 } });
    expect(checkTradeExecutor(inputs()).findings).toEqual([]);
    bot.reportComponent({ component: 'trade_executor', state: { memoryMb: 160 } });
    expect(only(checkTradeExecutor(inputs()))).toEqual([{ rule: 'MemoryHigh', component: 'trade_executor', severity: 'warning' }]);
    bot.reportComponent({ component: 'trade_executor', state: { memoryMb: 200 } });
    expect(only(checkTradeExecutor(inputs()))).toEqual([{ rule: 'MemoryHigh', component: 'trade_executor', severity: 'critical' }]);
  });
});

describe('apiConditions', () => {
  const THRESHOLD = 0.8;
  const FAILURES = 5;

  function calls(bot: BotState, api: string, ok: number, failed: number): void {
    for (let i = 0; i < ok; i++) bot.apis.record(api, true);
    for (let i = 0; i < failed; i++) bot.apis.record(api, false);
  }

  it('has nothing to say about an API without calls', () => {
    const { bot } = setup();
    expect(apiConditions(bot, THRESHOLD, FAILURES)).toEqual([]);
  });

  it('raises nothing when the success ratio is exactly at the threshold', () => {
    const { bot } = setup();
    calls(bot, 'clob', 4, 1);
    expect(apiConditions(bot, THRESHOLD, FAILURES)).toEqual([]);
  });

  it('raises an ApiSuccessRatioLow warning for api:<name> when the ratio is below the threshold', () => {
    const { bot } = setup();
    calls(bot, 'clob', 3, 1);
    expect(apiConditions(bot, THRESHOLD, FAILURES)).toEqual([
      {
        rule: 'ApiSuccessRatioLow',
        component: 'api:clob',
        severity: 'warning',
        title: 'clob API degraded',
        description: 'clob success ratio 75.0 % over the last 5 minutes, below 80.0 %',
      },
    ]);
  });

  it('raises nothing for one failure fewer than the consecutive-failure threshold', () => {
    const { bot } = setup();
    calls(bot, 'data_api', 100, FAILURES - 1);
    expect(apiConditions(bot, THRESHOLD, FAILURES)).toEqual([]);
  });

  it('raises a critical ApiConsecutiveFailures once failures in a row reach the threshold', () => {
    const { bot } = setup();
    calls(bot, 'data_api', 100, FAILURES); // ratio still well above the threshold
    expect(apiConditions(bot, THRESHOLD, FAILURES)).toEqual([
      {
        rule: 'ApiConsecutiveFailures',
        component: 'api:data_api',
        severity: 'critical',
        title: 'data_api API failing',
        description: '5 data_api calls failed in a row (threshold 5)',
      },
    ]);
  });

  it('judges each API on its own', () => {
    const { bot } = setup();
    calls(bot, 'clob', 10, 0);
    calls(bot, 'gamma', 1, 9);
    expect(apiConditions(bot, THRESHOLD, FAILURES).map((c) => [c.rule, c.component])).toEqual([
      ['ApiSuccessRatioLow', 'api:gamma'],
      ['ApiConsecutiveFailures', 'api:gamma'],
    ]);
  });
});

describe('status and findings agree', () => {
  const STATUS: Record<Severity, ComponentStatus> = { info: 'healthy', warning: 'degraded', critical: 'critical' };
  const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

  type Scenario = [name: string, check: HealthCheck, arrange: (ctx: ReturnType<typeof setup>) => Partial<CheckInputs> | void];
  const scenarios: Scenario[] = [
    ['main_bot: flag off and heartbeat long stale', checkMainBot, ({ clock, bot }) => {
      bot.reportComponent({ component: 'main_bot', state: { flags: { signing_key_present: false }, heartbeat: true } });
      clock.t = T0 + 5 * STALE_AFTER;
    }],
    ['main_bot: flag off and process memory critical', checkMainBot, ({ bot }) => {
      bot.reportComponent({ component: 'main_bot', state: { flags: { config_valid: false } } });
      return { rssMb: 2500 };
    }],
    ['main_bot: two flags off and memory high', checkMainBot, ({ bot }) => {
      bot.reportComponent({ component: 'main_bot', state: { flags: { a: false, b: false } } });
      return { rssMb: 1700 };
    }],
    ['wallet_monitor: memory high and scans long stale', checkWalletMonitor, ({ clock, bot }) => {
      bot.reportComponent({ component: 'wallet_monitor', state: { memoryMb: 450, lastScanAt: T0 } });
      clock.t = T0 + 5 * STALE_AFTER;
    }],
    ['wallet_monitor: memory critical and scans a little stale', checkWalletMonitor, ({ clock, bot }) => {
      bot.reportComponent({ component: 'wallet_monitor', state: { memoryMb: 600, lastScanAt: T0 } });
      clock.t = T0 + 2 * STALE_AFTER;
    }],
    ['trade_executor: breaker open and loss critical', checkTradeExecutor, ({ bot }) => {
      bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'daily loss limit reached' } });
      bot.reportPnl(loss(16));
    }],
    ['trade_executor: breaker open, loss warning, memory critical', checkTradeExecutor, ({ bot }) => {
      bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, memoryMb: 250 } });
      bot.reportPnl(loss(13));
    }],
    ['trade_executor: breaker open and loss warning', checkTradeExecutor, ({ bot }) => {
      bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true } });
      bot.reportPnl(loss(12.5));
    }],
  ];

  it.each(scenarios)('%s: status is that of the worst finding, message is its description', (_name, check, arrange) => {
    const ctx = setup();
    const overrides = arrange(ctx) ?? {};
    const outcome = check(ctx.inputs(overrides));
    expect(outcome.findings.length).toBeGreaterThan(1);
    const worst = outcome.findings.reduce((a: Condition, b) => (RANK[b.severity] > RANK[a.severity] ? b : a));
    expect(outcome.status).toBe(STATUS[worst.severity]);
    expect(outcome.message).toBe(worst.description);
  });
});
