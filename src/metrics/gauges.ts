/**
 * What each gauge reports, read at each collection (./instruments.ts createGaugeProducer). Every
 * reader only reads state that the evaluation cycle or the subscribers already hold: a Prometheus
 * scrape costs a few property reads per gauge.
 */
import { STATUS_GAUGE_VALUE, type BreakerView } from '../core/model.js';
import type { HealthBoard } from '../state/health-board.js';
import type { SystemSampler } from '../state/system-sampler.js';
import type { BotState } from '../state/bot-state.js';
import type { EventLoopDelay } from '../state/event-loop.js';
import type { GaugeKey, GaugeReader } from './instruments.js';

export interface GaugeSources {
  readonly sampler: SystemSampler;
  readonly board: HealthBoard;
  readonly breaker: () => BreakerView;
  readonly bot: BotState;
  readonly eventLoop: EventLoopDelay;
  /** The alert route in effect (see monitoring_alert_route). */
  readonly alertRoute: () => string;
}

const MIB = 1024 * 1024;

export function gaugeReaders({ sampler, board, breaker, bot, eventLoop, alertRoute }: GaugeSources): Record<GaugeKey, GaugeReader> {
  return {
    cpuUsage: (observe) => observe(sampler.last.cpuPercent),
    memoryUsage: (observe) => observe(sampler.last.rssBytes / MIB),
    circuitBreaker: (observe) => observe(breaker().tripped ? 1 : 0),
    componentStatus: (observe) => {
      for (const [component, health] of board.entries()) {
        if (health.status !== 'unknown') observe(STATUS_GAUGE_VALUE[health.status], { component });
      }
    },
    lastWalletScan: (observe) => {
      if (bot.lastSuccessfulScanAt !== null) observe(bot.lastSuccessfulScanAt / 1000);
    },
    walletsWatched: (observe) => {
      const watched = bot.walletMonitor?.walletsWatched;
      if (watched !== undefined && watched !== null) observe(watched);
    },
    apiSuccessRatio: (observe) => {
      for (const api of bot.apis.apis()) {
        const ratio = bot.apis.successRatio(api);
        if (ratio !== undefined) observe(ratio, { api });
      }
    },
    apiConsecutiveFailures: (observe) => {
      for (const api of bot.apis.apis()) observe(bot.apis.consecutiveFailures(api), { api });
    },
    dailyPnl: (observe) => {
      if (bot.pnl) observe(bot.pnl.pnlUsd);
    },
    dailyLossRatio: (observe) => {
      if (bot.pnl) observe(bot.pnl.lossRatio);
    },
    tradeExecutorBreaker: (observe) => {
      const open = bot.tradeExecutor?.circuitBreakerOpen;
      if (typeof open === 'boolean') observe(open ? 1 : 0);
    },
    eventLoopDelayP50: (observe) => {
      const w = eventLoop.last;
      if (w) observe(w.p50);
    },
    eventLoopDelayP99: (observe) => {
      const w = eventLoop.last;
      if (w) observe(w.p99);
    },
    alertRoute: (observe) => observe(1, { route: alertRoute() }),
    eventLoopDelayMax: (observe) => {
      const w = eventLoop.last;
      if (w) observe(w.max);
    },
  };
}
