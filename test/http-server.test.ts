/**
 * The servers' own request deadlines (they replace Node's once-a-second connection sweep): real
 * sockets on loopback, a fake clock for the deadlines themselves.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_CONNECTIONS, startServer, type RunningServer } from '../src/http/server.js';

let server: RunningServer | undefined;
const sockets: net.Socket[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function open(): Promise<{ socket: net.Socket; closed: () => boolean; received: () => string }> {
  server = await startServer({
    name: 'test',
    host: '127.0.0.1',
    port: 0,
    onError: () => {},
    routes: { '/ok': { methods: ['GET'], handler: (_req, res) => res.end('ok\n') } },
  });
  // Only the deadline timers are faked: sockets and Node's own timers keep real time.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const socket = net.connect({ host: '127.0.0.1', port: server!.port });
  sockets.push(socket);
  let closed = false;
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, closed: () => closed, received: () => received };
}

/** Real I/O turns for the server to see what was sent and act on a deadline. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
};

describe('request deadlines', () => {
  it('closes a connection whose headers never finish after 5 s, not before', async () => {
    const { socket, closed } = await open();
    socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n');
    await settle();
    vi.advanceTimersByTime(4_900);
    await settle();
    expect(closed()).toBe(false);
    vi.advanceTimersByTime(200);
    await vi.waitFor(() => expect(closed()).toBe(true), { timeout: 2_000, interval: 20 });
  });

  it('keeps an answered, kept-alive connection open past the keep-alive it promised, then closes it', async () => {
    const { socket, closed, received } = await open();
    socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await vi.waitFor(() => expect(received()).toMatch(/ok\n$/), { timeout: 2_000, interval: 20 });
    // Longer than Prometheus' default scrape interval (1 min): one connection serves every scrape.
    const promised = Number(/Keep-Alive: timeout=(\d+)/i.exec(received())?.[1]);
    expect(promised).toBeGreaterThan(60);
    vi.advanceTimersByTime(promised * 1_000 + 5_900); // keep-alive + Node's grace (1 s) + headers (5 s)
    await settle();
    expect(closed()).toBe(false);
    vi.advanceTimersByTime(200);
    await vi.waitFor(() => expect(closed()).toBe(true), { timeout: 2_000, interval: 20 });
  });
});

describe('bounded load', () => {
  async function listen(): Promise<number> {
    server = await startServer({
      name: 'test',
      host: '127.0.0.1',
      port: 0,
      onError: () => {},
      routes: { '/ok': { methods: ['GET', 'POST'], handler: (_req, res) => res.end('ok\n') } },
    });
    return server!.port;
  }

  /** A raw connection that sends `request`; resolves with what came back once the server closes it or answers. */
  function exchange(port: number, request: string, until: RegExp): Promise<{ socket: net.Socket; received: string; closed: boolean }> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      let received = '';
      const done = (closed: boolean) => resolve({ socket, received, closed });
      socket.on('connect', () => socket.write(request));
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (until.test(received)) done(false);
      });
      socket.on('error', () => {});
      socket.on('close', () => done(true));
    });
  }
  const GET = 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n';

  it(`closes connections beyond ${MAX_CONNECTIONS} unanswered, and serves again once one goes`, async () => {
    const port = await listen();
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => exchange(port, GET, /ok\n$/)));
    for (const h of held) expect(h.received).toMatch(/^HTTP\/1\.1 200/);
    const excess = await exchange(port, GET, /ok\n$/);
    expect(excess).toMatchObject({ received: '', closed: true });
    held[0]!.socket.destroy();
    await vi.waitFor(async () => expect((await exchange(port, GET, /ok\n$/)).received).toMatch(/^HTTP\/1\.1 200/), { timeout: 2_000, interval: 50 });
  });
});
