/**
 * A loopback OTLP/HTTP receiver for end-to-end tests: what a bot exports with
 * OTEL_EXPORTER_OTLP_ENDPOINT=<url> and OTEL_EXPORTER_OTLP_PROTOCOL=http/json. Traces are parsed
 * and kept as flat spans; metrics and logs are accepted (counted, not parsed). Every POST is
 * answered 200 `{}`, as a collector with nothing to say answers; gzip bodies are accepted.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export interface ReceivedSpan {
  readonly name: string;
  /** Hex, as OTLP/JSON carries them. */
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly kind: number | undefined;
  readonly attributes: Record<string, AttributeValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: { code: number; message?: string };
  readonly events: { name: string; attributes: Record<string, AttributeValue> }[];
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly scope: string | undefined;
  readonly resource: Record<string, AttributeValue>;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

function anyValue(value: OtlpAnyValue | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return attributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

export function attributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value);
  return out;
}

/** Flattens an OTLP/JSON ExportTraceServiceRequest. */
export function flattenTraces(request: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  const resourceSpans = (request as { resourceSpans?: unknown[] } | null)?.resourceSpans ?? [];
  for (const rs of resourceSpans as { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: unknown[] }[]) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of (rs.scopeSpans ?? []) as { scope?: { name?: string }; spans?: Record<string, unknown>[] }[]) {
      for (const span of ss.spans ?? []) {
        const parent = span.parentSpanId as string | undefined;
        const status = (span.status ?? {}) as { code?: number; message?: string };
        spans.push({
          name: String(span.name),
          traceId: String(span.traceId),
          spanId: String(span.spanId),
          parentSpanId: parent === undefined || parent === '' ? undefined : parent,
          kind: span.kind as number | undefined,
          attributes: attributes(span.attributes as OtlpKeyValue[] | undefined),
          status: { code: status.code ?? 0, ...(status.message ? { message: status.message } : {}) },
          events: ((span.events ?? []) as { name: string; attributes?: OtlpKeyValue[] }[]).map((e) => ({
            name: e.name,
            attributes: attributes(e.attributes),
          })),
          startTimeUnixNano: String(span.startTimeUnixNano),
          endTimeUnixNano: String(span.endTimeUnixNano),
          scope: ss.scope?.name,
          resource,
        });
      }
    }
  }
  return spans;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Export requests received per path (`/v1/traces`, `/v1/metrics`, `/v1/logs`, anything else). */
  readonly requests = new Map<string, number>();
  /** Bodies that could not be parsed as OTLP/JSON (a protobuf export, say): the first bytes of each. */
  readonly unparsed: string[] = [];
  url = '';
  private readonly server: Server;
  private readonly listeners = new Set<() => void>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves with the spans once `predicate` holds for those received so far; rejects after `timeoutMs`. */
  waitForSpans(predicate: (spans: readonly ReceivedSpan[]) => boolean, what: string, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.spans)) return;
        done();
        resolve([...this.spans]);
      };
      const timer = setTimeout(() => {
        done();
        const names = this.spans.map((s) => s.name).join(', ') || 'none';
        reject(new Error(`timed out waiting for ${what}; spans received: ${names}; unparsed bodies: ${this.unparsed.length}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return;
    }
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    if (req.method === 'POST' && path === '/v1/traces') {
      let body = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.spans.push(...flattenTraces(JSON.parse(body.toString())));
      } catch {
        this.unparsed.push(body.subarray(0, 64).toString('hex'));
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
    for (const listener of this.listeners) listener();
  }
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  return new OtlpReceiver().start();
}
