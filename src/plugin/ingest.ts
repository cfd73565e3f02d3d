/**
 * The ingest part: the channel subscribers that turn the bot's scans, trades and API calls into
 * measurements, spans and bot state, and the instrumentation of the official CLOB client.
 */
import type { MonitoringConfig } from '../core/config.js';
import { log } from '../core/log.js';
import { instrumentClobClient } from '../ingest/clob-client.js';
import { apiNames, parseApiHosts } from '../ingest/http-clients.js';
import { subscribe, type TradeEvent } from '../ingest/subscribers.js';
import type { BotState } from '../state/bot-state.js';
import type { Telemetry } from './telemetry.js';
import { PACKAGE_NAME } from './telemetry.js';

export interface Ingest {
  stop(): void;
}

export interface IngestOptions {
  readonly config: MonitoringConfig;
  readonly version: string;
  readonly bot: BotState;
  readonly telemetry: Telemetry;
  /** Whether spans may be recorded now (the monitoring breaker closed). */
  readonly tracingAllowed: () => boolean;
  readonly onTrade: ((trade: TradeEvent) => void) | undefined;
  readonly now: () => number;
  readonly monotonic: () => number;
}

export function startIngest({ config, version, bot, telemetry, tracingAllowed, onTrade, now, monotonic }: IngestOptions): Ingest {
  const { counters, histograms } = telemetry.instruments;
  const { hosts: apiHosts, warnings } = parseApiHosts(config.apiHosts);
  for (const warning of warnings) log().warn(warning);
  // The APIs the plugin maps by host keep their own series whatever the bot reports first.
  bot.apis.reserve(apiNames(apiHosts));
  const unsubscribe = subscribe({
    scanDuration: histograms.walletScanDuration,
    tradeDuration: histograms.tradeExecutionDuration,
    apiRequests: counters.apiRequests,
    state: bot,
    tracer: telemetry.sdk.tracerProvider?.getTracer(PACKAGE_NAME, version),
    tracingAllowed,
    apiHosts,
    batch: telemetry.measurements,
    exemplars: telemetry.exemplars,
    onTrade,
    onError: (where, error) => log().warn(`subscriber ${where} failed: ${String(error)}`),
    now,
    monotonic,
  });
  // Before the bot's first import: the client's class is handed over as its module is evaluated.
  const clob = config.instrumentClob
    ? instrumentClobClient({
        info: (message) => log().info(message),
        warn: (message) => log().warn(message),
      })
    : undefined;
  return {
    stop: () => {
      clob?.stop();
      unsubscribe();
    },
  };
}
