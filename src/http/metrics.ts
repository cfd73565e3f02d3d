/**
 * GET /metrics: the Prometheus exporter's collection, formatted by the plugin's serializer
 * (./exposition.ts: label text cached, both exposition formats). The bot's pending callbacks get a
 * turn between gathering and formatting (an immediate: it wakes nobody, where a timer would cost
 * the process a wake-up of its own, about 0.2 ms of CPU on a small VM, on every scrape).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Exemplars } from '../metrics/exemplars.js';
import { RUNTIME_SCOPE } from '../metrics/runtime.js';
import { createSerializer, type ExpositionFormat } from '../metrics/exposition.js';
import { READ_METHODS, send, type Route } from './server.js';

/** Prometheus' text exposition format, as Prometheus asks for it. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = { prometheus: EXPOSITION_CONTENT_TYPE, openmetrics: OPENMETRICS_CONTENT_TYPE };

/**
 * The format a scraper's Accept header prefers: OpenMetrics 1.0 when it ranks
 * application/openmetrics-text (version 1.0.0 or none given) above the classic text format,
 * the classic format otherwise — and for no header, a browser or curl.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept.length > 1024) return 'prometheus';
  let openMetrics = 0;
  let classic = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const parameter of parameters) {
      const [key, value = ''] = parameter.split('=').map((part) => part.trim());
      if (key === 'q') q = Number(value);
      else if (key === 'version') version = value;
    }
    if (!(q > 0)) continue;
    if (type === 'application/openmetrics-text' && (version === undefined || version === '1.0.0')) openMetrics = Math.max(openMetrics, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') classic = Math.max(classic, q);
  }
  return openMetrics > classic ? 'openmetrics' : 'prometheus';
}

export interface MetricsRouteOptions {
  /** Called as each scrape arrives. */
  readonly onScrape?: () => void;
  /**
   * The synchronous time a collection cost the loop, in ms (gathering and formatting, not the
   * turns between): once per collection, which concurrent scrapes share.
   */
  readonly onServed?: (busyMs: number) => void;
  /** A collection that failed or partly failed: one line, the scrape still answered. */
  readonly onError: (message: string) => void;
  /** The scan and trade exemplars OpenMetrics scrapes get. */
  readonly exemplars?: Exemplars;
}

/**
 * The shortest time between the starts of two collections. A scrape that comes sooner waits for
 * the next one (and every scrape arriving meanwhile shares it) rather than get an older answer:
 * a sustained flood costs one collection per interval, and no scrape is answered from a
 * collection that had finished before it arrived (one that arrives while a collection is under way
 * shares it: its readings may be that collection's few milliseconds older than the request). A
 * tenth under Prometheus' shortest scrape interval (1 s; its default is 1 min): a scraper at
 * exactly that interval, whose requests come a few ms early or late, never waits. (At a floor of
 * exactly 1 s, each wait had pushed the next collection's start later, and at a 1 s scrape
 * interval the answers had drifted to 120 ms late within a minute.)
 */
export const MIN_COLLECTION_INTERVAL_MS = 900;

/**
 * One collection's answer, shared by every scrape that arrived while it was being made: the body
 * in the format of the scrape that started it, and in the other format once another asks — as
 * bytes, encoded once, which every answer hands to its socket without a copy of its own.
 */
type Exposition = { readonly ok: true; readonly metrics: ResourceMetrics; readonly bodies: Map<ExpositionFormat, Buffer> } | { readonly ok: false };

export function metricsRoute(exporter: PrometheusExporter, options: MetricsRouteOptions): Route {
  // The exporter's defaults: no prefix, no timestamps, target_info and scope labels kept.
  /** When the last collection started (performance.now()). */
  let lastStart = Number.NEGATIVE_INFINITY;
  const serializer = createSerializer({ ...(options.exemplars ? { exemplars: options.exemplars } : {}), unitSuffixScopes: [RUNTIME_SCOPE] });
  const collect = async (format: ExpositionFormat): Promise<Exposition> => {
    let busy = 0;
    let started = performance.now();
    // The spacing between collections is counted from their real starts.
    lastStart = started;
    try {
      const { resourceMetrics, errors } = await exporter.collect();
      busy += performance.now() - started;
      if (errors.length > 0) options.onError(`metrics collection: ${errors.map(String).join('; ')}`);
      await new Promise<void>((resolve) => setImmediate(resolve));
      started = performance.now();
      const body = Buffer.from(serializer.serialize(resourceMetrics, format), 'utf8');
      busy += performance.now() - started;
      return { ok: true, metrics: resourceMetrics, bodies: new Map([[format, body]]) };
    } catch (error) {
      busy += performance.now() - started;
      options.onError(`metrics collection failed: ${String(error)}`);
      return { ok: false };
    } finally {
      options.onServed?.(busy);
    }
  };
  // Scrapes are idempotent reads: while one collection is in flight, every other scrape waits for
  // its answer instead of starting its own, so a burst of scrapes costs one collection and one body
  // in memory, not one each (2000 at once had cost the bot 280 MB and 700 ms stalls); and
  // collections start at most once per MIN_COLLECTION_INTERVAL_MS, so a sustained flood costs one
  // per interval.
  let inFlight: Promise<Exposition> | undefined;
  // Until MIN_COLLECTION_INTERVAL_MS after the last collection's start. libuv counts a timer from
  // the loop's clock as of the start of its turn, which a busy turn leaves behind, so a timer can
  // fire a few ms early by performance.now() (CI once saw 895 ms): what is left is waited again.
  const spaced = async (): Promise<void> => {
    for (let wait = lastStart + MIN_COLLECTION_INTERVAL_MS - performance.now(); wait > 0; wait = lastStart + MIN_COLLECTION_INTERVAL_MS - performance.now()) {
      await sleep(wait, undefined, { ref: false });
    }
  };
  const exposition = (format: ExpositionFormat): Promise<Exposition> => {
    if (inFlight) return inFlight;
    const started = spaced().then(() => collect(format));
    inFlight = started.then(
      (result) => {
        inFlight = undefined;
        return result;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw error;
      },
    );
    return inFlight;
  };
  const answer = (res: ServerResponse, result: Exposition, format: ExpositionFormat): void => {
    if (res.destroyed) return;
    if (result.ok) {
      let body = result.bodies.get(format);
      if (body === undefined) {
        const started = performance.now();
        result.bodies.set(format, (body = Buffer.from(serializer.serialize(result.metrics, format), 'utf8')));
        options.onServed?.(performance.now() - started);
      }
      send(res, 200, body, { 'content-type': CONTENT_TYPES[format], vary: 'Accept' });
    } else if (!res.headersSent) {
      send(res, 500, 'metrics collection failed\n');
    }
  };
  return {
    methods: READ_METHODS,
    handler: (req: IncomingMessage, res) => {
      options.onScrape?.();
      const format = negotiateFormat(req.headers.accept);
      exposition(format).then(
        (result) => answer(res, result, format),
        () => res.destroy(),
      );
    },
  };
}
