/**
 * The OTLP exporters' requests are known by construction: the plugin hands its exporters an agent
 * whose sockets are unref'd (so an export waiting on a collector never keeps the bot alive). A
 * request of the bot's own is never touched, whatever its User-Agent says — the plugin used to pick
 * exports out of all HTTP traffic by the exporter's User-Agent.
 */
import http from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { otlpAgentFactory, startSdk } from '../src/plugin/sdk.js';

let server: http.Server | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  server?.close();
  server = undefined;
});

async function listen(): Promise<number> {
  server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function socketOf(options: http.RequestOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const request = http.request(options, (res) => res.resume());
    request.once('socket', (socket) => socket.once('connect', () => resolve(socket as Socket)));
    request.once('error', reject);
    request.end();
  });
}

describe("the OTLP exporters' agent", () => {
  it("unrefs the sockets of the plugin's exports", async () => {
    const port = await listen();
    const unref = vi.spyOn(Socket.prototype, 'unref');
    const agent = await otlpAgentFactory('http:');
    const socket = await socketOf({ port, host: '127.0.0.1', path: '/v1/metrics', method: 'POST', agent });
    expect(unref.mock.contexts).toContain(socket);
    expect(await otlpAgentFactory('http:')).toBe(agent);
  });

  it('unrefs a kept-alive socket again when the next export reuses it (Node ref\'s it on reuse)', async () => {
    const port = await listen();
    const agent = await otlpAgentFactory('http:');
    const first = await socketOf({ port, host: '127.0.0.1', path: '/v1/metrics', method: 'POST', agent });
    await new Promise((r) => setTimeout(r, 50)); // the first response ends; its socket goes back to the pool
    const ref = vi.spyOn(Socket.prototype, 'ref');
    const unref = vi.spyOn(Socket.prototype, 'unref');
    const second = await new Promise<Socket>((resolve, reject) => {
      const request = http.request({ port, host: '127.0.0.1', path: '/v1/metrics', method: 'POST', agent }, (res) => res.resume());
      request.once('socket', (socket) => resolve(socket as Socket));
      request.once('error', reject);
      request.end();
    });
    expect(second).toBe(first);
    const lastRef = Math.max(-1, ...ref.mock.contexts.map((c, i) => (c === second ? ref.mock.invocationCallOrder[i]! : -1)));
    const lastUnref = Math.max(-1, ...unref.mock.contexts.map((c, i) => (c === second ? unref.mock.invocationCallOrder[i]! : -1)));
    expect(lastRef).toBeGreaterThan(-1);
    expect(lastUnref).toBeGreaterThan(lastRef);
  });

  it("leaves a bot's request alone, even one with the exporter's User-Agent, with OTLP on", async () => {
    const sdk = await startSdk({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_NODE_RESOURCE_DETECTORS: 'none' },
      readers: [],
      views: [],
    });
    try {
      const port = await listen();
      const unref = vi.spyOn(Socket.prototype, 'unref');
      const socket = await socketOf({
        port,
        host: '127.0.0.1',
        path: '/orders',
        headers: { 'user-agent': 'OTel-OTLP-Exporter-JavaScript/0.301.0' },
        agent: new http.Agent(),
      });
      expect(unref.mock.contexts).not.toContain(socket);
    } finally {
      await sdk.shutdown();
    }
  });
});
