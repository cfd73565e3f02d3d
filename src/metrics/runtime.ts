/**
 * Node.js runtime metrics under the OpenTelemetry semantic-convention names (v8js.*, nodejs.*),
 * the ones @opentelemetry/instrumentation-runtime-node publishes and stock Node.js dashboards
 * read — without that package: it measures event-loop delay with perf_hooks at a 10 ms
 * resolution (about 1 % of a core on a small VM, the plugin's whole budget) and brings the
 * instrumentation loader with it. Here the delay comes from the plugin's own 500 ms monitor
 * (state/event-loop.ts), heap figures from V8 at each collection, GC pauses from a
 * PerformanceObserver that V8 calls once per batch of collections.
 *
 * On /metrics these carry the unit suffixes the OpenTelemetry → Prometheus rules add
 * (v8js_memory_heap_used_bytes, nodejs_eventloop_delay_p99_seconds, v8js_gc_duration_seconds):
 * the exposition suffixes the instruments of RUNTIME_SCOPE, and only those, since the plugin's
 * monitoring_* names carry theirs already.
 */
import { constants, PerformanceObserver, performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Attributes, Meter } from '@opentelemetry/api';
import type { LoopDelayWindow } from '../state/event-loop.js';

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
const GC_ATTRIBUTES = new Map<number, Attributes>(GC_TYPES.map(([kind, type]) => [kind, { 'v8js.gc.type': type }]));

export interface RuntimeMetrics {
  stop(): void;
}

/**
 * @param loopDelay the last closed window of the plugin's event-loop monitor.
 * @param record hands a GC pause to `sink` (the histogram's record) through the measurement batch.
 */
export function startRuntimeMetrics(
  meter: Meter,
  loopDelay: () => LoopDelayWindow | undefined,
  record: (sink: (seconds: number, attributes: Attributes) => void, seconds: number, attributes: Attributes) => void,
): RuntimeMetrics {
  const spaces = new Map<string, Attributes>();
  const spaceAttributes = (name: string): Attributes => {
    let attributes = spaces.get(name);
    if (attributes === undefined) spaces.set(name, (attributes = { 'v8js.heap.space.name': name }));
    return attributes;
  };

  const heapUsed = meter.createObservableUpDownCounter('v8js.memory.heap.used', { unit: 'By', description: 'Heap memory in use, by V8 heap space.' });
  const heapLimit = meter.createObservableUpDownCounter('v8js.memory.heap.limit', { unit: 'By', description: 'Heap memory V8 may use, by heap space.' });
  const available = meter.createObservableUpDownCounter('v8js.heap.space.available_size', { unit: 'By', description: 'Heap space still available, by heap space.' });
  const physical = meter.createObservableUpDownCounter('v8js.heap.space.physical_size', { unit: 'By', description: 'Committed size of a heap space.' });
  const utilization = meter.createObservableGauge('nodejs.eventloop.utilization', { unit: '1', description: 'Share of time the event loop was busy since the last reading.' });
  const delay = {
    p50: meter.createObservableGauge('nodejs.eventloop.delay.p50', { unit: 's', description: 'Median event-loop delay over the last evaluation cycle.' }),
    p99: meter.createObservableGauge('nodejs.eventloop.delay.p99', { unit: 's', description: '99th percentile of event-loop delay over the last evaluation cycle.' }),
    max: meter.createObservableGauge('nodejs.eventloop.delay.max', { unit: 's', description: 'Longest event-loop delay over the last evaluation cycle.' }),
  };
  const gcDuration = meter.createHistogram('v8js.gc.duration', {
    unit: 's',
    description: 'Garbage-collection pauses, by type.',
    advice: { explicitBucketBoundaries: GC_BUCKETS },
  });
  const recordGc = (seconds: number, attributes: Attributes): void => gcDuration.record(seconds, attributes);

  // One heap reading serves the four heap instruments of a collection.
  meter.addBatchObservableCallback(
    (result) => {
      for (const space of v8.getHeapSpaceStatistics()) {
        const attributes = spaceAttributes(space.space_name);
        result.observe(heapUsed, space.space_used_size, attributes);
        result.observe(heapLimit, space.space_size, attributes);
        result.observe(available, space.space_available_size, attributes);
        result.observe(physical, space.physical_space_size, attributes);
      }
    },
    [heapUsed, heapLimit, available, physical],
  );

  // Utilisation between readings at least a second apart (two readers collect at nearly the same
  // moment; the second would see a few microseconds of loop and report noise).
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let lastAt = performance.now();
  let reading: number | undefined;
  utilization.addCallback((result) => {
    if (performance.now() - lastAt >= 1_000 || reading === undefined) {
      const now = performance.eventLoopUtilization();
      reading = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      lastAt = performance.now();
    }
    if (Number.isFinite(reading)) result.observe(reading);
  });

  meter.addBatchObservableCallback(
    (result) => {
      const window = loopDelay();
      if (window === undefined) return;
      result.observe(delay.p50, window.p50);
      result.observe(delay.p99, window.p99);
      result.observe(delay.max, window.max);
    },
    [delay.p50, delay.p99, delay.max],
  );

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
