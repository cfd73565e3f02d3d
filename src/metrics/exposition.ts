/**
 * The exporter's PrometheusSerializer with its two per-data-point steps done without garbage.
 *
 * The stock serializer rebuilds every sample line from scratch: for each label it takes
 * Object.entries, runs two regexes over the name and three over the value, and for each
 * histogram bucket copies the scope labels into a new object. Measured in the demo bot (heap
 * sampling, a scrape every 5 s): about 500 KB of garbage per scrape for a 21 KB exposition — a
 * scavenge in most scrapes, landing inside the scrape's own stall. Here the label text of an
 * attributes object is built once and kept (the SDK hands over the same attributes object for a
 * series at every collection), the scope labels once per metric, and a bucket's `le` once per
 * boundary; each line is then one concatenation.
 *
 * Everything else — family grouping, names, HELP/TYPE/UNIT, target_info, metadata conflicts —
 * stays the exporter's. The output is byte for byte the stock serializer's (test/exposition.test.ts
 * compares them on a collection with every kind of point and label); should a version of the
 * exporter rename the two methods replaced here, `createSerializer` returns the stock serializer
 * unchanged, and the same test fails.
 */
import type { Attributes } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';

type Value = Attributes[string];

/** The stock serializer's internals that the replacements read. */
interface SerializerInternals {
  _appendTimestamp?: boolean;
  _serializeSingularDataPoint(name: string, data: MetricData, point: DataPoint<number>, additional?: Attributes): string;
  _serializeHistogramDataPoint(name: string, data: MetricData, point: DataPoint<Histogram>, additional?: Attributes): string;
}

// The stock serializer's rules, kept to the letter: names lose what Prometheus does not allow,
// values are JSON for non-strings, then backslash, newline and quote are escaped.
const sanitizeName = (name: string): string => name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
function escapeValue(value: Value = ''): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
function labelText(attributes: Attributes | undefined): string {
  let text = '';
  if (!attributes) return text;
  for (const key of Object.keys(attributes)) text += `${text.length > 0 ? ',' : ''}${sanitizeName(key)}="${escapeValue(attributes[key])}"`;
  return text;
}
const valueText = (value: number): string => (value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : `${value}`);

/** Point labels then extra labels, as the stock serializer orders them; no braces when both are empty. */
const labelSet = (own: string, extra: string): string => (own && extra ? `{${own},${extra}}` : own || extra ? `{${own}${extra}}` : '');

const hasStockSteps = (): boolean => {
  const proto = PrometheusSerializer.prototype as unknown as Partial<SerializerInternals>;
  return typeof proto._serializeSingularDataPoint === 'function' && typeof proto._serializeHistogramDataPoint === 'function';
};

export function createSerializer(): PrometheusSerializer {
  const serializer = new PrometheusSerializer();
  if (!hasStockSteps()) return serializer;
  const internals = serializer as unknown as SerializerInternals;

  // Attributes objects of live series; a series that goes away takes its entry with it. An object
  // is read once, as it was when first seen: the SDK keeps the object it was given as the
  // series' key, and code that changed one after recording would break the SDK's series first.
  const ownLabels = new WeakMap<Attributes, string>();
  const own = (attributes: Attributes): string => {
    let text = ownLabels.get(attributes);
    if (text === undefined) ownLabels.set(attributes, (text = labelText(attributes)));
    return text;
  };
  // The scope labels object is made anew for each metric and shared by its points.
  let lastExtra: Attributes | undefined;
  let lastExtraText = '';
  const extra = (additional: Attributes | undefined): string => {
    if (additional !== lastExtra) {
      lastExtra = additional;
      lastExtraText = labelText(additional);
    }
    return lastExtraText;
  };
  const leText = new Map<number | undefined, string>();
  const le = (bound: number | undefined): string => {
    let text = leText.get(bound);
    if (text === undefined) {
      text = `le="${bound === undefined || bound === Infinity ? '+Inf' : escapeValue(String(bound))}"`;
      if (leText.size < 1_000) leText.set(bound, text);
    }
    return text;
  };
  const timestamp = (point: DataPoint<unknown>): string =>
    internals._appendTimestamp ? ` ${String(hrTimeToMilliseconds(point.endTime))}` : '';

  internals._serializeSingularDataPoint = (name, _data, point, additional) =>
    `${name}${labelSet(own(point.attributes), extra(additional))} ${valueText(point.value)}${timestamp(point)}\n`;

  internals._serializeHistogramDataPoint = (name, _data, point, additional) => {
    const labels = own(point.attributes);
    const scope = extra(additional);
    const labelled = labelSet(labels, scope);
    const ts = timestamp(point);
    const histogram = point.value;
    let lines = '';
    if (histogram.count != null) lines += `${name}_count${labelled} ${valueText(histogram.count)}${ts}\n`;
    if (histogram.sum != null) lines += `${name}_sum${labelled} ${valueText(histogram.sum)}${ts}\n`;
    const { counts, boundaries } = histogram.buckets;
    // The scope labels, then le: the stock serializer adds le to a copy of the scope labels.
    const bucketPrefix = `${name}_bucket{${labels ? `${labels},` : ''}${scope ? `${scope},` : ''}`;
    let cumulative = 0;
    let infinityBound = false;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      const bound = boundaries[i];
      if (bound === undefined && infinityBound) break;
      if (bound === Infinity) infinityBound = true;
      lines += `${bucketPrefix}${le(bound)}} ${valueText(cumulative)}${ts}\n`;
    }
    return lines;
  };
  return serializer;
}
