/**
 * The plugin's small HTTP servers (/metrics, /health). Both must fail open: a port in use or a
 * slow client costs one log line, never the bot. Sockets are unref'd so an idle keep-alive
 * connection from Prometheus cannot hold the bot's process open at exit.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

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
}

export interface RunningServer {
  /** The bound port (differs from the requested one when that was 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Read-only endpoints answer these two methods and nothing else. */
export const READ_METHODS = ['GET', 'HEAD'] as const;

function send(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** A client has this long to send a request's headers, on a new or a kept-alive connection. */
const HEADERS_DEADLINE_MS = 5_000;
/** And this long, from its headers, until the answer has gone out. */
const REQUEST_DEADLINE_MS = 10_000;
const KEEP_ALIVE_MS = 5_000;
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

export function startServer(options: ServerOptions): Promise<RunningServer | undefined> {
  const server = http.createServer(
    {
      // Bounded request size and time: hostile or broken clients cannot pin memory or sockets.
      // The timeouts are Node's backstop; the per-connection deadlines below act first.
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: REQUEST_DEADLINE_MS,
      headersTimeout: HEADERS_DEADLINE_MS,
      keepAliveTimeout: KEEP_ALIVE_MS,
    },
    (req, res) => {
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
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.maxHeadersCount = MAX_HEADERS;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
  server.on('connection', (socket: Socket) => {
    socket.unref();
    deadline(socket, HEADERS_DEADLINE_MS);
    socket.once('close', () => clearDeadline(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.unref();

  return new Promise((resolve) => {
    const onListenError = (error: NodeJS.ErrnoException): void => {
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
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
