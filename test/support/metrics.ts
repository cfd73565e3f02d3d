/** What the unit tests that read instruments share: a reader that collects only when asked, and gauge stubs. */
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { METRICS } from '../../src/metrics/catalog.js';
import type { GaugeKey, GaugeReader } from '../../src/metrics/instruments.js';

/** A reader that only collects when asked (cumulative, the MetricReader default): no timer, no exporter. */
export class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A reader for every gauge of the catalog, each observing nothing. */
export function noGauges(): Record<GaugeKey, GaugeReader> {
  const stubs = {} as Record<GaugeKey, GaugeReader>;
  for (const [key, def] of Object.entries(METRICS)) if (def.type === 'gauge') stubs[key as GaugeKey] = () => {};
  return stubs;
}
