/**
 * CollectedMetrics over a real SDK collection: the plugin's instruments on a MeterProvider with a
 * metric reader, the gauges reading a BotState, trades recorded on the real histogram. What the
 * rules read is what the SDK collected — the data Prometheus scrapes.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics/catalog.js';
import { gaugeReaders } from '../../src/metrics/gauges.js';
import { createGaugeProducer, createInstruments } from '../../src/metrics/instruments.js';
import { PACKAGE_NAME } from '../../src/plugin/telemetry.js';
import { CollectedMetrics } from '../../src/rules/collected.js';
import { BotState } from '../../src/state/bot-state.js';
import { HealthBoard } from '../../src/state/health-board.js';
import type { SystemSampler } from '../../src/state/system-sampler.js';
import { NO_EVENT_LOOP } from '../support/collection.js';

class Reader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const MINUTE = 60_000;

async function setup() {
  const bot = new BotState(() => 0);
  const sampler = { last: { cpuPercent: 3, rssBytes: 100 * 1024 * 1024 } } as unknown as SystemSampler;
  const gauges = createGaugeProducer({
    scope: { name: PACKAGE_NAME },
    gauges: gaugeReaders({ sampler, board: new HealthBoard(), breaker: () => ({ tripped: false, reason: null }), bot, eventLoop: NO_EVENT_LOOP, alertRoute: () => 'plugin' }),
    onGaugeError: () => {},
  });
  const reader = new Reader({ metricProducers: [gauges] });
  const provider = new MeterProvider({ readers: [reader] });
  const instruments = createInstruments(provider.getMeter(PACKAGE_NAME));
  const collected = new CollectedMetrics(PACKAGE_NAME, 5 * MINUTE);
  const collect = async (at: number): Promise<void> => {
    const { resourceMetrics } = await reader.collect();
    collected.update(resourceMetrics, at);
  };
  const trade = (outcome: string, times = 1): void => {
    for (let i = 0; i < times; i++) instruments.histograms.tradeExecutionDuration.record(0.1, { operation: 'place', side: 'buy', outcome });
  };
  return { provider, bot, collected, collect, trade };
}

describe('CollectedMetrics over a real collection', () => {
  it('reads gauges by their exposed names, with their labels', async () => {
    const { provider, bot, collected, collect } = await setup();
    bot.reportPnl({ pnlUsd: -1_300, startingBalanceUsd: 10_000 });
    bot.apis.record('clob', false);
    await collect(0);
    expect(collected.value(METRICS.dailyLossRatio.name)).toBeCloseTo(0.13);
    expect(collected.gauge(METRICS.apiConsecutiveFailures.name)).toEqual([{ labels: { api: 'clob' }, value: 1 }]);
    expect(collected.gauge(METRICS.alertRoute.name)).toEqual([{ labels: { route: 'plugin' }, value: 1 }]);
    expect(collected.value(METRICS.tradeExecutorBreaker.name)).toBeUndefined();
    await provider.shutdown();
  });

  it('answers increase() over a window from the cumulative histogram counts, per label filter', async () => {
    const { provider, collected, collect, trade } = await setup();
    const name = METRICS.tradeExecutionDuration.name;
    const failed = (labels: Record<string, string>): boolean => labels.outcome === 'rejected';
    trade('filled', 5);
    await collect(0);
    // Younger than the window: everything since start counts.
    expect(collected.increase(name, 5 * MINUTE)).toBe(5);
    trade('rejected', 3);
    await collect(2 * MINUTE);
    expect(collected.increase(name, 5 * MINUTE)).toBe(8);
    expect(collected.increase(name, 5 * MINUTE, failed)).toBe(3);
    trade('filled', 1);
    await collect(6 * MINUTE);
    // The window is (1 min, 6 min]: the baseline is the collection at 0 min (the newest at or before 1 min).
    expect(collected.increase(name, 5 * MINUTE)).toBe(4);
    await collect(8 * MINUTE);
    // (3 min, 8 min]: baseline at 2 min, after the rejections.
    expect(collected.increase(name, 5 * MINUTE, failed)).toBe(0);
    expect(collected.increase(name, 5 * MINUTE)).toBe(1);
    await provider.shutdown();
  });
});
