/**
 * The in-process rules and the component checks, one component at a time: what each reads, where
 * its thresholds sit (one step either side of every boundary), and the findings that become
 * alerts. Each case runs the catalog's rules over a collection of what the bot reported (the
 * plugin's real gauge readers), then the component's check over the findings naming it.
 */
import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/rules/alert-history.js';
import { RULES, STALE_CRITICAL_FACTOR, textFor, type RuleSettings } from '../../src/rules/catalog.js';
import * as checks from '../../src/rules/checks.js';
import type { ComponentCheck } from '../../src/rules/checks.js';
import { CollectedMetrics } from '../../src/rules/collected.js';
import { mostSeverePerFamily } from '../../src/rules/evaluator.js';
import type { BreakerView, Component, ComponentStatus, Severity } from '../../src/core/model.js';
import { BotState } from '../../src/state/bot-state.js';
import { HealthBoard, type CheckResult } from '../../src/state/health-board.js';
import type { SystemSampler } from '../../src/state/system-sampler.js';
import { PACKAGE_NAME } from '../../src/plugin/telemetry.js';
import { collectionOf } from '../support/collection.js';

type Limits = RuleSettings;
interface CheckInputs {
  readonly breaker: BreakerView;
  readonly alerts: checks.AlertDeliveryView;
  readonly bot: BotState;
  readonly rssMb: number;
  readonly limits: Limits;
  readonly now: number;
  readonly startedAt: number;
}
interface CheckOutcome extends CheckResult {
  readonly findings: readonly Condition[];
}
type HealthCheck = (inputs: CheckInputs) => CheckOutcome;

/** Every in-process rule's findings over a collection of what the bot reported. */
function conditionsOf(inputs: CheckInputs): Condition[] {
  const collected = new CollectedMetrics(PACKAGE_NAME, 6 * 60_000);
  const sampler = { last: { cpuPercent: 0, rssBytes: inputs.rssMb * 1024 * 1024 } } as unknown as SystemSampler;
  collected.update(collectionOf({ sampler, board: new HealthBoard(), breaker: () => inputs.breaker, bot: inputs.bot }), inputs.now);
  const input = { metrics: collected, process: { bot: inputs.bot, rssMb: inputs.rssMb, startedAt: inputs.startedAt }, settings: inputs.limits, now: inputs.now };
  const conditions = RULES.flatMap((rule) =>
    'inProcess' in rule
      ? rule.inProcess.evaluate(input).map((f) => ({ rule: rule.name, family: rule.family, severity: rule.severity, title: textFor(rule.summary, inputs.limits), ...f }))
      : [],
  );
  return mostSeverePerFamily(conditions);
}

/** A component's check as the evaluator runs it: the rules, then the check over their findings. */
const asCheck =
  (component: Component, check: ComponentCheck): HealthCheck =>
  (inputs) => {
    const findings = conditionsOf(inputs).filter((c) => c.component === component);
    // The family is the alert history's business (alert-history.test.ts); these cases compare the rest.
    return { ...check(findings, inputs), findings: findings.map(({ family: _family, ...rest }) => rest as Condition) };
  };
const checkMainBot = asCheck('main_bot', checks.checkMainBot);
const checkWalletMonitor = asCheck('wallet_monitor', checks.checkWalletMonitor);
const checkTradeExecutor = asCheck('trade_executor', checks.checkTradeExecutor);
/** The API rules' findings (components api:<name>). */
function apiConditions(bot: BotState, apiSuccessThreshold: number, apiFailureCountThreshold: number): Condition[] {
  return conditionsOf({
    breaker: { tripped: false, reason: null },
    alerts: { telegramConfigured: false, lastDelivery: null },
    bot,
    rssMb: 100,
    limits: { ...LIMITS, apiSuccessThreshold, apiFailureCountThreshold },
    now: T0,
    startedAt: T0,
  })
    .filter((c) => c.component.startsWith('api:'))
    .map(({ family: _family, ...rest }) => rest as Condition);
}

const T0 = 1_750_000_000_000;
const SECOND = 1_000;
const STALE_AFTER = 120 * SECOND;

const LIMITS: Limits = {
  memoryThresholdMb: { wallet_monitor: 500, trade_executor: 200, total_system: 2000 },
  dailyLossWarning: 0.12,
  dailyLossCritical: 0.15,
  apiSuccessThreshold: 0.8,
  apiFailureCountThreshold: 5,
  staleAfterSeconds: STALE_AFTER / SECOND,
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
        rule: 'PolymarketBotConfigFlagOff',
        component: 'main_bot',
        severity: 'warning',
        title: "The bot's configuration is incomplete.",
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
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotMainLoopStale', component: 'main_bot', severity: 'warning' }]);
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
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotMainLoopStalled', component: 'main_bot', severity: 'critical' }]);
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
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotMemoryHigh', component: 'main_bot', severity: 'warning' }]);
    expect(outcome.message).toBe('The bot process uses 1600 MB of its 2000 MB threshold');
  });

  it('raises a critical MemoryHigh at 100 % of the total_system threshold, even when the bot never reported', () => {
    const { inputs } = setup();
    const outcome = checkMainBot(inputs({ rssMb: 2000 }));
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotMemoryCritical', component: 'main_bot', severity: 'critical' }]);
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
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotMemoryHigh', component: 'wallet_monitor', severity: 'warning' }]);
    expect(outcome.message).toBe('The wallet monitor uses 400 MB of its 500 MB threshold');
  });

  it('raises a critical MemoryHigh at 100 % of its threshold', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { memoryMb: 500, lastScanAt: T0 } });
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotMemoryCritical', component: 'wallet_monitor', severity: 'critical' }]);
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
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotWalletScansStale', component: 'wallet_monitor', severity: 'warning' }]);
    expect(outcome.message).toMatch(/^no successful wallet scan since monitoring started 2 min ago/);
  });

  it('is degraded when the last successful scan is older than staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 25, lastScanAt: T0 } });
    clock.t = T0 + STALE_AFTER + 1;
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('degraded');
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotWalletScansStale', component: 'wallet_monitor', severity: 'warning' }]);
    expect(outcome.message).toMatch(/^last successful wallet scan 2 min ago/);
  });

  it('is critical when the last successful scan is older than four times staleAfter', () => {
    const { clock, bot, inputs } = setup();
    bot.scanSucceeded(T0, 'observed');
    clock.t = T0 + 4 * STALE_AFTER + 1;
    const outcome = checkWalletMonitor(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotWalletScansStalled', component: 'wallet_monitor', severity: 'critical' }]);
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
        rule: 'PolymarketBotTradeCircuitBreakerOpen',
        component: 'trade_executor',
        severity: 'warning',
        title: "The bot's own trading circuit breaker is open; it copies no trades.",
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
        rule: 'PolymarketBotDailyLossWarning',
        component: 'trade_executor',
        severity: 'warning',
        title: "The bot's daily loss has reached the warning level.",
        description: 'daily loss 12.0 % of the starting balance (-1200.00 USD of 10000.00 USD); warning at 12.0 %, critical at 15.0 %',
      },
    ]);
  });

  it('stays a warning at 14.9 %', () => {
    const { bot, inputs } = setup();
    bot.reportPnl(loss(14.9));
    expect(only(checkTradeExecutor(inputs()))).toEqual([{ rule: 'PolymarketBotDailyLossWarning', component: 'trade_executor', severity: 'warning' }]);
  });

  it('raises a critical DailyLoss at exactly 15 %', () => {
    const { bot, inputs } = setup();
    bot.reportPnl(loss(15));
    const outcome = checkTradeExecutor(inputs());
    expect(outcome.status).toBe('critical');
    expect(only(outcome)).toEqual([{ rule: 'PolymarketBotDailyLossCritical', component: 'trade_executor', severity: 'critical' }]);
    expect(outcome.findings[0]?.title).toBe("The bot's daily loss has reached the critical level.");
  });

  it('raises a MemoryHigh warning at 80 % and a critical one at 100 % of its threshold', () => {
    const { bot, inputs } = setup();
    bot.reportComponent({ component: 'trade_executor', state: { memoryMb: 159.9 } });
    expect(checkTradeExecutor(inputs()).findings).toEqual([]);
    bot.reportComponent({ component: 'trade_executor', state: { memoryMb: 160 } });
    expect(only(checkTradeExecutor(inputs()))).toEqual([{ rule: 'PolymarketBotMemoryHigh', component: 'trade_executor', severity: 'warning' }]);
    bot.reportComponent({ component: 'trade_executor', state: { memoryMb: 200 } });
    expect(only(checkTradeExecutor(inputs()))).toEqual([{ rule: 'PolymarketBotMemoryCritical', component: 'trade_executor', severity: 'critical' }]);
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
        rule: 'PolymarketBotApiSuccessRatioLow',
        component: 'api:clob',
        severity: 'warning',
        title: 'An API the bot depends on is failing often.',
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
        rule: 'PolymarketBotApiConsecutiveFailures',
        component: 'api:data_api',
        severity: 'critical',
        title: 'Calls to an API the bot depends on keep failing.',
        description: '5 data_api calls failed in a row (threshold 5)',
      },
    ]);
  });

  it('judges each API on its own', () => {
    const { bot } = setup();
    calls(bot, 'clob', 10, 0);
    calls(bot, 'gamma', 1, 9);
    // One family (api) per API: the critical stands for both, as Alertmanager's inhibit rule does.
    expect(apiConditions(bot, THRESHOLD, FAILURES).map((c) => [c.rule, c.component])).toEqual([['PolymarketBotApiConsecutiveFailures', 'api:gamma']]);
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
