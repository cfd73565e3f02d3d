/**
 * ALERT_ROUTE over the catalog: which of its own notices the plugin sends to Telegram. What only
 * the plugin sees always goes; a condition Prometheus evaluates too goes from the plugin unless
 * the route is alertmanager.
 */
import { describe, expect, it } from 'vitest';
import { ALERT_ROUTES } from '../../src/core/config.js';
import { notifiesInProcess, ruleNamed, RULES, type RuleDef } from '../../src/rules/catalog.js';

const sentBy = (route: (typeof ALERT_ROUTES)[number]): string[] =>
  (RULES as readonly RuleDef[]).filter((rule) => (rule.inProcess || rule.event) && notifiesInProcess(rule, route)).map((rule) => rule.name);

describe('ALERT_ROUTE', () => {
  it('sends every in-process notice from the plugin under plugin and both', () => {
    const all = (RULES as readonly RuleDef[]).filter((rule) => rule.inProcess || rule.event).map((rule) => rule.name);
    expect(sentBy('plugin')).toEqual(all);
    expect(sentBy('both')).toEqual(all);
  });

  it('keeps to the log, under alertmanager, exactly the conditions Prometheus evaluates too', () => {
    const sent = sentBy('alertmanager');
    expect(sent).not.toContain('PolymarketBotDailyLossCritical');
    expect(sent).not.toContain('PolymarketBotTradeFailures');
    expect(sent).not.toContain('PolymarketBotApiConsecutiveFailures');
    // Seen by the plugin only: still its to send.
    expect(sent).toContain('PolymarketBotMainLoopStalled');
    expect(sent).toContain('PolymarketBotMemoryCritical');
    expect(sent).toContain('PolymarketBotTradeFailed');
    expect(sent).toContain('PolymarketBotMonitoringCircuitBreakerGaveUp');
  });

  it("leaves the monitoring breaker's trip, which Prometheus sees too, to one side only", () => {
    const tripped = ruleNamed('PolymarketBotMonitoringCircuitBreakerTripped');
    expect(ALERT_ROUTES.filter((route) => notifiesInProcess(tripped, route))).toEqual(['plugin', 'both']);
  });
});
