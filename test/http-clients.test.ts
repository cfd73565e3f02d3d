/**
 * API health from every HTTP client: real servers on loopback, real requests through Node's http,
 * fetch (undici) and axios (what @polymarket/clob-client uses), and the MONITORING_API_HOSTS parser.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/core/config.js';
import { lookupApi, parseApiHosts, subscribeHttpClients, type ApiHostMap, type HttpClientDeps } from '../src/ingest/http-clients.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Answers `/<status>` with that status; `/reset` drops the connection; `/truncated` dies mid-body. */
function startServer(): Promise<{ server: http.Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    // Through a forward proxy the path arrives in absolute form: route on its last segment.
    const route = (req.url ?? '').slice((req.url ?? '').lastIndexOf('/'));
    hits.push(route);
    if (route === '/reset') return void req.socket.destroy();
    if (route === '/truncated') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only ten b');
      setTimeout(() => req.socket.destroy(), 5);
      return;
    }
    res.statusCode = Number(route.slice(1)) || 200;
    res.end('body');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, hits })),
  );
}

async function stopServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

let a: Awaited<ReturnType<typeof startServer>>;
let b: Awaited<ReturnType<typeof startServer>>;
/** A port nothing listens on. */
let closedPort: number;

beforeAll(async () => {
  a = await startServer();
  b = await startServer();
  const closed = await startServer();
  closedPort = closed.port;
  await stopServer(closed.server);
});

afterAll(async () => {
  await stopServer(a.server);
  await stopServer(b.server);
});

const cleanups: (() => void)[] = [];
let errors: [string, unknown][] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  const seen = errors;
  errors = [];
  // The error path is for the unexpected: no test below but the throwing one may take it.
  expect(seen).toEqual([]);
});

/** Subscribes with `spec` as MONITORING_API_HOSTS; `counts` lists each count as `api/ok` or `api/failure`. */
function setup(spec: string, overrides: Partial<HttpClientDeps> = {}) {
  const counts: string[] = [];
  const { hosts, warnings } = parseApiHosts(spec);
  expect(warnings).toEqual([]);
  const unsubscribe = subscribeHttpClients({
    hosts,
    count: (api, ok) => void counts.push(`${api}/${ok ? 'ok' : 'failure'}`),
    skip: () => false,
    apiOverride: () => undefined,
    onError: (where, error) => void errors.push([where, error]),
    ...overrides,
  });
  cleanups.push(unsubscribe);
  return { counts, unsubscribe };
}

interface Client {
  /** Resolves with the status once the body has been read; rejects on a network error. */
  get(url: string): Promise<number>;
}

const CLIENTS: [string, Client][] = [
  [
    'http.request',
    {
      get: (url) =>
        new Promise((resolve, reject) => {
          http
            .get(url, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
              res.on('error', reject);
            })
            .on('error', reject);
        }),
    },
  ],
  [
    'fetch',
    {
      get: async (url) => {
        const response = await fetch(url);
        await response.text();
        return response.status;
      },
    },
  ],
  [
    'axios',
    {
      get: async (url) => (await axios.get(url, { validateStatus: () => true, proxy: false, responseType: 'text' })).status,
    },
  ],
];

describe.each(CLIENTS)('requests made with %s', (_, client) => {
  it.each([
    [200, 'ok'],
    // About the bot's own request, not the API's health.
    [404, 'ok'],
    [500, 'failure'],
    [503, 'failure'],
    // Throttled: the API is not serving the bot.
    [429, 'failure'],
    // The CLOB's answer to every order while its matching engine restarts: the API is down.
    [425, 'failure'],
    [408, 'failure'],
  ])('count a %i answer as %s', async (status, outcome) => {
    const { counts } = setup('127.0.0.1=clob');
    expect(await client.get(`http://127.0.0.1:${a.port}/${status}`)).toBe(status);
    await settle();
    expect(counts).toEqual([`clob/${outcome}`]);
  });

  it('count a connection reset as a failure', async () => {
    const { counts } = setup('127.0.0.1=clob');
    await expect(client.get(`http://127.0.0.1:${a.port}/reset`)).rejects.toThrow();
    await settle();
    expect(counts).toEqual(['clob/failure']);
  });

  it('count a refused connection as a failure', async () => {
    const { counts } = setup('127.0.0.1=clob');
    await expect(client.get(`http://127.0.0.1:${closedPort}/200`)).rejects.toThrow();
    await settle();
    expect(counts).toEqual(['clob/failure']);
  });

  it('count a response whose body then fails once, by its status', async () => {
    const { counts } = setup('127.0.0.1=clob');
    await expect(client.get(`http://127.0.0.1:${a.port}/truncated`)).rejects.toThrow();
    await settle();
    expect(counts).toEqual(['clob/ok']);
  });

  it('count by the host:port entry before the host entry', async () => {
    const { counts } = setup(`127.0.0.1=gamma,127.0.0.1:${a.port}=clob`);
    await client.get(`http://127.0.0.1:${a.port}/200`);
    await client.get(`http://127.0.0.1:${b.port}/200`);
    await settle();
    expect(counts).toEqual(['clob/ok', 'gamma/ok']);
  });

  it('count nothing for a host no entry maps, though the request went out', async () => {
    const { counts } = setup(`127.0.0.1:${b.port}=gamma`);
    const before = a.hits.length;
    expect(await client.get(`http://127.0.0.1:${a.port}/503`)).toBe(503);
    await client.get(`http://127.0.0.1:${b.port}/503`);
    await settle();
    expect(a.hits.length).toBe(before + 1);
    expect(counts).toEqual(['gamma/failure']);
  });

  it('count an unmapped host under the api the async context gives, and a mapped one under its own', async () => {
    const forced = new AsyncLocalStorage<string>();
    const { counts } = setup(`127.0.0.1:${b.port}=gamma`, { apiOverride: () => forced.getStore() });
    await forced.run('clob', () => client.get(`http://127.0.0.1:${a.port}/200`));
    // A request the bot starts from inside a client call, to a host of another api, is that api's.
    await forced.run('clob', () => client.get(`http://127.0.0.1:${b.port}/200`));
    // Outside that context an unmapped host is not counted.
    await client.get(`http://127.0.0.1:${a.port}/200`);
    await settle();
    expect(counts).toEqual(['clob/ok', 'gamma/ok']);
  });

  it('count nothing for an api the probe reports on itself', async () => {
    const { counts } = setup(`127.0.0.1:${a.port}=clob,127.0.0.1:${b.port}=gamma`, { skip: (api) => api === 'clob' });
    await client.get(`http://127.0.0.1:${a.port}/503`);
    await client.get(`http://127.0.0.1:${b.port}/503`);
    await settle();
    expect(counts).toEqual(['gamma/failure']);
  });

  it('leave the request untouched when counting throws', async () => {
    const thrown = new Error('count broke');
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    cleanups.push(() => process.off('uncaughtException', onUncaught));
    const reported: unknown[] = [];
    setup('127.0.0.1=clob', {
      count: () => {
        throw thrown;
      },
      onError: (_where, error) => {
        reported.push(error);
        // Even the reporter failing must not reach the bot.
        throw new Error('onError broke too');
      },
    });
    expect(await client.get(`http://127.0.0.1:${a.port}/200`)).toBe(200);
    await expect(client.get(`http://127.0.0.1:${closedPort}/200`)).rejects.not.toBe(thrown);
    await settle();
    await settle();
    expect(reported).toEqual([thrown, thrown]);
    expect(uncaught).toEqual([]);
  });

  it('count nothing once unsubscribed', async () => {
    const { counts, unsubscribe } = setup('127.0.0.1=clob');
    await client.get(`http://127.0.0.1:${a.port}/200`);
    unsubscribe();
    await client.get(`http://127.0.0.1:${a.port}/503`);
    await expect(client.get(`http://127.0.0.1:${closedPort}/200`)).rejects.toThrow();
    await settle();
    expect(counts).toEqual(['clob/ok']);
  });
});

describe('an http.ClientRequest', () => {
  it('counts once when the bot destroys it after its response', async () => {
    const { counts } = setup('127.0.0.1=clob');
    const errored = await new Promise<unknown>((resolve) => {
      const req = http.get(`http://127.0.0.1:${a.port}/truncated`, () => req.destroy(new Error('bot gave up')));
      req.on('error', resolve);
    });
    // The request did fail after its response: the channel saw both.
    expect(errored).toMatchObject({ message: 'bot gave up' });
    await settle();
    expect(counts).toEqual(['clob/ok']);
  });

  it('counts by its Host header, even when its own host is a forward proxy', async () => {
    // The built-in clob.polymarket.com entry, reached through a proxy at 127.0.0.1 (nothing maps that).
    const { counts } = setup('');
    const proxy = { protocol: 'http', host: '127.0.0.1', port: a.port };
    const before = a.hits.length;
    expect((await axios.get('http://clob.polymarket.com/503', { proxy, validateStatus: () => true })).status).toBe(503);
    expect(a.hits.length).toBe(before + 1);
    expect(counts).toEqual(['clob/failure']);
  });

  it('matches a host:port entry on the default port its Host header leaves out', async () => {
    const { counts } = setup('clob.polymarket.com:80=data_api,clob.polymarket.com:443=gamma');
    const proxy = { protocol: 'http', host: '127.0.0.1', port: a.port };
    await axios.get('http://clob.polymarket.com/200', { proxy });
    // Any other port falls back to the host's entry, here the built-in one.
    await axios.get('http://clob.polymarket.com:8080/200', { proxy });
    expect(counts).toEqual(['data_api/ok', 'clob/ok']);
  });

  it('counts by its host when the bot sends no Host header', async () => {
    const { counts } = setup(`127.0.0.1=gamma,127.0.0.1:${a.port}=clob`);
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: a.port, path: '/200', setHost: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    // Without a header the port is unknown: the host's own entry counts it.
    expect(counts).toEqual(['gamma/ok']);
  });
});

describe('parseApiHosts', () => {
  const api = (hosts: ApiHostMap, host: string, port?: number) => lookupApi(hosts, host, port);

  it('starts from the built-in Polymarket and Polygon hosts', () => {
    const { hosts, warnings } = parseApiHosts(undefined);
    expect(warnings).toEqual([]);
    expect(api(hosts, 'clob.polymarket.com', 443)).toBe('clob');
    expect(api(hosts, 'gamma-api.polymarket.com')).toBe('gamma');
    expect(api(hosts, 'polygon-rpc.com')).toBe('polygon_rpc');
    expect(api(hosts, 'example.com')).toBeUndefined();
  });

  it('reads host=api, host:port=api and bracketed IPv6 entries', () => {
    const { hosts, warnings } = parseApiHosts('rpc.example.com=polygon_rpc,10.0.0.7:8545=geth,[::1]:9000=local,[fe80::2]=lan,::3=bare');
    expect(warnings).toEqual([]);
    expect(api(hosts, 'rpc.example.com', 443)).toBe('polygon_rpc');
    expect(api(hosts, '10.0.0.7', 8545)).toBe('geth');
    expect(api(hosts, '10.0.0.7', 8546)).toBeUndefined();
    expect(api(hosts, '10.0.0.7')).toBeUndefined();
    expect(api(hosts, '::1', 9000)).toBe('local');
    expect(api(hosts, 'fe80::2', 1234)).toBe('lan');
    expect(api(hosts, '::3')).toBe('bare');
  });

  it('matches hosts whatever their case', () => {
    const { hosts } = parseApiHosts('RPC.Example.COM=node');
    expect(api(hosts, 'rpc.example.com')).toBe('node');
    expect(api(hosts, 'Rpc.EXAMPLE.com')).toBe('node');
  });

  it('prefers the host:port entry and falls back to the host on other ports', () => {
    const { hosts } = parseApiHosts('h.example=any,h.example:8080=special');
    expect(api(hosts, 'h.example', 8080)).toBe('special');
    expect(api(hosts, 'h.example', 443)).toBe('any');
    expect(api(hosts, 'h.example')).toBe('any');
  });

  it('lets an entry replace a built-in host and keep the others', () => {
    const { hosts } = parseApiHosts('clob.polymarket.com=my_clob');
    expect(api(hosts, 'clob.polymarket.com')).toBe('my_clob');
    expect(api(hosts, 'data-api.polymarket.com')).toBe('data_api');
  });

  it('shapes api names as labels and tolerates spaces and empty entries', () => {
    const { hosts, warnings } = parseApiHosts(' a.example = Data-API ,, b.example=gamma, ');
    expect(warnings).toEqual([]);
    expect(api(hosts, 'a.example')).toBe('data_api');
    expect(api(hosts, 'b.example')).toBe('gamma');
  });

  it.each([
    ['no "="', 'just-a-host.example'],
    ['an empty host', '=clob'],
    ['a port without a host', ':8080=clob'],
    ['an empty bracketed host', '[]:8080=clob'],
    ['port 0', 'h.example:0=clob'],
    ['a port above 65535', 'h.example:65536=clob'],
    ['a port that is no number', 'h.example:http=clob'],
    ['an empty port', 'h.example:=clob'],
    ['a URL for a host', 'https://h.example=clob'],
    ['a space inside the host', 'h .example=clob'],
    ['an unclosed IPv6 bracket', '[::1=clob'],
    ['an empty api name', 'h.example='],
    ['an api name starting with a digit', 'h.example=1inch'],
    ['an api name longer than 32 characters', `h.example=${'a'.repeat(33)}`],
    ['an api name with punctuation', 'h.example=cl@b'],
  ])('ignores an entry with %s, with one warning naming it, and keeps the others', (_, bad) => {
    const { hosts, warnings } = parseApiHosts(`good.example=clob,${bad},other.example:81=gamma`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(JSON.stringify(bad));
    expect(warnings[0]).toContain('MONITORING_API_HOSTS');
    expect(warnings[0]).toMatch(/ignored/);
    expect(api(hosts, 'good.example')).toBe('clob');
    expect(api(hosts, 'other.example', 81)).toBe('gamma');
    expect(api(hosts, 'h.example')).toBeUndefined();
  });

  it('shows a 10 KB entry as a short excerpt', () => {
    const huge = `${'x'.repeat(10_000)}.example`;
    const { warnings } = parseApiHosts(`${huge}=clob=extra`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.length).toBeLessThan(200);
    expect(warnings[0]).toContain('x'.repeat(40));
  });

  it('never echoes bidi or control characters', () => {
    const { warnings } = parseApiHosts('evil\u202Eexample.com\u0000=clob\u2066,line\nbreak');
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u0000\n]/);
  });

  it('sums up past a handful of bad entries instead of one line each', () => {
    const spec = Array.from({ length: 500 }, (_, i) => `bad${i}`).join(',');
    const { warnings } = parseApiHosts(spec);
    expect(warnings.length).toBeLessThan(20);
    expect(warnings.at(-1)).toMatch(/\d+ more/);
  });

  it('never throws, whatever it is given', () => {
    for (const spec of ['', ',', '=', '==', ':', '[', ']', '[]', '[:]', ':::=a', '\u0000', 'a=b=c', '=,=,=']) {
      expect(() => parseApiHosts(spec)).not.toThrow();
    }
  });

  it('names the option it came from when told', () => {
    expect(parseApiHosts('oops', 'options.apiHosts').warnings[0]).toMatch(/^options\.apiHosts /);
  });
});

describe('MONITORING_API_HOSTS in the config', () => {
  it.each(['127.0.0.1:8545=polygon_rpc', '[::1]:8080=local', 'no-equals-sign', `h.example=${'a'.repeat(40)}`])(
    'accepts %j: entries are judged by parseApiHosts, not by config validation',
    (value) => {
      const { config } = loadConfig({ MONITORING_API_HOSTS: value });
      expect(config.apiHosts).toBe(value);
    },
  );
});
