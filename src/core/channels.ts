/**
 * The channel contract between a bot and the plugin (version 1). A bot may publish on these
 * `node:diagnostics_channel` names without installing the package; the probe is only a
 * convenience. Renaming a channel or a payload field is a breaking change.
 */

/** TracingChannels: start / end / asyncStart / asyncEnd / error, per Node's conventions. */
export const TRACING_CHANNELS = {
  walletScan: 'polymarket-bot:wallet-scan',
  tradeExecution: 'polymarket-bot:trade-execution',
} as const;

/** Plain channels: one message per report. */
export const CHANNELS = {
  apiCall: 'polymarket-bot:api-call',
  dailyPnl: 'polymarket-bot:daily-pnl',
  component: 'polymarket-bot:component',
} as const;

/** Message of the wallet-scan TracingChannel. The probe sets `result` or `error`. */
export interface WalletScanContext {
  /** The watched wallet's address; the plugin only ever shows its last 6 characters. */
  wallet: string;
  result?: unknown;
  error?: unknown;
}

/** The order a trade execution copies. Every field is optional; unknown ones are ignored. */
export interface TradeOrder {
  market?: string;
  side?: string;
  size?: number;
  price?: number;
  /** The wallet whose trade is being copied. */
  sourceWallet?: string;
  /** `place` (the default) or `cancel`. */
  operation?: string;
}

export interface TradeExecutionContext {
  order: TradeOrder;
  /**
   * The bot's own reading of its result, for result shapes the plugin does not know: returns an
   * outcome word (`filled`, `resting`, `rejected`, …). Without it the plugin's outcome table
   * applies. Called once, when the operation ends; a throw or an unknown word is `other`.
   */
  mapOutcome?: (result: unknown) => string;
  result?: unknown;
  error?: unknown;
}

export interface ApiCallReport {
  /** A short API name such as `clob`, `data_api`, `gamma`, `polygon_rpc`. */
  api: string;
  ok: boolean;
  durationMs?: number;
  /** HTTP status, when there was one. */
  status?: number;
  /** 1 for the first try; 2 and up are retries (they show as span events). */
  attempt?: number;
}

export interface DailyPnlReport {
  pnlUsd: number;
  startingBalanceUsd: number;
}

export interface MainBotState {
  /** Configuration flags, e.g. { signing_key_present: true }. Never the key itself. */
  flags?: Record<string, boolean>;
  /** Set on every tick of the bot's main loop. */
  heartbeat?: boolean;
}

export interface WalletMonitorState {
  walletsWatched?: number;
  memoryMb?: number;
  /** Wall-clock ms of the last successful scan, if the bot tracks it itself. */
  lastScanAt?: number;
}

export interface TradeExecutorState {
  /** The bot's own risk circuit breaker. */
  circuitBreakerOpen?: boolean;
  reason?: string;
  consecutiveLosses?: number;
  openPositions?: number;
  memoryMb?: number;
}

export interface ComponentStates {
  main_bot: MainBotState;
  wallet_monitor: WalletMonitorState;
  trade_executor: TradeExecutorState;
}

export type ReportedComponent = keyof ComponentStates;

export interface ComponentReport<C extends ReportedComponent = ReportedComponent> {
  component: C;
  state: ComponentStates[C];
}
