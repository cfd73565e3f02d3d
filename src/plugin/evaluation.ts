/**
 * The evaluation part: every collection of the evaluating reader is one cycle — monitoring
 * breaker, the in-process rules of the catalog over the collected data, component health,
 * notifications — at MONITOR_INTERVAL_SECONDS, whether or not anyone scrapes.
 */
import type { MonitoringConfig } from '../core/config.js';
import { log } from '../core/log.js';
import { AlertHistory } from '../rules/alert-history.js';
import type { MonitoringCircuitBreaker } from '../rules/breaker.js';
import { RULES, type RuleSettings } from '../rules/catalog.js';
import { HEALTH_CHECKS } from '../rules/checks.js';
import { CollectedMetrics } from '../rules/collected.js';
import { Evaluator } from '../rules/evaluator.js';
import type { BotState } from '../state/bot-state.js';
import type { EventLoopDelay } from '../state/event-loop.js';
import type { HealthBoard } from '../state/health-board.js';
import type { SystemSampler } from '../state/system-sampler.js';
import type { Alerting } from './alerting.js';
import { PACKAGE_NAME, type Telemetry } from './telemetry.js';

const MIB = 1024 * 1024;
/**
 * A second cycle this long after the first: the first runs before the bot's own code (the preload
 * starts first), so what the bot reports as it starts — a daily loss carried over, its breaker
 * already open — is judged within a second rather than a whole interval later.
 */
const SECOND_CYCLE_MS = 1_000;
/** How far back the rules' windows look (the trade-failure share's 5 minutes, with a cycle to spare). */
const RULE_WINDOW_MS = 6 * 60_000;

export interface Evaluation {
  /** True once the first cycle has run. */
  readonly ready: () => boolean;
  /** Settles when the first cycle has run. */
  readonly firstCycle: Promise<void>;
  /** No more cycles: the final flush at shutdown is not one. */
  stop(): void;
}

export interface EvaluationOptions {
  readonly config: MonitoringConfig;
  readonly settings: RuleSettings;
  readonly state: { bot: BotState; sampler: SystemSampler; board: HealthBoard; eventLoop: EventLoopDelay; breaker: MonitoringCircuitBreaker };
  readonly telemetry: Telemetry;
  readonly alerting: Alerting;
  readonly startedAt: number;
  readonly now: () => number;
  readonly monotonic: () => number;
}

export function startEvaluation({ config, settings, state, telemetry, alerting, startedAt, now, monotonic }: EvaluationOptions): Evaluation {
  const { bot, sampler, board, eventLoop, breaker } = state;
  const { counters, histograms } = telemetry.instruments;
  const evaluator = new Evaluator({
    sampler,
    board,
    breaker,
    history: new AlertHistory({
      duplicateWindowMs: config.duplicateAlertWindowMinutes * 60_000,
      cooldownMs: config.alertCooldownMinutes * 60_000,
      now,
    }),
    rules: RULES,
    settings,
    checks: HEALTH_CHECKS,
    collected: new CollectedMetrics(PACKAGE_NAME, RULE_WINDOW_MS),
    facts: (sample) => ({ bot, rssMb: sample.rssBytes / MIB, startedAt }),
    inputs: (at) => ({ breaker: breaker.state, alerts: { ...alerting.view }, bot, now: at }),
    alertsEnabled: config.alertEnabled,
    pluginLoad: telemetry.pluginLoad,
    onBreaker: alerting.breaker,
    onDecision: alerting.decision,
    onSuppressed: (count) => counters.alertsSuppressed.add(count),
    onCycle: (overall, seconds) => {
      counters.healthChecks.add(1, { status: overall });
      histograms.healthCheckDuration.record(seconds);
      telemetry.selfTime('evaluation', seconds * 1000);
    },
    onCheckError: (what, error) => log().warn(`health check for ${what} failed: ${String(error)}`),
    now,
    monotonic,
  });

  let ready = false;
  let markReady: () => void = () => {};
  const firstCycle = new Promise<void>((resolve) => (markReady = resolve));
  telemetry.evaluatingReader.setCycle((metrics) => {
    telemetry.held(metrics);
    eventLoop.roll();
    telemetry.drainUnscraped();
    evaluator.runCycle(metrics);
    alerting.cycleDone();
    if (!ready) {
      ready = true;
      markReady();
    }
  });
  // The first cycle runs right away: the servers open once it has, so no client sees a half-empty picture.
  const runNow = (which: string) => () =>
    void telemetry.evaluatingReader.forceFlush().catch((error: unknown) => {
      log().warn(`${which} evaluation failed: ${String(error)}`);
    });
  runNow('first')();
  const second = setTimeout(runNow('second'), SECOND_CYCLE_MS);
  second.unref();
  return {
    ready: () => ready,
    firstCycle,
    stop: () => {
      clearTimeout(second);
      telemetry.evaluatingReader.setCycle(undefined);
    },
  };
}
