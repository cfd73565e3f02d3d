/**
 * Helpers for the security fault cases (test/faults/security.test.ts): an HTTP receiver on
 * loopback that records every request raw (standing in for an OTLP/HTTP JSON collector or the
 * Telegram Bot API), raw-socket HTTP for requests `fetch` refuses to send or hides (TRACE, raw
 * markup in a path, oversized headers, a body on GET, a request never finished), and a reader of
 * /proc for the bot's listening sockets.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as the client sent it, gunzipped when it said so. */
  readonly body: string;
}

export type Responder = (req: RecordedRequest) => { status: number; body: string };

/** Records every request it receives and answers each with `respond`. */
export class RecordingReceiver {
  readonly requests: RecordedRequest[] = [];
  url = '';
  private readonly server: Server;

  constructor(private readonly respond: Responder) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw.toString('utf8') };
        this.requests.push(recorded);
        const { status, body } = this.respond(recorded);
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      });
    });
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

  /** Resolves once `predicate` holds for what was received; rejects after `timeoutMs`. */
  async waitFor(predicate: (requests: readonly RecordedRequest[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; !predicate(this.requests); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${this.requests.length} request(s)`);
    }
  }
}

/** A fake OTLP/HTTP collector: accepts every JSON export on /v1/traces and /v1/metrics. */
export function fakeOtlpReceiver(): RecordingReceiver {
  return new RecordingReceiver((req) => (req.method === 'POST' && /^\/v1\/(?:traces|metrics|logs)$/.test(req.path) ? { status: 200, body: '{}' } : { status: 404, body: '{}' }));
}

/** A fake Telegram Bot API: accepts every sendMessage, keeping the raw JSON body. */
export function fakeTelegramReceiver(): RecordingReceiver {
  return new RecordingReceiver((req) =>
    req.method === 'POST' && /^\/bot[^/]+\/sendMessage$/.test(req.path)
      ? { status: 200, body: JSON.stringify({ ok: true, result: {} }) }
      : { status: 404, body: JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }) },
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// /proc

export interface ListeningSocket {
  readonly file: 'tcp' | 'tcp6';
  /** The local address exactly as the kernel prints it: `0100007F` is 127.0.0.1, `00000000` is 0.0.0.0. */
  readonly address: string;
  readonly port: number;
  readonly inode: string;
}

const TCP_LISTEN = '0A';

/** Every socket in LISTEN state in /proc/net/tcp and tcp6 that the process `pid` holds open. */
export function listeningSocketsOf(pid: number): ListeningSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // The descriptor closed between the listing and the read.
    }
  }
  const sockets: ListeningSocket[] = [];
  for (const file of ['tcp', 'tcp6'] as const) {
    let table: string;
    try {
      table = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== TCP_LISTEN || !inodes.has(fields[9]!)) continue;
      const [address, port] = fields[1]!.split(':');
      sockets.push({ file, address: address!, port: Number.parseInt(port!, 16), inode: fields[9]! });
    }
  }
  return sockets;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

export interface RawExchange {
  /** Everything the server sent, status line and headers included. */
  readonly raw: string;
  /** Status of the first response, or null when the server sent none. */
  readonly status: number | null;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The server closed the connection (rather than the deadline ending the exchange). */
  readonly closedByServer: boolean;
}

/** Splits the first HTTP/1.1 response out of raw bytes. */
export function parseResponse(raw: string): Pick<RawExchange, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const payload = end < 0 ? '' : raw.slice(end + 4);
  return { status: status ? Number(status[1]) : null, headers, body: /chunked/i.test(headers['transfer-encoding'] ?? '') ? dechunk(payload).body : payload };
}

/**
 * Every response in raw bytes from one connection, in order, each cut at the end its framing gives
 * (Content-Length, or the last chunk): a body need not end in a newline, so the next status line
 * need not start a line.
 */
export function parseResponses(raw: string): Pick<RawExchange, 'status' | 'headers' | 'body'>[] {
  const responses: Pick<RawExchange, 'status' | 'headers' | 'body'>[] = [];
  for (let rest = raw; rest.includes('\r\n\r\n'); ) {
    const response = parseResponse(rest);
    const payload = rest.slice(rest.indexOf('\r\n\r\n') + 4);
    if (/chunked/i.test(response.headers['transfer-encoding'] ?? '')) {
      const { body, length } = dechunk(payload);
      responses.push({ ...response, body });
      rest = payload.slice(length);
    } else {
      const length = Math.min(payload.length, Number(response.headers['content-length'] ?? payload.length));
      responses.push({ ...response, body: payload.slice(0, length) });
      rest = payload.slice(length);
    }
  }
  return responses;
}

/** The payload of a chunked body, as far as it arrived, and how many bytes of `payload` its framing took. */
function dechunk(payload: string): { body: string; length: number } {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = payload.indexOf('\r\n', at);
    if (lineEnd < 0) return { body, length: payload.length };
    const size = Number.parseInt(payload.slice(at, lineEnd), 16);
    // The last chunk (size 0) and the empty line after it (no trailers are sent).
    if (!(size > 0)) return { body, length: Math.min(payload.length, lineEnd + 4) };
    body += payload.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Sends `request` verbatim on a fresh loopback connection and collects what comes back until the
 * server closes the connection or `timeoutMs` passes (requests should say `Connection: close`).
 */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let raw = '';
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw, ...parseResponse(raw), closedByServer });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(request));
  });
}

/** Writes `data`, waiting for the socket to drain; settles too (never hangs) once the socket closes. */
export function write(socket: net.Socket, data: string | Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('socket closed'));
  if (socket.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('socket closed while writing'));
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}
