/**
 * The plugin's small HTTP servers (/metrics, /health). Both must fail open: a port in use or a
 * slow client costs one log line, never the bot. Sockets are unref'd so an idle keep-alive
 * connection from Prometheus cannot hold the bot's process open at exit.
 */
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Route {
  readonly methods: readonly string[];
  readonly handler: RouteHandler;
}

export interface ServerOptions {
  /** For log lines: 'metrics' or 'health'. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly routes: Readonly<Record<string, Route>>;
  readonly onError: (message: string) => void;
  /** PEM files: the server speaks HTTPS, and re-reads both when either changes. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** One line when a changed certificate was taken up. */
  readonly onInfo?: (message: string) => void;
  /** How often the certificate files are checked for a change (tests shorten it). */
  readonly tlsReloadCheckMs?: number;
}

/** How often the certificate files are checked for a change (a renewal): two stats a minute. */
export const TLS_RELOAD_CHECK_MS = 30_000;

/** The PEM pair, and what identifies this version of it. */
async function readTls(tls: NonNullable<ServerOptions['tls']>): Promise<{ cert: Buffer; key: Buffer; version: string }> {
  const [cert, key, certStat, keyStat] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile), stat(tls.certFile), stat(tls.keyFile)]);
  return { cert, key, version: `${certStat.mtimeMs}:${certStat.size}:${keyStat.mtimeMs}:${keyStat.size}` };
}

async function fileVersion(tls: NonNullable<ServerOptions['tls']>): Promise<string> {
  const [certStat, keyStat] = await Promise.all([stat(tls.certFile), stat(tls.keyFile)]);
  return `${certStat.mtimeMs}:${certStat.size}:${keyStat.mtimeMs}:${keyStat.size}`;
}

export interface RunningServer {
  /** The bound port (differs from the requested one when that was 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Read-only endpoints answer these two methods and nothing else. */
export const READ_METHODS = ['GET', 'HEAD'] as const;

/**
 * Answers with the whole body at once, its length in the headers, as the exporter's own handler
 * answers (Node sets the length when `end` writes the headers): with `writeHead` and no length,
 * Node had framed every answer of these servers in chunks. A string body goes out as bytes: as a
 * string it would be joined to the headers' text and, at the write, copied whole into a new string
 * on the heap — for /metrics 37 KB of garbage per scrape. Callers that answer the same body more
 * than once pass the bytes.
 */
export function send(res: http.ServerResponse, status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': bytes.length });
  res.end(bytes);
}

/** A client has this long to send a request's headers, on a new or a kept-alive connection. */
const HEADERS_DEADLINE_MS = 5_000;
/** And this long, from its headers, until the answer has gone out. */
const REQUEST_DEADLINE_MS = 10_000;
/**
 * How long an answered connection may wait for its next request: longer than Prometheus' default
 * scrape interval (1 min), so a scraper keeps one connection instead of opening one per scrape.
 * Prometheus keeps idle connections 5 min ("above the maximum sane scrape interval"); at Node's
 * default 5 s, a scrape every 15 s cost the bot a new connection each time (0.4–0.7 ms more CPU per
 * scrape, measured; a TLS handshake more with MONITORING_TLS_*) and a wake-up to close the old one.
 */
const KEEP_ALIVE_MS = 65_000;
/**
 * After an answer, a kept-alive connection may sit idle until Node closes it (keepAliveTimeout
 * plus Node's 1 s grace), then has the usual time for the next request's headers. Never shorter
 * than the keep-alive a client was promised, or a scrape could race the close.
 */
const NEXT_REQUEST_DEADLINE_MS = KEEP_ALIVE_MS + 1_000 + HEADERS_DEADLINE_MS;

/**
 * Open connections per server. Prometheus keeps one per target, probes and a dashboard a few
 * more; beyond this Node closes a new connection as it accepts it, before any socket object,
 * parser or request exists, so a flood costs the bot an accept and a close per connection.
 */
export const MAX_CONNECTIONS = 32;
/** Requests on one kept-alive connection before Node closes it. */
const MAX_REQUESTS_PER_CONNECTION = 1_000;
/** Headers Node parses into a request; a scrape or probe sends a handful. */
const MAX_HEADERS = 32;
const MAX_HEADER_BYTES = 8 * 1024;

/**
 * Bounded request time without a sweep. Node enforces headersTimeout/requestTimeout only when it
 * checks all connections, every connectionsCheckingInterval (30 s by default); checking every
 * second would wake an idle bot twice a second for nothing (measured here: a wake-up costs about
 * 0.2 ms of CPU on a small VM). Instead each open connection carries one unref'd deadline,
 * moved on at each request and each answer, and gone with the connection.
 */
const deadlines = new WeakMap<Socket, NodeJS.Timeout>();

function deadline(socket: Socket, ms: number): void {
  clearTimeout(deadlines.get(socket));
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref();
  deadlines.set(socket, timer);
}

function clearDeadline(socket: Socket): void {
  clearTimeout(deadlines.get(socket));
  deadlines.delete(socket);
}

export async function startServer(options: ServerOptions): Promise<RunningServer | undefined> {
  let tls: Awaited<ReturnType<typeof readTls>> | undefined;
  if (options.tls) {
    try {
      tls = await readTls(options.tls);
    } catch (error) {
      // Never plain HTTP in place of the HTTPS asked for: the scraper is told by its failing scrape.
      options.onError(`${options.name} server not started: cannot read its TLS certificate or key (${(error as NodeJS.ErrnoException).code ?? String(error)}); the bot runs on without it`);
      return undefined;
    }
  }
  const serverOptions = {
    // Bounded request size and time: hostile or broken clients cannot pin memory or sockets.
    // The timeouts are Node's backstop; the per-connection deadlines below act first.
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: REQUEST_DEADLINE_MS,
    headersTimeout: HEADERS_DEADLINE_MS,
    keepAliveTimeout: KEEP_ALIVE_MS,
  };
  const handler: http.RequestListener = (req, res) => {
      const socket = req.socket;
      deadline(socket, REQUEST_DEADLINE_MS);
      res.once('finish', () => deadline(socket, NEXT_REQUEST_DEADLINE_MS));
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        send(res, 400, 'bad request\n');
        return;
      }
      const route = options.routes[pathname];
      if (!route) {
        // Never echo the path back: nothing the client sent is reflected.
        send(res, 404, 'not found\n');
        return;
      }
      if (!route.methods.includes(req.method ?? '')) {
        send(res, 405, 'method not allowed\n', { allow: route.methods.join(', ') });
        return;
      }
      try {
        route.handler(req, res);
      } catch (error) {
        options.onError(`${options.name} server: handler for ${pathname} failed: ${String(error)}`);
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      }
  };
  const server: http.Server = tls
    ? https.createServer({ ...serverOptions, cert: tls.cert, key: tls.key, handshakeTimeout: HEADERS_DEADLINE_MS }, handler)
    : http.createServer(serverOptions, handler);
  server.maxConnections = MAX_CONNECTIONS;
  server.maxHeadersCount = MAX_HEADERS;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
  server.on('connection', (socket: Socket) => {
    socket.unref();
    // Over TLS the requests arrive on the TLS socket: its deadlines start once the handshake is
    // done (bounded by handshakeTimeout), below.
    if (tls) return;
    deadline(socket, HEADERS_DEADLINE_MS);
    socket.once('close', () => clearDeadline(socket));
  });
  if (tls) {
    server.on('secureConnection', (socket: TLSSocket) => {
      deadline(socket, HEADERS_DEADLINE_MS);
      socket.once('close', () => clearDeadline(socket));
    });
    server.on('tlsClientError', (_error, socket) => socket.destroy());
  }
  server.on('clientError', (_error, socket) => socket.destroy());
  server.unref();

  // A renewed certificate (certbot, cert-manager) is taken up without a restart.
  let reload: NodeJS.Timeout | undefined;
  if (tls && options.tls) {
    const files = options.tls;
    let version = tls.version;
    let checking = false;
    reload = setInterval(() => {
      if (checking) return;
      checking = true;
      void fileVersion(files)
        .then(async (now) => {
          if (now === version) return;
          const next = await readTls(files);
          (server as https.Server).setSecureContext({ cert: next.cert, key: next.key });
          version = next.version;
          options.onInfo?.(`${options.name} server: TLS certificate reloaded`);
        })
        .catch((error: unknown) => {
          // A half-written renewal, a mismatched pair: keep serving the previous one and say so once per change.
          options.onError(`${options.name} server: TLS certificate not reloaded, the previous one stays (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
          void fileVersion(files).then((now) => (version = now), () => {});
        })
        .finally(() => (checking = false));
    }, options.tlsReloadCheckMs ?? TLS_RELOAD_CHECK_MS);
    reload.unref();
  }

  return new Promise((resolve) => {
    const onListenError = (error: NodeJS.ErrnoException): void => {
      clearInterval(reload);
      const why =
        error.code === 'EADDRINUSE'
          ? `${options.host}:${options.port} is already in use`
          : `cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`;
      options.onError(`${options.name} server not started: ${why}; the bot runs on without it`);
      resolve(undefined);
    };
    server.once('error', onListenError);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', onListenError);
      server.on('error', (error) => options.onError(`${options.name} server error: ${error.message}`));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(reload);
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
