import { describe, expect, it } from 'vitest';
import { DELIVERY_RANK, deliveryRank } from '../../src/alerts/priority.js';

describe('deliveryRank', () => {
  it('puts critical before warning before info before routine', () => {
    const ranks = [
      deliveryRank({ kind: 'firing', severity: 'critical' }),
      deliveryRank({ kind: 'firing', severity: 'warning' }),
      deliveryRank({ kind: 'firing', severity: 'info' }),
      deliveryRank({ kind: 'event', severity: 'info', routine: true }),
    ];
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(ranks).size).toBe(4);
  });

  it('ranks a resolved message as the condition it resolves', () => {
    expect(deliveryRank({ kind: 'resolved', severity: 'critical' })).toBe(DELIVERY_RANK.critical);
    expect(deliveryRank({ kind: 'resolved', severity: 'warning' })).toBe(DELIVERY_RANK.warning);
  });

  it("ranks every money condition, even a warning, above the plugin's own critical breaker notice", () => {
    // MonitoringCircuitBreakerTripped is a critical event; the bot's trade breaker is a warning condition.
    const ownBreaker = deliveryRank({ kind: 'event', severity: 'critical' });
    for (const severity of ['critical', 'warning'] as const) {
      expect(deliveryRank({ kind: 'firing', severity })).toBeLessThan(ownBreaker);
    }
  });

  it('ranks a failed-trade notice below the conditions and above routine fills', () => {
    const failed = deliveryRank({ kind: 'event', severity: 'warning' });
    expect(failed).toBeGreaterThan(DELIVERY_RANK.warning);
    expect(failed).toBeLessThan(deliveryRank({ kind: 'event', severity: 'info', routine: true }));
  });
});
