/**
 * Section 2c's attribution of the event-loop delay tail (bench/loop-delay.mjs attributeTail):
 * which late samples were the bot's own work and which the machine's, on synthetic samples.
 */
import { describe, expect, it } from 'vitest';
import { attributeTail } from '../bench/loop-delay.mjs';

/** 200 samples 10 ms apart from t0, lateness 0.1 ms and CPU 0.05 ms, with some made late. */
function bot(t0: number, late: Record<number, [number, number]>) {
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const [ms, cpu] = late[i] ?? [0.1, 0.05];
    samples.push(t0 + i * 10, ms, cpu);
  }
  return { intervalMs: 10, samples };
}

describe('event-loop delay tail attribution', () => {
  it("sets the bar at the baseline's pooled p99 and splits late samples into on CPU, off CPU and shared", () => {
    const t0 = 1_000_000;
    const round = {
      // Two late samples: the 50th (shared with the plugin's 50th) and the 150th (its own).
      none: bot(t0, { 50: [2, 0], 150: [3, 0.1] }),
      // Late at the 50th while hardly running (the machine), at the 120th while running (its own work).
      plugin: bot(t0 + 1, { 50: [2.5, 0.2], 120: [4, 3.5] }),
    };
    const { threshold, bots: found } = attributeTail([round]);
    const bots = { none: found.none!, plugin: found.plugin! };
    expect(threshold).toBe(2);
    // 200 samples of 10 ms = 1/30 minute.
    expect(bots.none.tailPerMinute).toBeCloseTo(60);
    expect(bots.none.onCpuPerMinute).toBe(0);
    expect(bots.none.sharedShare).toBe(0.5);
    expect(bots.plugin.onCpuPerMinute).toBeCloseTo(30);
    expect(bots.plugin.offCpuPerMinute).toBeCloseTo(30);
    expect(bots.plugin.sharedShare).toBe(0.5);
    expect(bots.plugin.p99).toBe(2.5);
    expect(bots.plugin.ratioP99).toBeCloseTo(1.25);
  });

  it('pools every round before taking the p99', () => {
    const quiet = bot(0, {});
    const loud = bot(5_000, { 10: [5, 0], 20: [5, 0], 30: [5, 0], 40: [5, 0] });
    const none = attributeTail([{ none: quiet }, { none: loud }]).bots.none!;
    // 400 samples, 4 late: the p99 (index 396 of the sorted 400) is a late one; the quiet round alone would say 0.1 ms.
    expect(none.samples).toBe(400);
    expect(none.p99).toBe(5);
  });
});
