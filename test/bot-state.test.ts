import { afterEach, describe, expect, it } from 'vitest';
import type { ComponentReport } from '../src/core/channels.js';
import { REDACTED, clearRegisteredSecrets } from '../src/core/redact.js';
import { BotState } from '../src/state/bot-state.js';

// Hardhat's well-known development key: public, never funded on a real chain.
const PRIVATE_KEY = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const TELEGRAM_TOKEN = '7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ';

const T0 = 1_750_000_000_000;

afterEach(() => clearRegisteredSecrets());

function setup() {
  const clock = { t: T0 };
  const state = new BotState(() => clock.t);
  return { clock, state };
}

/** The channel payload is untrusted: tests send what a buggy bot might, past the types. */
const untrusted = (report: unknown) => report as ComponentReport;

describe('BotState.reportPnl', () => {
  it('computes the loss as a share of the starting balance', () => {
    const { state } = setup();
    expect(state.reportPnl({ pnlUsd: -150, startingBalanceUsd: 1000 })).toBe(true);
    expect(state.pnl).toEqual({ pnlUsd: -150, startingBalanceUsd: 1000, lossRatio: 0.15, reportedAt: T0 });
  });

  it('has a loss ratio of 0 when in profit', () => {
    const { state } = setup();
    state.reportPnl({ pnlUsd: 80, startingBalanceUsd: 1000 });
    expect(state.pnl?.lossRatio).toBe(0);
  });

  it('has a loss ratio of 0 when flat', () => {
    const { state } = setup();
    state.reportPnl({ pnlUsd: 0, startingBalanceUsd: 1000 });
    expect(state.pnl?.lossRatio).toBe(0);
  });

  it('replaces the previous report and stamps the time of the new one', () => {
    const { state, clock } = setup();
    state.reportPnl({ pnlUsd: -10, startingBalanceUsd: 100 });
    clock.t += 5_000;
    state.reportPnl({ pnlUsd: -30, startingBalanceUsd: 100 });
    expect(state.pnl).toMatchObject({ pnlUsd: -30, lossRatio: 0.3, reportedAt: T0 + 5_000 });
  });

  it.each([
    ['a NaN pnl', { pnlUsd: Number.NaN, startingBalanceUsd: 1000 }],
    ['an infinite pnl', { pnlUsd: -Infinity, startingBalanceUsd: 1000 }],
    ['a string pnl', { pnlUsd: '-150', startingBalanceUsd: 1000 }],
    ['a NaN starting balance', { pnlUsd: -150, startingBalanceUsd: Number.NaN }],
    ['an infinite starting balance', { pnlUsd: -150, startingBalanceUsd: Infinity }],
    ['a zero starting balance', { pnlUsd: -150, startingBalanceUsd: 0 }],
    ['a negative starting balance', { pnlUsd: -150, startingBalanceUsd: -1000 }],
    ['no fields', {}],
    ['null', null],
  ])('rejects %s and keeps the last good report', (_why, report) => {
    const { state } = setup();
    state.reportPnl({ pnlUsd: -10, startingBalanceUsd: 100 });
    expect(state.reportPnl(report as never)).toBe(false);
    expect(state.pnl).toMatchObject({ pnlUsd: -10, lossRatio: 0.1 });
  });
});

describe('BotState.reportComponent: trade_executor', () => {
  it('keeps the reported breaker state and counts', () => {
    const { state } = setup();
    expect(
      state.reportComponent({
        component: 'trade_executor',
        state: { circuitBreakerOpen: true, reason: 'three losses in a row', consecutiveLosses: 3, openPositions: 2, memoryMb: 180 },
      }),
    ).toBe(true);
    expect(state.tradeExecutor).toEqual({
      circuitBreakerOpen: true,
      reason: 'three losses in a row',
      consecutiveLosses: 3,
      openPositions: 2,
      memoryMb: 180,
      reportedAt: T0,
    });
  });

  it('keeps the previous values of fields a report leaves out', () => {
    const { state, clock } = setup();
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: false, consecutiveLosses: 1, openPositions: 4, memoryMb: 150 } });
    clock.t += 1_000;
    state.reportComponent({ component: 'trade_executor', state: { openPositions: 5 } });
    expect(state.tradeExecutor).toEqual({
      circuitBreakerOpen: false,
      reason: null,
      consecutiveLosses: 1,
      openPositions: 5,
      memoryMb: 150,
      reportedAt: T0 + 1_000,
    });
  });

  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['infinite', Infinity],
    ['a string', '3'],
  ])('ignores a count that is %s and keeps the previous one', (_why, bad) => {
    const { state } = setup();
    state.reportComponent({ component: 'trade_executor', state: { consecutiveLosses: 2, openPositions: 1, memoryMb: 100 } });
    state.reportComponent(untrusted({ component: 'trade_executor', state: { consecutiveLosses: bad, openPositions: bad, memoryMb: bad } }));
    expect(state.tradeExecutor).toMatchObject({ consecutiveLosses: 2, openPositions: 1, memoryMb: 100 });
  });

  it('leaves a count never validly reported as null', () => {
    const { state } = setup();
    state.reportComponent(untrusted({ component: 'trade_executor', state: { consecutiveLosses: -5 } }));
    expect(state.tradeExecutor?.consecutiveLosses).toBeNull();
  });

  it('accepts a count of 0', () => {
    const { state } = setup();
    state.reportComponent({ component: 'trade_executor', state: { consecutiveLosses: 3 } });
    state.reportComponent({ component: 'trade_executor', state: { consecutiveLosses: 0 } });
    expect(state.tradeExecutor?.consecutiveLosses).toBe(0);
  });

  it('ignores a breaker state that is not a boolean', () => {
    const { state } = setup();
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true } });
    state.reportComponent(untrusted({ component: 'trade_executor', state: { circuitBreakerOpen: 'false' } }));
    expect(state.tradeExecutor?.circuitBreakerOpen).toBe(true);
  });

  it('clears the old reason when the breaker changes state without one', () => {
    const { state } = setup();
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'daily loss limit' } });
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: false } });
    expect(state.tradeExecutor).toMatchObject({ circuitBreakerOpen: false, reason: null });
  });

  it('keeps the reason through a report that does not touch the breaker', () => {
    const { state } = setup();
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'daily loss limit' } });
    state.reportComponent({ component: 'trade_executor', state: { openPositions: 0 } });
    expect(state.tradeExecutor?.reason).toBe('daily loss limit');
  });

  it('redacts secrets in the breaker reason', () => {
    const { state } = setup();
    state.reportComponent({
      component: 'trade_executor',
      state: { circuitBreakerOpen: true, reason: `signer 0x${PRIVATE_KEY} rejected; alert bot ${TELEGRAM_TOKEN} down` },
    });
    const reason = state.tradeExecutor?.reason ?? '';
    expect(reason).not.toContain(PRIVATE_KEY);
    expect(reason).not.toContain(TELEGRAM_TOKEN);
    expect(reason).toContain(REDACTED);
  });

  it('truncates a long breaker reason to 200 characters', () => {
    const { state } = setup();
    // One long word: a run of short words could be taken for a mnemonic and masked whole.
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: 'L'.repeat(1000) } });
    expect(state.tradeExecutor?.reason).toBe('L'.repeat(200));
  });

  // BUG (src/telemetry/bot-state.ts:121): the reason is cut to 200 characters before it is
  // redacted, so a key that straddles the cut is no longer 64 hex digits, escapes the LONG_HEX
  // rule, and 56 of its 64 digits stay readable (32 unknown bits: brute-forced against the
  // wallet's public address in seconds). Redact first, then truncate.
  it('masks a private key that straddles the 200-character cut', () => {
    const { state } = setup();
    const prefix = `${'x'.repeat(141)} `; // 142 characters, so 0x + 56 hex digits end at 200
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: `${prefix}0x${PRIVATE_KEY} end` } });
    expect(state.tradeExecutor?.reason).not.toContain(PRIVATE_KEY.slice(0, 16));
  });

  it('ignores an empty or blank reason', () => {
    const { state } = setup();
    state.reportComponent({ component: 'trade_executor', state: { circuitBreakerOpen: true, reason: '   ' } });
    expect(state.tradeExecutor?.reason).toBeNull();
  });
});

describe('BotState.reportComponent: main_bot', () => {
  it('keeps boolean flags', () => {
    const { state } = setup();
    state.reportComponent({ component: 'main_bot', state: { flags: { signing_key_present: true, dry_run: false } } });
    expect(state.mainBot?.flags).toEqual({ signing_key_present: true, dry_run: false });
  });

  it('ignores flags that are not booleans', () => {
    const { state } = setup();
    state.reportComponent(untrusted({ component: 'main_bot', state: { flags: { dry_run: 'yes', key: PRIVATE_KEY, retries: 3, live: true } } }));
    expect(state.mainBot?.flags).toEqual({ live: true });
  });

  it('merges flags across reports', () => {
    const { state } = setup();
    state.reportComponent({ component: 'main_bot', state: { flags: { a: true } } });
    state.reportComponent({ component: 'main_bot', state: { flags: { b: false } } });
    state.reportComponent({ component: 'main_bot', state: { flags: { a: false } } });
    expect(state.mainBot?.flags).toEqual({ a: false, b: false });
  });

  it('keeps at most 20 flags', () => {
    const { state } = setup();
    const flags = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`flag_${i}`, true]));
    state.reportComponent({ component: 'main_bot', state: { flags } });
    state.reportComponent({ component: 'main_bot', state: { flags: { one_more: true } } });
    expect(Object.keys(state.mainBot?.flags ?? {})).toHaveLength(20);
    expect(state.mainBot?.flags).not.toHaveProperty('one_more');
  });

  it('still updates a known flag once 20 are kept', () => {
    const { state } = setup();
    const flags = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`flag_${i}`, true]));
    state.reportComponent({ component: 'main_bot', state: { flags } });
    state.reportComponent({ component: 'main_bot', state: { flags: { flag_3: false } } });
    expect(state.mainBot?.flags.flag_3).toBe(false);
  });

  it('ignores flag names that are not short identifiers (they reach /health and alerts)', () => {
    const { state } = setup();
    state.reportComponent({
      component: 'main_bot',
      state: { flags: { ['f'.repeat(65)]: true, 'has space': true, '0x1234': true, signing_key_present: true } },
    });
    expect(Object.keys(state.mainBot?.flags ?? {})).toEqual(['signing_key_present']);
  });

  it('still updates a known flag once 20 are kept', () => {
    const { state } = setup();
    const name = 'f'.repeat(64);
    const flags = Object.fromEntries([[name, true], ...Array.from({ length: 19 }, (_, i) => [`flag_${i}`, true])]);
    state.reportComponent({ component: 'main_bot', state: { flags } });
    state.reportComponent({ component: 'main_bot', state: { flags: { [name]: false } } });
    expect(state.mainBot?.flags[name]).toBe(false);
  });

  it('stamps the heartbeat with the current time', () => {
    const { state, clock } = setup();
    clock.t += 7_000;
    state.reportComponent({ component: 'main_bot', state: { heartbeat: true } });
    expect(state.mainBot?.lastHeartbeatAt).toBe(T0 + 7_000);
  });

  it('keeps the last heartbeat through a report without one', () => {
    const { state, clock } = setup();
    state.reportComponent({ component: 'main_bot', state: { heartbeat: true } });
    clock.t += 60_000;
    state.reportComponent({ component: 'main_bot', state: { flags: { dry_run: true } } });
    expect(state.mainBot).toMatchObject({ lastHeartbeatAt: T0, reportedAt: T0 + 60_000 });
  });

  it('has no heartbeat until one is reported', () => {
    const { state } = setup();
    state.reportComponent(untrusted({ component: 'main_bot', state: { heartbeat: 'yes' } }));
    expect(state.mainBot?.lastHeartbeatAt).toBeNull();
  });
});

describe('BotState.reportComponent: wallet_monitor', () => {
  it('keeps the wallet count and memory', () => {
    const { state } = setup();
    state.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 12, memoryMb: 90 } });
    expect(state.walletMonitor).toEqual({ walletsWatched: 12, memoryMb: 90, reportedAt: T0 });
  });

  it('keeps the previous wallet count through a report with a bad one', () => {
    const { state } = setup();
    state.reportComponent({ component: 'wallet_monitor', state: { walletsWatched: 12 } });
    state.reportComponent(untrusted({ component: 'wallet_monitor', state: { walletsWatched: -3, memoryMb: Number.NaN } }));
    expect(state.walletMonitor).toMatchObject({ walletsWatched: 12, memoryMb: null });
  });

  it('takes lastScanAt as the last successful scan', () => {
    const { state } = setup();
    state.reportComponent({ component: 'wallet_monitor', state: { lastScanAt: T0 - 5_000 } });
    expect(state.lastSuccessfulScanAt).toBe(T0 - 5_000);
  });

  it('never moves the last successful scan backwards', () => {
    const { state } = setup();
    state.reportComponent({ component: 'wallet_monitor', state: { lastScanAt: T0 - 5_000 } });
    state.reportComponent({ component: 'wallet_monitor', state: { lastScanAt: T0 - 60_000 } });
    expect(state.lastSuccessfulScanAt).toBe(T0 - 5_000);
  });

  it('does not let a reported lastScanAt undo a later traced scan', () => {
    const { state } = setup();
    state.scanSucceeded(T0, 'observed');
    state.reportComponent({ component: 'wallet_monitor', state: { lastScanAt: T0 - 1 } });
    expect(state.lastSuccessfulScanAt).toBe(T0);
  });

  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['a string', String(T0)],
  ])('ignores a lastScanAt that is %s', (_why, bad) => {
    const { state } = setup();
    state.reportComponent(untrusted({ component: 'wallet_monitor', state: { lastScanAt: bad } }));
    expect(state.lastSuccessfulScanAt).toBeNull();
  });
});

describe('BotState.reportComponent: untrusted payloads', () => {
  it.each([
    ['an unknown component', { component: 'alert_system', state: {} }],
    ['a missing state', { component: 'main_bot' }],
    ['a null state', { component: 'main_bot', state: null }],
    ['a string state', { component: 'main_bot', state: 'ok' }],
    ['null', null],
  ])('rejects %s and changes nothing', (_why, report) => {
    const { state } = setup();
    expect(state.reportComponent(untrusted(report))).toBe(false);
    expect([state.mainBot, state.walletMonitor, state.tradeExecutor]).toEqual([null, null, null]);
  });
});

describe('BotState.scanSucceeded', () => {
  it('takes an observed scan as the latest even after the clock stepped back', () => {
    const { state } = setup();
    state.scanSucceeded(T0 + 3_600_000, 'observed');
    state.scanSucceeded(T0, 'observed');
    expect(state.lastSuccessfulScanAt).toBe(T0);
  });

  it('never moves the reading backwards for a reported time', () => {
    const { state } = setup();
    state.scanSucceeded(T0, 'observed');
    state.scanSucceeded(T0 - 10, 'reported');
    expect(state.lastSuccessfulScanAt).toBe(T0);
  });
});
