/**
 * What one collection of the evaluating reader holds, read the way a PromQL expression reads a
 * scrape: the plugin's own series by metric name and labels. The in-process rules evaluate on
 * this — the same data Prometheus sees — so a condition means one thing in both places.
 *
 * Counters and histogram counts are cumulative; `increase` answers "how much over the last N
 * minutes" from the collections this reader has seen, as Prometheus's increase() would from its
 * scrapes (with the collections since start standing in while fewer than N minutes have passed).
 */
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { seriesKey } from '../metrics/readings.js';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

interface Snapshot {
  readonly at: number;
  /** Metric name → series key → cumulative count (counters: the sum; histograms: the count). */
  readonly totals: ReadonlyMap<string, ReadonlyMap<string, { labels: Labels; total: number }>>;
}

function labelsOf(attributes: Readonly<Record<string, unknown>>): Labels {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) labels[key] = String(value);
  return labels;
}

/** The collections of one reader: the current one, and enough older ones for `increase`. */
export class CollectedMetrics {
  private gauges = new Map<string, Sample[]>();
  private history: Snapshot[] = [];

  /** @param keepMs how far back `increase` may look. */
  constructor(
    private readonly meterName: string,
    private readonly keepMs: number,
  ) {}

  /** Takes one collection; `at` is the wall clock of the cycle, ms. */
  update(metrics: ResourceMetrics, at: number): void {
    const gauges = new Map<string, Sample[]>();
    const totals = new Map<string, Map<string, { labels: Labels; total: number }>>();
    for (const scope of metrics.scopeMetrics) {
      if (scope.scope.name !== this.meterName) continue;
      for (const metric of scope.metrics) {
        const name = metric.descriptor.name;
        if (metric.dataPointType === DataPointType.GAUGE) {
          gauges.set(
            name,
            metric.dataPoints.map((point) => ({ labels: labelsOf(point.attributes), value: point.value as number })),
          );
          continue;
        }
        const series = new Map<string, { labels: Labels; total: number }>();
        for (const point of metric.dataPoints) {
          const labels = labelsOf(point.attributes);
          const value = point.value as number | { count: number };
          series.set(seriesKey(labels), { labels, total: typeof value === 'number' ? value : value.count });
        }
        totals.set(name, series);
      }
    }
    this.gauges = gauges;
    this.history.push({ at, totals });
    // Keep the newest snapshot at or before the window's start as the baseline, drop older ones.
    while (this.history.length > 2 && this.history[1]!.at <= at - this.keepMs) this.history.shift();
  }

  /** Every sample of a gauge in the latest collection (empty when absent). */
  gauge(name: string): readonly Sample[] {
    return this.gauges.get(name) ?? [];
  }

  /** The first sample of a gauge, as a number; undefined when the gauge has no sample. */
  value(name: string): number | undefined {
    return this.gauges.get(name)?.[0]?.value;
  }

  /**
   * How much a counter (or a histogram's count) grew over the last `windowMs`, summed over the
   * series `where` accepts. A series that went down restarted: its whole current value counts.
   */
  increase(name: string, windowMs: number, where: (labels: Labels) => boolean = () => true): number {
    const latest = this.history.at(-1);
    if (!latest) return 0;
    const since = latest.at - windowMs;
    let baseline: Snapshot | undefined;
    for (const snapshot of this.history) if (snapshot.at <= since) baseline = snapshot;
    let sum = 0;
    for (const [key, { labels, total }] of latest.totals.get(name) ?? []) {
      if (!where(labels)) continue;
      const before = baseline?.totals.get(name)?.get(key)?.total ?? 0;
      sum += total >= before ? total - before : total;
    }
    return sum;
  }

  /** Data points in the latest collection: the series the SDK holds for this reader. */
  static countSeries(metrics: ResourceMetrics): number {
    let series = 0;
    for (const scope of metrics.scopeMetrics) for (const metric of scope.metrics) series += metric.dataPoints.length;
    return series;
  }
}
