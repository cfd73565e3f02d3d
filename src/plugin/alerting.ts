/**
 * The alerting part: the notifier with its sinks (the log always, Telegram when configured), the
 * per-trade notices, the wording of rule decisions and breaker transitions, and the alert route
 * (ALERT_ROUTE) that decides which of them the plugin sends to Telegram itself.
 */
import type { AlertRoute, MonitoringConfig, NotifyMode } from '../core/config.js';
import { log, writeLine } from '../core/log.js';
import type { SelfActivity } from '../core/model.js';
import { createLogSink } from '../alerts/log-sink.js';
import { Notifier, type Draft } from '../alerts/notifier.js';
import { createTelegramSink } from '../alerts/telegram.js';
import { createTradeNotices, isRoutineOutcome, tradeModes } from '../alerts/trade-notices.js';
import type { Deferred } from '../core/defer.js';
import type { AlertSink, DeliveryObserver } from '../alerts/types.js';
import type { TradeEvent } from '../ingest/subscribers.js';
import type { Instruments } from '../metrics/instruments.js';
import type { Decision } from '../rules/alert-history.js';
import type { BreakerTransition } from '../rules/breaker.js';
import { notifiesInProcess, ruleNamed, textFor, type RuleDef, type RuleName, type RuleSettings } from '../rules/catalog.js';
import type { AlertDeliveryView } from '../rules/checks.js';
import { isFailure } from '../core/model.js';

/** After a recovery, the breaker's next trip and recovery within this time go to the log only. */
const BREAKER_QUIET_MS = 30 * 60_000;

export interface Alerting {
  /** What the alert_system check reads; `droppedSinceLastCycle` is reset by `cycleDone`. */
  readonly view: AlertDeliveryView;
  /** The route in effect: `alertmanager` whenever the plugin has no Telegram to send to. */
  readonly route: AlertRoute;
  /** A rule decision of the evaluation cycle. */
  decision(decision: Decision): void;
  /** A monitoring-breaker transition. */
  breaker(transition: BreakerTransition): void;
  /** A trade the bot made; absent when alerting is off (nothing to build). */
  readonly trade: ((trade: TradeEvent) => void) | undefined;
  cycleDone(): void;
  /** Writes pending trade digests and gives queued alerts `timeoutMs` to go out. */
  flush(timeoutMs: number): Promise<void>;
  /** Flushes within `timeoutMs`, then drops what is still queued. */
  stop(timeoutMs: number): Promise<void>;
  /** The bot dies now: what is still queued for Telegram is dropped. */
  abandon(): void;
}

export interface AlertingOptions {
  readonly config: MonitoringConfig;
  readonly settings: RuleSettings;
  readonly instruments: Instruments;
  readonly selfTime: (activity: SelfActivity, ms: number) => void;
  /** True while the monitoring breaker sheds per-event notices. */
  readonly shedding: () => boolean;
  readonly now: () => number;
  readonly monotonic: () => number;
}

export function startAlerting({ config, settings, instruments, selfTime, shedding, now, monotonic }: AlertingOptions): Alerting {
  const { counters } = instruments;
  const view = { telegramConfigured: Boolean(config.telegramBotToken && config.telegramChatId), lastDelivery: null as 'ok' | 'failed' | null, droppedSinceLastCycle: 0 };
  const telegram = telegramSink(config, view, counters, selfTime);
  const route: AlertRoute = config.alertEnabled && telegram ? config.alertRoute : 'alertmanager';
  const notifier = new Notifier(
    {
      // One line per notice, a trade notice at the bot's pace: the direct path to the same log.
      log: createLogSink({
        debug: (message, meta) => writeLine(log(), 'debug', message, meta),
        info: (message, meta) => writeLine(log(), 'info', message, meta),
        warn: (message, meta) => writeLine(log(), 'warn', message, meta),
      }),
      telegram,
    },
    config.alertEnabled,
    now,
  );
  /** Telegram's mode for a rule: its ALERT_ON_* setting, or log only when Alertmanager sends it. */
  const modeOf = (rule: RuleDef): NotifyMode => {
    if (!notifiesInProcess(rule, route)) return 'off';
    return rule.notice === 'circuit_breaker' ? config.alertOnCircuitBreaker : config.alertOnError;
  };

  // A host whose load hovers around the threshold trips and recovers again and again: after a
  // recovery, the breaker's next trip (and its recovery) within BREAKER_QUIET_MS go to the log only.
  let quietUntil = -Infinity;
  let quietTrip = false;
  const breaker = (transition: BreakerTransition): void => {
    const { rule, draft } = breakerDraft(transition, config.adminToken !== undefined, settings);
    if (transition.type === 'tripped') quietTrip = transition.at < quietUntil;
    const quiet = quietTrip && transition.type !== 'reset';
    if (transition.type === 'recovered' || transition.type === 'reset') {
      quietUntil = transition.at + BREAKER_QUIET_MS;
      quietTrip = false;
    }
    // The breaker is the plugin's own business: always in the log, to Telegram per ALERT_ON_CIRCUIT_BREAKER.
    notifier.notify(draft, quiet ? 'off' : modeOf(rule));
  };

  // Trade notices are formatted and logged on the next turn of the loop, never inside the bot's
  // traceTradeExecution call.
  const trades: Deferred<TradeEvent> = createTradeNotices({
    notify: (draft, mode) => notifier.notify(draft, mode),
    mode: config.alertOnTrade,
    shed: shedding,
    onSuppressed: () => counters.alertsSuppressed.add(1),
    onBufferDrop: () => counters.alertsDropped.add(1),
    onError: (error) => log().warn(`trade notice failed: ${String(error)}`),
    monotonic,
  });
  // A trade that went through is a debug line in the log: with Telegram not taking trade notices
  // and the log above debug, nobody would read its notice, so none is built (it was most of the
  // plugin's own CPU at a steady trading pace).
  const executedNoticeWanted =
    (telegram !== undefined && tradeModes(config.alertOnTrade).routine !== 'off') || log().isLevelEnabled('debug');

  return {
    view,
    route,
    decision: (decision) => {
      const rule = ruleNamed(decision.condition.rule as RuleName);
      notifier.notify(decisionDraft(decision), modeOf(rule));
    },
    breaker,
    trade: config.alertEnabled
      ? (trade) => {
          if (isFailure(trade.outcome) || (executedNoticeWanted && isRoutineOutcome(trade.outcome))) trades.push(trade);
        }
      : undefined,
    cycleDone: () => {
      view.droppedSinceLastCycle = 0;
    },
    flush: async (timeoutMs) => {
      trades.flush();
      await notifier.drain(timeoutMs);
    },
    stop: async (timeoutMs) => {
      trades.flush();
      // Alerts already queued get the flush's time bound to go out; then nothing is retried.
      await notifier.drain(timeoutMs);
      notifier.close();
    },
    abandon: () => notifier.close(),
  };
}

/** The Telegram sink, when configured; a bad token costs one line and leaves alerts in the log. */
function telegramSink(
  config: MonitoringConfig,
  view: { lastDelivery: 'ok' | 'failed' | null; droppedSinceLastCycle: number },
  counters: Instruments['counters'],
  selfTime: (activity: SelfActivity, ms: number) => void,
): AlertSink | undefined {
  if (!config.alertEnabled || !config.telegramBotToken || !config.telegramChatId) return undefined;
  const observer: DeliveryObserver = {
    sent: (severity) => counters.alertsSent.add(1, { severity }),
    failed: (reason) => counters.alertsFailed.add(1, { reason }),
    dropped: () => {
      counters.alertsDropped.add(1);
      view.droppedSinceLastCycle += 1;
    },
    lastDelivery: (ok) => {
      view.lastDelivery = ok ? 'ok' : 'failed';
    },
    busy: (ms) => selfTime('alert_delivery', ms),
  };
  try {
    return createTelegramSink({
      token: config.telegramBotToken,
      chatId: config.telegramChatId,
      apiUrl: config.telegramApiUrl.replace(/\/+$/, ''),
      staging: config.botEnv === 'staging',
      observer,
      logger: log(),
    });
  } catch (error) {
    log().error(`Telegram alerts disabled: ${error instanceof Error ? error.message : String(error)}; alerts go to the log only`);
    return undefined;
  }
}

function decisionDraft(decision: Decision): Draft {
  const { rule, component, severity, title, description } = decision.condition;
  if (decision.kind === 'resolved') return { kind: 'resolved', rule, component, severity, title, description };
  const note = decision.cause === 'reminder' ? ' (still firing)' : decision.cause === 'escalation' ? ' (escalated)' : '';
  return { kind: 'firing', rule, component, severity, title, description: `${description}${note}` };
}

function breakerDraft(transition: BreakerTransition, resettable: boolean, settings: RuleSettings): { rule: RuleDef; draft: Draft } {
  const named = (name: RuleName, description: string): { rule: RuleDef; draft: Draft } => {
    const rule = ruleNamed(name);
    const severity = rule.severity === 'none' ? 'info' : rule.severity;
    return { rule, draft: { kind: 'event', component: 'circuit_breaker', rule: name, severity, title: textFor(rule.summary, settings), description } };
  };
  switch (transition.type) {
    case 'tripped':
      return named(
        'PolymarketBotMonitoringCircuitBreakerTripped',
        `${transition.reason}; monitoring sheds its own extra work (spans, per-trade notices) until the load recovers. Health checks and alerts (daily loss, trade breaker, stalled scans, API failures) go on; /metrics still answers.`,
      );
    case 'gave_up':
      return named(
        'PolymarketBotMonitoringCircuitBreakerGaveUp',
        `still tripped after ${transition.attempts} recovery attempts (${transition.reason}); spans and per-trade notices stay off until a manual reset${
          resettable ? ' (POST /admin/circuit-breaker/reset)' : ' (set MONITORING_ADMIN_TOKEN to enable the reset endpoint, or restart the bot)'
        }`,
      );
    case 'recovered':
      return named('PolymarketBotMonitoringCircuitBreakerRecovered', `${transition.reason}; monitoring resumed`);
    case 'reset':
      return named('PolymarketBotMonitoringCircuitBreakerReset', `${transition.reason}; monitoring resumed`);
  }
}
