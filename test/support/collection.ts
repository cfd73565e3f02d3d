/**
 * Collections for the rule tests, built synchronously from the plugin's real gauge readers (what
 * the SDK would call at a collection) and from trade counts the test sets, in the shape the SDK
 * hands a metric reader. test/rules/collected.test.ts proves CollectedMetrics reads a real SDK
 * collection the same way.
 */
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import { gaugeReaders, type GaugeSources } from '../../src/metrics/gauges.js';
import { METRICS } from '../../src/metrics/catalog.js';
import { PACKAGE_NAME } from '../../src/plugin/telemetry.js';
import type { EventLoopDelay } from '../../src/state/event-loop.js';

/** An event-loop reading that has no window yet (the rules do not read it). */
export const NO_EVENT_LOOP = { last: undefined } as unknown as EventLoopDelay;

/** Cumulative trade operations by outcome (the histogram's count per series). */
export type TradeCounts = Partial<Record<string, number>>;

export function collectionOf(sources: Omit<GaugeSources, 'eventLoop' | 'alertRoute'> & Partial<GaugeSources>, trades: TradeCounts = {}): ResourceMetrics {
  const readers = gaugeReaders({ eventLoop: NO_EVENT_LOOP, alertRoute: () => 'plugin', ...sources });
  const time: [number, number] = [0, 0];
  const metrics = Object.entries(readers).map(([key, read]) => {
    const points: { attributes: Attributes; value: number; startTime: [number, number]; endTime: [number, number] }[] = [];
    read((value, attributes = {}) => points.push({ attributes, value, startTime: time, endTime: time }));
    return {
      descriptor: { name: METRICS[key as keyof typeof METRICS].name, description: '', unit: '', type: 'OBSERVABLE_GAUGE', valueType: 1 },
      dataPointType: DataPointType.GAUGE,
      aggregationTemporality: 1,
      dataPoints: points,
    };
  });
  metrics.push({
    descriptor: { name: METRICS.tradeExecutionDuration.name, description: '', unit: 's', type: 'HISTOGRAM', valueType: 1 },
    dataPointType: DataPointType.HISTOGRAM,
    aggregationTemporality: 1,
    dataPoints: Object.entries(trades).map(([outcome, count]) => ({
      attributes: { operation: 'place', side: 'buy', outcome },
      value: { count: count ?? 0, sum: 0, buckets: { boundaries: [], counts: [] } } as unknown as number,
      startTime: time,
      endTime: time,
    })),
  });
  return { resource: {} as ResourceMetrics['resource'], scopeMetrics: [{ scope: { name: PACKAGE_NAME }, metrics }] } as unknown as ResourceMetrics;
}
