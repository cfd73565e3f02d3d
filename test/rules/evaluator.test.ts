/**
 * One evaluation cycle end to end, in memory: a real SystemSampler over made-up host readings, the
 * real HealthBoard, MonitoringCircuitBreaker, AlertHistory and HEALTH_CHECKS, a BotState the test
 * reports into, and one fake clock for all of them. Each test reads as a sequence of cycles.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Decision } from '../../src/rules/alert-history.js';
import { AlertHistory } from '../../src/rules/alert-history.js';
import { MonitoringCircuitBreaker, type BreakerTransition } from '../../src/rules/breaker.js';
import { RULES, type RuleSettings } from '../../src/rules/catalog.js';
import { HEALTH_CHECKS, type ComponentCheck } from '../../src/rules/checks.js';
import { CollectedMetrics } from '../../src/rules/collected.js';
import { PACKAGE_NAME } from '../../src/plugin/telemetry.js';
import { collectionOf, type TradeCounts } from '../support/collection.js';
import { Evaluator, MIN_CPU_WINDOW_MS } from '../../src/rules/evaluator.js';
import { HealthBoard } from '../../src/state/health-board.js';
import { SystemSampler, type CpuTimes, type SystemReadings } from '../../src/state/system-sampler.js';
import type { Component, HealthStatus } from '../../src/core/model.js';
import { BotState } from '../../src/state/bot-state.js';

const T0 = 1_750_000_000_000;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const MIB = 1024 * 1024;
/** The evaluation interval (MONITOR_INTERVAL_SECONDS at its minimum). */
const CYCLE = 5 * SECOND;
const RECOVERY_INTERVAL = 60 * SECOND;
const MAX_ATTEMPTS = 3;
const COOLDOWN = 5 * MINUTE;
const DUPLICATE_WINDOW = 10 * MINUTE;

const SETTINGS: RuleSettings = {
  memoryThresholdMb: { wallet_monitor: 500, trade_executor: 200, total_system: 2000 },
  dailyLossWarning: 0.12,
  dailyLossCritical: 0.15,
  apiSuccessThreshold: 0.8,
  apiFailureCountThreshold: 5,
  staleAfterSeconds: 120,
};

const ALL_CHECKS = HEALTH_CHECKS.map(([component]) => `check:${component}`);

/**
 * A host whose clock only moves when told to. While it moves, its CPUs are busy at `cpuPercent`,
 * so the sampler's next reading over that window is exactly that load.
 */
class FakeHost implements SystemReadings {
  t = T0;
  cpuPercent = 10;
  private idle = 0;
  private total = 0;
  private readonly totalBytes = 16 * 1024 * MIB;
  private freeBytes = this.totalBytes / 2;

  set memoryPercent(percent: number) {
    this.freeBytes = this.totalBytes * (1 - percent / 100);
  }

  advance(ms: number): void {
    this.t += ms;
    this.total += ms;
    this.idle += ms * (1 - this.cpuPercent / 100);
  }

  cpuTimes(): CpuTimes {
    return { idle: this.idle, total: this.total };
  }
  totalMemory(): number {
    return this.totalBytes;
  }
  freeMemory(): number {
    return this.freeBytes;
  }
  rss(): number {
    return 120 * MIB;
  }
  now(): number {
    return this.t;
  }
}

interface Options {
  alertsEnabled?: boolean;
  checks?: ReadonlyArray<readonly [Component, ComponentCheck]>;
}

function setup({ alertsEnabled = true, checks = HEALTH_CHECKS }: Options = {}) {
  const host = new FakeHost();
  const now = (): number => host.t;
  const sampler = new SystemSampler(host);
  const board = new HealthBoard();
  const bot = new BotState(now);
  const breaker = new MonitoringCircuitBreaker({
    enabled: true,
    cpuThreshold: 90,
    memoryThreshold: 85,
    recoveryEnabled: true,
    recoveryIntervalMs: RECOVERY_INTERVAL,
    maxRecoveryAttempts: MAX_ATTEMPTS,
    // These cases trip on one reading; the hysteresis is the breaker's own (breaker.test.ts).
    tripAfterReadings: 1,
    now,
  });
  const history = new AlertHistory({ duplicateWindowMs: DUPLICATE_WINDOW, cooldownMs: COOLDOWN, now });

  /** What the current cycle did, in order. */
  const trace: string[] = [];
  const transitions: BreakerTransition[] = [];
  const decisions: Decision[] = [];
  const suppressed: number[] = [];
  const cycles: HealthStatus[] = [];
  const checkErrors: [string, unknown][] = [];

  const breakerEvaluate = breaker.evaluate.bind(breaker);
  vi.spyOn(breaker, 'evaluate').mockImplementation((reading) => {
    trace.push('breaker');
    return breakerEvaluate(reading);
  });
  const historyEvaluate = history.evaluate.bind(history);
  const rules = vi.spyOn(history, 'evaluate').mockImplementation((firing) => {
    trace.push('rules');
    return historyEvaluate(firing);
  });

  const evaluator = new Evaluator({
    sampler,
    board,
    breaker,
    history,
    rules: RULES,
    settings: SETTINGS,
    collected: new CollectedMetrics(PACKAGE_NAME, 6 * MINUTE),
    checks: checks.map(([component, check]) => [
      component,
      (findings, inputs) => {
        trace.push(`check:${component}`);
        return check(findings, inputs);
      },
    ]),
    facts: (sample) => ({ bot, rssMb: sample.rssBytes / MIB, startedAt: T0 }),
    inputs: (at) => ({ breaker: breaker.state, alerts: { telegramConfigured: false, lastDelivery: null }, bot, now: at }),
    alertsEnabled,
    onBreaker: (transition) => {
      trace.push(`onBreaker:${transition.type}`);
      transitions.push(transition);
    },
    onDecision: (decision) => decisions.push(decision),
    onSuppressed: (count) => suppressed.push(count),
    onCycle: (overall) => {
      trace.push('onCycle');
      cycles.push(overall);
    },
    onCheckError: (component, error) => checkErrors.push([component, error]),
    now,
    monotonic: () => host.t - T0,
  });

  /** Trade operations so far, by outcome: the trade histogram's count in each collection. */
  const trades: TradeCounts = {};
  /** Lets `ms` pass on the host, then runs one cycle over a collection of what the bot reported. */
  const cycleAfter = (ms = CYCLE): HealthStatus => {
    host.advance(ms);
    trace.length = 0;
    return evaluator.runCycle(collectionOf({ sampler, board, breaker: () => breaker.state, bot }, trades));
  };
  /** Runs `count` cycles, CYCLE apart. */
  const cyclesFor = (count: number): void => {
    for (let i = 0; i < count; i++) cycleAfter();
  };
  /** Daily loss as a percentage of a 10 000 USD starting balance. */
  const lossPercent = (percent: number): void => {
    bot.reportPnl({ pnlUsd: -percent * 100, startingBalanceUsd: 10_000 });
  };
  /** Trips the monitoring breaker in one cycle on high CPU, then leaves the host warm (above 0.8 × threshold). */
  const trip = (): number => {
    host.cpuPercent = 95;
    cycleAfter();
    expect(breaker.state.tripped).toBe(true);
    host.cpuPercent = 80;
    return host.t;
  };

  return { trades, host, board, bot, breaker, history, rules, evaluator, trace, transitions, decisions, suppressed, cycles, checkErrors, cycleAfter, cyclesFor, lossPercent, trip };
}

const firing = (decisions: Decision[]) => decisions.filter((d) => d.kind === 'firing');
const summary = (decisions: Decision[]) =>
  decisions.map((d) => [d.kind, d.kind === 'firing' ? d.cause : '-', d.condition.rule, d.condition.severity]);

describe('Evaluator: order within a cycle', () => {
  it('runs the breaker, then every health check, then the alert rules, then reports the cycle', () => {
    const { trace, cycleAfter } = setup();
    cycleAfter();
    expect(trace).toEqual(['breaker', ...ALL_CHECKS, 'rules', 'onCycle']);
  });

  it('runs every health check and the alert rules in the cycle the breaker trips', () => {
    const { host, trace, cycleAfter } = setup();
    host.cpuPercent = 95;
    cycleAfter();
    expect(trace).toEqual(['breaker', 'onBreaker:tripped', ...ALL_CHECKS, 'rules', 'onCycle']);
  });
});

// The money alerts are never shed (issue 15): a tripped breaker sheds spans and per-trade
// notices, never the checks and rules, which cost microseconds.
describe('Evaluator: while the monitoring breaker is tripped', () => {
  it('keeps every component current: a loss that clears while tripped shows healthy', () => {
    const { board, lossPercent, cycleAfter, trip } = setup();
    lossPercent(16);
    cycleAfter();
    expect(board.get('trade_executor').status).toBe('critical');
    trip();
    lossPercent(0);
    cycleAfter();
    expect(board.get('trade_executor').status).toBe('healthy');
  });

  it('shows the circuit_breaker component degraded, with the reason it tripped', () => {
    const { board, breaker, cycleAfter, trip } = setup();
    cycleAfter();
    expect(board.get('circuit_breaker').status).toBe('healthy');
    trip();
    expect(board.get('circuit_breaker')).toMatchObject({
      status: 'degraded',
      message: `monitoring circuit breaker tripped: ${breaker.state.reason}`,
    });
    expect(breaker.state.reason).toMatch(/^system CPU 95 % > 90 %$/);
    expect(board.overall).toBe('degraded');
  });

  it('decides a daily loss reported after the trip, and after the breaker gave up', () => {
    const { breaker, decisions, lossPercent, cycleAfter, cyclesFor, trip } = setup();
    cycleAfter();
    trip();
    cyclesFor((10 * RECOVERY_INTERVAL) / CYCLE);
    expect(breaker.state.gaveUp).toBe(true);
    lossPercent(20);
    cycleAfter();
    expect(decisions.map((d) => [d.kind, d.condition.rule, d.condition.severity])).toEqual([['firing', 'PolymarketBotDailyLossCritical', 'critical']]);
  });

  it('sends the resolved of a condition that clears while tripped', () => {
    const { decisions, lossPercent, cycleAfter, cyclesFor, trip } = setup();
    lossPercent(16);
    cycleAfter();
    trip();
    lossPercent(0);
    cyclesFor(2);
    expect(decisions.map((d) => d.kind)).toEqual(['firing', 'resolved']);
  });

  it('reports every cycle (onCycle) while tripped', () => {
    const { cycles, cycleAfter, cyclesFor, trip } = setup();
    cycleAfter();
    trip();
    cyclesFor(5);
    expect(cycles).toHaveLength(7);
  });
});

describe('Evaluator: CPU readings and the breaker', () => {
  it('never trips on CPU measured over a window shorter than MIN_CPU_WINDOW_MS', () => {
    const { host, breaker, evaluator, cycleAfter } = setup();
    host.cpuPercent = 100;
    evaluator.runCycle(); // the first cycle right at start: a window of 0 ms
    cycleAfter(MIN_CPU_WINDOW_MS - 1);
    expect(breaker.state.tripped).toBe(false);
  });

  it('trips on CPU measured over a window of MIN_CPU_WINDOW_MS', () => {
    const { host, breaker, cycleAfter } = setup();
    host.cpuPercent = 100;
    cycleAfter(MIN_CPU_WINDOW_MS);
    expect(breaker.state).toMatchObject({ tripped: true, reason: 'system CPU 100 % > 90 %' });
  });

  it('trips on memory however short the CPU window', () => {
    const { host, breaker, evaluator } = setup();
    host.memoryPercent = 90;
    evaluator.runCycle();
    expect(breaker.state).toMatchObject({ tripped: true, reason: 'system memory 90 % > 85 %' });
  });

  it('spends no recovery attempt on a CPU reading over a window shorter than MIN_CPU_WINDOW_MS', () => {
    const { breaker, cycleAfter, trip } = setup();
    const trippedAt = trip();
    cycleAfter(RECOVERY_INTERVAL - 500);
    cycleAfter(500); // due now, but over half a second
    expect(breaker.state.recoveryAttempts).toBe(0);
    cycleAfter();
    expect(breaker.state).toMatchObject({ recoveryAttempts: 1, lastAttemptAt: trippedAt + RECOVERY_INTERVAL + CYCLE });
  });
});

describe('Evaluator: breaker recovery', () => {
  it('attempts recovery every recoveryIntervalMs from the trip, not at every cycle', () => {
    const { breaker, cyclesFor, trip } = setup();
    const trippedAt = trip();
    const attempts: number[] = [];
    for (let i = 0; i < (3 * RECOVERY_INTERVAL) / CYCLE; i++) {
      const before = breaker.state.lastAttemptAt;
      cyclesFor(1);
      if (breaker.state.lastAttemptAt !== before) attempts.push(breaker.state.lastAttemptAt! - trippedAt);
    }
    expect(attempts).toEqual([RECOVERY_INTERVAL, 2 * RECOVERY_INTERVAL, 3 * RECOVERY_INTERVAL]);
  });

  it('gives up after the maximum number of attempts and says so exactly once', () => {
    const { breaker, transitions, cyclesFor, trip } = setup();
    trip();
    cyclesFor((10 * RECOVERY_INTERVAL) / CYCLE);
    expect(transitions.map((t) => t.type)).toEqual(['tripped', 'gave_up']);
    expect(transitions[1]).toMatchObject({ attempts: MAX_ATTEMPTS });
    expect(breaker.state).toMatchObject({ tripped: true, gaveUp: true, recoveryAttempts: MAX_ATTEMPTS });
  });

  it('recovers when the host calms down, in a cycle that runs the checks and rules as every other', () => {
    const { host, trace, transitions, cycleAfter, trip } = setup();
    trip();
    host.cpuPercent = 20;
    cycleAfter(RECOVERY_INTERVAL);
    expect(transitions.map((t) => t.type)).toEqual(['tripped', 'recovered']);
    expect(trace).toEqual(['breaker', 'onBreaker:recovered', ...ALL_CHECKS, 'rules', 'onCycle']);
  });

  it('closes on a manual reset of a breaker that gave up', () => {
    const { board, breaker, cycleAfter, cyclesFor, trip } = setup();
    trip();
    cyclesFor((4 * RECOVERY_INTERVAL) / CYCLE);
    expect(breaker.state.gaveUp).toBe(true);
    expect(breaker.reset('admin')?.type).toBe('reset');
    cycleAfter();
    expect(board.get('circuit_breaker').status).toBe('healthy');
  });
});

describe('Evaluator: alerts disabled', () => {
  it('never consults the alert history and decides nothing, yet runs every check', () => {
    const { board, rules, decisions, suppressed, cycles, trace, lossPercent, cycleAfter, cyclesFor } = setup({ alertsEnabled: false });
    lossPercent(16);
    cyclesFor(3);
    cycleAfter();
    expect(trace).toEqual(['breaker', ...ALL_CHECKS, 'onCycle']);
    expect(rules).not.toHaveBeenCalled();
    expect(decisions).toEqual([]);
    expect(suppressed).toEqual([]);
    expect(cycles).toEqual(['critical', 'critical', 'critical', 'critical']);
    expect(board.get('trade_executor').status).toBe('critical');
  });
});

describe('Evaluator: alert decisions', () => {
  it('reports how many alerts were held back, once per cycle that held any back', () => {
    const { bot, suppressed, lossPercent, cyclesFor } = setup();
    // Two conditions on trade_executor: the critical goes, the warning waits out the cooldown.
    bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'daily loss limit reached' } });
    lossPercent(16);
    cyclesFor(3);
    expect(suppressed).toEqual([1, 2, 2]);
  });

  it('reports nothing held back while nothing fires', () => {
    const { suppressed, cyclesFor } = setup();
    cyclesFor(3);
    expect(suppressed).toEqual([]);
  });

  it('decides a daily loss of 16 % exactly once over ten cycles 5 s apart', () => {
    const { decisions, lossPercent, cyclesFor } = setup();
    lossPercent(16);
    cyclesFor(10);
    expect(decisions).toEqual([
      {
        kind: 'firing',
        cause: 'new',
        condition: expect.objectContaining({ rule: 'PolymarketBotDailyLossCritical', component: 'trade_executor', severity: 'critical' }),
      },
    ]);
  });

  it('decides exactly one resolved, naming the critical, once the loss falls back to 5 %', () => {
    const { decisions, lossPercent, cyclesFor } = setup();
    lossPercent(16);
    cyclesFor(10);
    const sent = decisions[0]!.condition;
    lossPercent(5);
    cyclesFor(10);
    expect(decisions.slice(1)).toEqual([{ kind: 'resolved', condition: sent }]);
  });

  it('sends a still-firing alert again, as a reminder, once the duplicate window has passed', () => {
    const { decisions, lossPercent, cyclesFor } = setup();
    lossPercent(13);
    cyclesFor(DUPLICATE_WINDOW / CYCLE); // cycles at 5 s … 600 s: the first sends, the rest are inside the window
    expect(summary(decisions)).toEqual([['firing', 'new', 'PolymarketBotDailyLossWarning', 'warning']]);
    cyclesFor(1); // 605 s: the window since the send at 5 s has passed
    expect(summary(decisions)).toEqual([
      ['firing', 'new', 'PolymarketBotDailyLossWarning', 'warning'],
      ['firing', 'reminder', 'PolymarketBotDailyLossWarning', 'warning'],
    ]);
  });

  it('sends an escalation from warning (12 %) to critical (15 %) at once, inside the cooldown', () => {
    const { decisions, lossPercent, cycleAfter } = setup();
    lossPercent(12);
    cycleAfter();
    lossPercent(15);
    cycleAfter(); // 5 s later: well inside the 5-minute cooldown
    expect(summary(decisions)).toEqual([
      ['firing', 'new', 'PolymarketBotDailyLossWarning', 'warning'],
      ['firing', 'escalation', 'PolymarketBotDailyLossCritical', 'critical'],
    ]);
  });

  it('does not announce a fall from critical back to warning', () => {
    const { decisions, lossPercent, cyclesFor } = setup();
    lossPercent(16);
    cyclesFor(1);
    lossPercent(13);
    cyclesFor(10);
    expect(summary(decisions)).toEqual([['firing', 'new', 'PolymarketBotDailyLossCritical', 'critical']]);
  });

  it('holds another warning about the same component until the cooldown since the last notice is over', () => {
    const { bot, host, decisions, lossPercent, cycleAfter } = setup();
    lossPercent(12);
    cycleAfter();
    const sentAt = host.t;
    bot.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'five losses in a row' } });
    const breakerNoticeAt: number[] = [];
    while (host.t < sentAt + 2 * COOLDOWN) {
      const before = decisions.length;
      cycleAfter();
      if (decisions.slice(before).some((d) => d.condition.rule === 'PolymarketBotTradeCircuitBreakerOpen')) breakerNoticeAt.push(host.t - sentAt);
    }
    expect(breakerNoticeAt).toEqual([COOLDOWN]);
  });

  it('turns API health into alerts for api:<name>', () => {
    const { bot, decisions, cyclesFor } = setup();
    for (let i = 0; i < 5; i++) bot.apis.record('clob', false);
    cyclesFor(1);
    // Both rules fire for api:clob; the cooldown lets the critical one through, alone.
    expect(summary(decisions)).toEqual([['firing', 'new', 'PolymarketBotApiConsecutiveFailures', 'critical']]);
    expect(decisions[0]?.condition.component).toBe('api:clob');
  });
});

describe('Evaluator: a check that throws', () => {
  function throwingWalletMonitor() {
    const failure = new Error('boom');
    let broken = false;
    const checks = HEALTH_CHECKS.map(([component, check]) =>
      component === 'wallet_monitor'
        ? ([component, (findings, inputs) => (broken ? (() => { throw failure; })() : check(findings, inputs))] as const)
        : ([component, check] as const),
    ) satisfies ReadonlyArray<readonly [Component, ComponentCheck]>;
    return { failure, checks, breakNow: () => (broken = true) };
  }

  it('shows its component unknown rather than its last state, and reports the error', () => {
    const { failure, checks, breakNow } = throwingWalletMonitor();
    const { board, bot, checkErrors, cycleAfter } = setup({ checks });
    bot.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 25, lastScanAt: T0 } });
    cycleAfter();
    expect(board.get('wallet_monitor').status).toBe('healthy');
    breakNow();
    cycleAfter();
    expect(board.get('wallet_monitor')).toMatchObject({ status: 'unknown', message: 'check failed' });
    expect(checkErrors).toEqual([['wallet_monitor', failure]]);
  });

  it('leaves the other checks, the alert rules and the cycle report unaffected', () => {
    const { checks, breakNow } = throwingWalletMonitor();
    const { board, bot, trace, decisions, cycles, lossPercent, cycleAfter } = setup({ checks });
    breakNow();
    bot.reportComponent({ component: 'main_bot', state: { flags: { config_valid: true }, heartbeat: true } });
    lossPercent(16);
    expect(() => cycleAfter()).not.toThrow();
    expect(trace).toEqual(['breaker', ...ALL_CHECKS, 'rules', 'onCycle']);
    expect(board.get('main_bot').status).toBe('healthy');
    expect(board.get('trade_executor').status).toBe('critical');
    expect(summary(decisions)).toEqual([['firing', 'new', 'PolymarketBotDailyLossCritical', 'critical']]);
    expect(cycles).toEqual(['critical']);
  });
});

describe('Evaluator: rules over the collected data', () => {
  it('fires PolymarketBotTradeFailures from the trade histogram of the collections, over 5 minutes', () => {
    const { trades, decisions, cycleAfter } = setup();
    trades.filled = 4;
    cycleAfter();
    // 4 of 8 failed since start (younger than the window): 50 % is not more than half.
    trades.rejected = 4;
    cycleAfter();
    expect(decisions).toEqual([]);
    trades.error = 1;
    cycleAfter();
    expect(summary(decisions)).toEqual([['firing', 'new', 'PolymarketBotTradeFailures', 'warning']]);
    expect(decisions[0]!.condition).toMatchObject({ component: 'trades', description: expect.stringMatching(/^5 of the last 9 trade operations/) });
    // Five minutes of fills later, the failures are out of the window: resolved.
    for (let i = 0; i < 62; i++) {
      trades.filled! += 1;
      cycleAfter();
    }
    expect(summary(decisions).at(-1)).toEqual(['resolved', '-', 'PolymarketBotTradeFailures', 'warning']);
  });

  it('keeps PolymarketBotTradeFailures quiet below 3 operations, however many failed', () => {
    const { trades, decisions, cycleAfter } = setup();
    trades.error = 2;
    cycleAfter();
    cycleAfter();
    expect(decisions).toEqual([]);
    trades.error = 3;
    cycleAfter();
    expect(summary(decisions)).toEqual([['firing', 'new', 'PolymarketBotTradeFailures', 'warning']]);
  });

  it('reads the daily loss from the collected gauge, not from what the bot reported since', () => {
    const { bot, evaluator, board, cycleAfter, host } = setup();
    bot.reportPnl({ pnlUsd: -1_600, startingBalanceUsd: 10_000 });
    cycleAfter();
    expect(board.get('trade_executor').status).toBe('critical');
    // A cycle without a new collection reads the last one again.
    bot.reportPnl({ pnlUsd: 0, startingBalanceUsd: 10_000 });
    host.advance(CYCLE);
    evaluator.runCycle();
    expect(board.get('trade_executor').status).toBe('critical');
    cycleAfter();
    expect(board.get('trade_executor').status).toBe('healthy');
  });
});
