/**
 * What the bot has told the plugin, kept as plain values for the gauges, /health and the health
 * checks. Every field is validated on the way in: the channels are a public contract and the
 * payloads are untrusted (NaN, negative counts, huge strings, secrets in a reason).
 */
import type { ComponentReport, DailyPnlReport, MainBotState, TradeExecutorState, WalletMonitorState } from '../core/channels.js';
import { maskKnownSecrets, redactAndTruncate } from '../core/redact.js';
import { ApiHealth } from './api-health.js';


const MAX_FLAGS = 20;
const FLAG_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_REASON = 200;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const nonNegative = (v: unknown): number | undefined => (finite(v) && v >= 0 ? v : undefined);

export interface MainBotView {
  flags: Record<string, boolean>;
  lastHeartbeatAt: number | null;
  reportedAt: number;
}

export interface WalletMonitorView {
  walletsWatched: number | null;
  memoryMb: number | null;
  reportedAt: number;
}

export interface TradeExecutorView {
  circuitBreakerOpen: boolean | null;
  reason: string | null;
  consecutiveLosses: number | null;
  openPositions: number | null;
  memoryMb: number | null;
  reportedAt: number;
}

export interface PnlView {
  pnlUsd: number;
  startingBalanceUsd: number;
  /** Loss as a share of the starting balance, 0 when in profit. */
  lossRatio: number;
  reportedAt: number;
}

export class BotState {
  mainBot: MainBotView | null = null;
  walletMonitor: WalletMonitorView | null = null;
  tradeExecutor: TradeExecutorView | null = null;
  pnl: PnlView | null = null;
  /** Wall-clock ms of the last successful scan (traced or reported). */
  lastSuccessfulScanAt: number | null = null;
  readonly apis: ApiHealth;

  constructor(private readonly now: () => number) {
    this.apis = new ApiHealth(now);
  }

  /**
   * A scan observed now is the latest, whatever an earlier reading said (after the clock stepped
   * back, keeping the later time would hide stale scans until the clock caught up); a time the bot
   * reports may lag behind one already observed and never moves the reading backwards.
   */
  scanSucceeded(at: number, source: 'observed' | 'reported'): void {
    if (source === 'observed' || this.lastSuccessfulScanAt === null || at > this.lastSuccessfulScanAt) this.lastSuccessfulScanAt = at;
  }

  reportPnl(report: DailyPnlReport): boolean {
    const pnl = report?.pnlUsd;
    const start = report?.startingBalanceUsd;
    if (!finite(pnl) || !finite(start) || start <= 0) return false;
    this.pnl = { pnlUsd: pnl, startingBalanceUsd: start, lossRatio: pnl < 0 ? -pnl / start : 0, reportedAt: this.now() };
    return true;
  }

  reportComponent(report: ComponentReport): boolean {
    const state = report?.state as unknown;
    if (state === null || typeof state !== 'object') return false;
    switch (report.component) {
      case 'main_bot':
        this.mainBot = this.mergeMainBot(state as MainBotState);
        return true;
      case 'wallet_monitor':
        this.walletMonitor = this.mergeWalletMonitor(state as WalletMonitorState);
        return true;
      case 'trade_executor':
        this.tradeExecutor = this.mergeTradeExecutor(state as TradeExecutorState);
        return true;
      default:
        return false;
    }
  }

  private mergeMainBot(state: MainBotState): MainBotView {
    const at = this.now();
    const flags = { ...(this.mainBot?.flags ?? {}) };
    if (state.flags && typeof state.flags === 'object') {
      for (const [name, value] of Object.entries(state.flags)) {
        // A flag name reaches /health and alerts: only short identifiers, never something that
        // could be a credential the bot passed by mistake.
        if (typeof value !== 'boolean' || !FLAG_NAME.test(name) || maskKnownSecrets(name) !== name) continue;
        if (!Object.hasOwn(flags, name) && Object.keys(flags).length >= MAX_FLAGS) continue;
        flags[name] = value;
      }
    }
    return {
      flags,
      lastHeartbeatAt: state.heartbeat === true ? at : (this.mainBot?.lastHeartbeatAt ?? null),
      reportedAt: at,
    };
  }

  private mergeWalletMonitor(state: WalletMonitorState): WalletMonitorView {
    const previous = this.walletMonitor;
    const lastScanAt = nonNegative(state.lastScanAt);
    if (lastScanAt !== undefined) this.scanSucceeded(lastScanAt, 'reported');
    return {
      walletsWatched: nonNegative(state.walletsWatched) ?? previous?.walletsWatched ?? null,
      memoryMb: nonNegative(state.memoryMb) ?? previous?.memoryMb ?? null,
      reportedAt: this.now(),
    };
  }

  private mergeTradeExecutor(state: TradeExecutorState): TradeExecutorView {
    const previous = this.tradeExecutor;
    const open = typeof state.circuitBreakerOpen === 'boolean' ? state.circuitBreakerOpen : (previous?.circuitBreakerOpen ?? null);
    const reason =
      typeof state.reason === 'string' && state.reason.trim() !== ''
        ? redactAndTruncate(state.reason, MAX_REASON)
        : typeof state.circuitBreakerOpen === 'boolean'
          ? null // a new breaker state without a reason clears the old reason
          : (previous?.reason ?? null);
    return {
      circuitBreakerOpen: open,
      reason,
      consecutiveLosses: nonNegative(state.consecutiveLosses) ?? previous?.consecutiveLosses ?? null,
      openPositions: nonNegative(state.openPositions) ?? previous?.openPositions ?? null,
      memoryMb: nonNegative(state.memoryMb) ?? previous?.memoryMb ?? null,
      reportedAt: this.now(),
    };
  }
}
