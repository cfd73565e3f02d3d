/**
 * Node.js runtime metrics under the OpenTelemetry semantic-convention names (v8js.*, nodejs.*),
 * the ones @opentelemetry/instrumentation-runtime-node publishes and stock Node.js dashboards
 * read — without that package: it measures event-loop delay with perf_hooks at a 10 ms
 * resolution (about 1 % of a core on a small VM, the plugin's whole budget) and brings the
 * instrumentation loader with it. Here the delay comes from the plugin's own 1 s monitor
 * (state/event-loop.ts), heap figures from V8 at each collection, GC pauses from a
 * PerformanceObserver that V8 calls once per batch of collections.
 *
 * The heap and event-loop figures are readings (./readings.ts), handed to each reader as read: as
 * observable instruments they had cost 40 % of a scrape's collection (measured on the demo bot:
 * 1.03 → 0.62 ms and 432 → 277 KB of garbage per collection without them). Heap spaces V8 has
 * never used (the shared and read-only spaces of a process without shared structs: 8 of Node 24's
 * 13) are left out until they are used, and then stay.
 *
 * On /metrics these carry the unit suffixes the OpenTelemetry → Prometheus rules add
 * (v8js_memory_heap_used_bytes, nodejs_eventloop_delay_p99_seconds, v8js_gc_duration_seconds):
 * the exposition suffixes the instruments of RUNTIME_SCOPE, and only those, since the plugin's
 * monitoring_* names carry theirs already.
 */
import { constants, PerformanceObserver, performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Attributes, HrTime, Meter } from '@opentelemetry/api';
import type { DataPoint, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { LoopDelayWindow } from '../state/event-loop.js';
import { NO_ATTRIBUTES, readingData, readingDescriptor, readingTime, readingsProducer } from './readings.js';

/** The meter (instrumentation scope) of the runtime instruments. */
export const RUNTIME_SCOPE = 'polymarket-bot-monitoring-runtime';

/** What /metrics shows of them (docs/metrics.md lists these; test/runtime-metrics.test.ts checks both). */
export const RUNTIME_SERIES = [
  'v8js_memory_heap_used_bytes',
  'v8js_memory_heap_limit_bytes',
  'v8js_heap_space_available_size_bytes',
  'v8js_heap_space_physical_size_bytes',
  'v8js_gc_duration_seconds',
  'nodejs_eventloop_utilization_ratio',
  'nodejs_eventloop_delay_p50_seconds',
  'nodejs_eventloop_delay_p99_seconds',
  'nodejs_eventloop_delay_max_seconds',
] as const;

/** Semantic-convention buckets for v8js.gc.duration (seconds). */
const GC_BUCKETS = [0.01, 0.1, 1, 10];

const GC_TYPES: ReadonlyArray<readonly [number, string]> = [
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];
const GC_ATTRIBUTES = new Map<number, Attributes>(GC_TYPES.map(([kind, type]) => [kind, Object.freeze({ 'v8js.gc.type': type })]));

export interface RuntimeMetrics {
  stop(): void;
}

const HEAP_USED = readingDescriptor('v8js.memory.heap.used', 'By', 'Heap memory in use, by V8 heap space.');
const HEAP_LIMIT = readingDescriptor('v8js.memory.heap.limit', 'By', 'Heap memory V8 may use, by heap space.');
const AVAILABLE = readingDescriptor('v8js.heap.space.available_size', 'By', 'Heap space still available, by heap space.');
const PHYSICAL = readingDescriptor('v8js.heap.space.physical_size', 'By', 'Committed size of a heap space.');
const UTILIZATION = readingDescriptor('nodejs.eventloop.utilization', '1', 'Share of time the event loop was busy since the last reading.');
const DELAY_P50 = readingDescriptor('nodejs.eventloop.delay.p50', 's', 'Median event-loop delay over the last evaluation cycle.');
const DELAY_P99 = readingDescriptor('nodejs.eventloop.delay.p99', 's', '99th percentile of event-loop delay over the last evaluation cycle.');
const DELAY_MAX = readingDescriptor('nodejs.eventloop.delay.max', 's', 'Longest event-loop delay over the last evaluation cycle.');

/**
 * The heap and event-loop readings, as a MetricProducer every reader of the plugin is given. Each
 * collection reads V8's heap spaces once and the loop's last closed window; nothing is kept
 * between collections but the attributes objects (one per heap space, so the exposition's label
 * cache finds them) and the utilisation's last reading.
 *
 * @param loopDelay the last closed window of the plugin's event-loop monitor.
 */
export function createRuntimeProducer(version: string, loopDelay: () => LoopDelayWindow | undefined): MetricProducer {
  const startTime = readingTime();
  const spaces = new Map<string, Attributes>();
  const used = new Set<string>();
  const spaceAttributes = (name: string): Attributes => {
    let attributes = spaces.get(name);
    if (attributes === undefined) spaces.set(name, (attributes = { 'v8js.heap.space.name': name }));
    return attributes;
  };

  // Utilisation between readings at least a second apart (several readers collect at nearly the
  // same moment; the second would see a few microseconds of loop and report noise).
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let lastAt = performance.now();
  let reading: number | undefined;
  const utilization = (): number | undefined => {
    if (performance.now() - lastAt >= 1_000 || reading === undefined) {
      const now = performance.eventLoopUtilization();
      reading = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      lastAt = performance.now();
    }
    return Number.isFinite(reading) ? reading : undefined;
  };

  const read = (): MetricData[] => {
    const endTime: HrTime = readingTime();
    const point = (value: number, attributes: Attributes = NO_ATTRIBUTES, start: HrTime = startTime): DataPoint<number> => ({ startTime: start, endTime, attributes, value });
    const heap: [DataPoint<number>[], DataPoint<number>[], DataPoint<number>[], DataPoint<number>[]] = [[], [], [], []];
    for (const space of v8.getHeapSpaceStatistics()) {
      if (!used.has(space.space_name)) {
        if (space.space_size === 0 && space.physical_space_size === 0) continue;
        used.add(space.space_name);
      }
      const attributes = spaceAttributes(space.space_name);
      heap[0].push(point(space.space_used_size, attributes));
      heap[1].push(point(space.space_size, attributes));
      heap[2].push(point(space.space_available_size, attributes));
      heap[3].push(point(space.physical_space_size, attributes));
    }
    const metrics = [
      readingData(HEAP_USED, 'sum', heap[0]),
      readingData(HEAP_LIMIT, 'sum', heap[1]),
      readingData(AVAILABLE, 'sum', heap[2]),
      readingData(PHYSICAL, 'sum', heap[3]),
    ];
    const busy = utilization();
    if (busy !== undefined) metrics.push(readingData(UTILIZATION, 'gauge', [point(busy, NO_ATTRIBUTES, endTime)]));
    const window = loopDelay();
    if (window !== undefined) {
      metrics.push(
        readingData(DELAY_P50, 'gauge', [point(window.p50, NO_ATTRIBUTES, endTime)]),
        readingData(DELAY_P99, 'gauge', [point(window.p99, NO_ATTRIBUTES, endTime)]),
        readingData(DELAY_MAX, 'gauge', [point(window.max, NO_ATTRIBUTES, endTime)]),
      );
    }
    return metrics;
  };

  return readingsProducer({ name: RUNTIME_SCOPE, version }, read);
}

/**
 * GC pauses, by type: a histogram on the runtime meter (a pause is an event, aggregated like any
 * other), fed through the measurement batch.
 *
 * @param record hands a GC pause to `sink` (the histogram's record) through the measurement batch.
 */
export function startRuntimeMetrics(
  meter: Meter,
  record: (sink: (seconds: number, attributes: Attributes) => void, seconds: number, attributes: Attributes) => void,
): RuntimeMetrics {
  const gcDuration = meter.createHistogram('v8js.gc.duration', {
    unit: 's',
    description: 'Garbage-collection pauses, by type.',
    advice: { explicitBucketBoundaries: GC_BUCKETS },
  });
  const recordGc = (seconds: number, attributes: Attributes): void => gcDuration.record(seconds, attributes);

  let observer: PerformanceObserver | undefined;
  try {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = ((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
        record(recordGc, entry.duration / 1000, GC_ATTRIBUTES.get(kind ?? -1) ?? GC_ATTRIBUTES.get(constants.NODE_PERFORMANCE_GC_MAJOR)!);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  } catch {
    observer = undefined; // GC pauses off; everything else stays.
  }
  return {
    stop: () => observer?.disconnect(),
  };
}
