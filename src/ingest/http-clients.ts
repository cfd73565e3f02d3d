/**
 * Which HTTP request is an API call, to which api: the host map (built-in hosts plus
 * MONITORING_API_HOSTS) and the subscribers that count every finished request to a mapped host,
 * whichever client made it — fetch() through undici's diagnostics channels, axios, got and the
 * ethers/viem providers through Node's own `http.client.*` channels.
 *
 * The handlers run synchronously inside each of the bot's requests: a Map lookup, no URL parsing,
 * no I/O, never a throw. What a request is counted as rides in a WeakMap keyed by the request, so
 * one that never finishes leaks nothing.
 */
import diagnostics from 'node:diagnostics_channel';
import { isApiFailureStatus } from './outcome.js';
import { quote } from '../core/config.js';
import { apiLabel } from '../state/api-health.js';

/** Polymarket's and Polygon's public endpoints; MONITORING_API_HOSTS adds to these. */
export const DEFAULT_API_HOSTS: ReadonlyMap<string, string> = new Map([
  ['clob.polymarket.com', 'clob'],
  ['data-api.polymarket.com', 'data_api'],
  ['gamma-api.polymarket.com', 'gamma'],
  ['polygon-rpc.com', 'polygon_rpc'],
  ['polygon-bor-rpc.publicnode.com', 'polygon_rpc'],
  ['polygon.llamarpc.com', 'polygon_rpc'],
  ['rpc.ankr.com', 'polygon_rpc'],
  ['polygon-mainnet.g.alchemy.com', 'polygon_rpc'],
  ['polygon-mainnet.infura.io', 'polygon_rpc'],
]);

/** What one host maps to: its api on any port, and the apis of its `host:port` entries. */
export interface HostApis {
  readonly api: string | undefined;
  readonly ports: ReadonlyMap<number, string> | undefined;
}

/** Keyed by lower-case host name, IPv6 addresses without brackets. */
export type ApiHostMap = ReadonlyMap<string, HostApis>;

/** Every api name a host map can yield, and `clob` (the CLOB client's instrumentation names its calls so, whatever the host). */
export function apiNames(hosts: ApiHostMap): Set<string> {
  const names = new Set<string>(['clob']);
  for (const { api, ports } of hosts.values()) {
    if (api !== undefined) names.add(api);
    for (const name of ports?.values() ?? []) names.add(name);
  }
  return names;
}

/** The api a request to `host` (on `port`, when known) is a call to: a `host:port` entry first, then `host`. */
export function lookupApi(hosts: ApiHostMap, host: string, port?: number): string | undefined {
  const entry = hosts.get(host.toLowerCase());
  if (entry === undefined) return undefined;
  return (port === undefined ? undefined : entry.ports?.get(port)) ?? entry.api;
}

const HOST_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/i;
const IPV6 = /^[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*$/i;
const PORT = /^\d{1,5}$/;
// Past these, one summary line: a value pasted wrong must not flood the log.
const MAX_WARNINGS = 10;

type Entry = { host: string; port: number | undefined; api: string } | { problem: string };

function parseEntry(entry: string): Entry {
  const eq = entry.indexOf('=');
  if (eq < 0) return { problem: 'expected host=api or host:port=api' };
  const target = entry.slice(0, eq).trim();
  const name = entry.slice(eq + 1).trim();
  let host = target;
  let portText: string | undefined;
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    const rest = close < 0 ? '' : target.slice(close + 1);
    if (close < 0 || (rest !== '' && !rest.startsWith(':'))) return { problem: 'not a host name' };
    host = target.slice(1, close);
    if (rest !== '') portText = rest.slice(1);
    if (!IPV6.test(host)) return { problem: host === '' ? 'no host' : 'not a host name' };
  } else {
    const colon = target.indexOf(':');
    // A second colon makes it a bare IPv6 address, which can have no port.
    if (colon >= 0 && !target.includes(':', colon + 1)) {
      host = target.slice(0, colon);
      portText = target.slice(colon + 1);
    }
    if (host === '') return { problem: 'no host' };
    if (!HOST_NAME.test(host) && !IPV6.test(host)) return { problem: 'not a host name' };
  }
  const port = portText === undefined ? undefined : Number(portText);
  if (portText !== undefined && (!PORT.test(portText) || port! < 1 || port! > 65535)) {
    return { problem: 'the port must be a number from 1 to 65535' };
  }
  const api = apiLabel(name);
  // apiLabel folds anything it cannot use into `other`: only a name that says `other` may be it.
  if (api === 'other' && name.toLowerCase() !== 'other') {
    return { problem: 'the api name must be a letter then letters, digits or _, at most 32 characters' };
  }
  return { host: host.toLowerCase(), port, api };
}

/**
 * The built-in hosts plus `spec`'s entries (`host=api`, `host:port=api`, `[::1]:8080=api`, comma
 * separated; a later entry for the same host and port wins). A bad entry is ignored with one
 * warning naming it; the others still apply. Never throws.
 */
export function parseApiHosts(spec: string | undefined, source = 'MONITORING_API_HOSTS'): { hosts: ApiHostMap; warnings: string[] } {
  const hosts = new Map<string, { api: string | undefined; ports: Map<number, string> | undefined }>();
  for (const [host, api] of DEFAULT_API_HOSTS) hosts.set(host, { api, ports: undefined });
  const warnings: string[] = [];
  let ignored = 0;
  for (const raw of (spec ?? '').split(',')) {
    const text = raw.trim();
    // An empty entry (a trailing or doubled comma) says nothing, so it is nothing to warn about.
    if (text === '') continue;
    const entry = parseEntry(text);
    if ('problem' in entry) {
      ignored += 1;
      if (ignored <= MAX_WARNINGS) warnings.push(`${source} entry ${quote(text)} ignored: ${entry.problem}`);
      continue;
    }
    let apis = hosts.get(entry.host);
    if (!apis) hosts.set(entry.host, (apis = { api: undefined, ports: undefined }));
    if (entry.port === undefined) apis.api = entry.api;
    else (apis.ports ??= new Map()).set(entry.port, entry.api);
  }
  if (ignored > MAX_WARNINGS) warnings.push(`${source}: ${ignored - MAX_WARNINGS} more bad entries ignored`);
  return { hosts, warnings };
}

/**
 * The api of a request to `authority` (`host`, `host:port`, `[v6]` or `[v6]:port`, as a Host
 * header or an origin spells it), `defaultPort` when it names none.
 */
function authorityApi(hosts: ApiHostMap, authority: string, defaultPort: number): string | undefined {
  let host = authority;
  let port = defaultPort;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = authority.slice(1, close);
    if (authority.charCodeAt(close + 1) === 58 /* : */) port = Number(authority.slice(close + 2));
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      port = Number(authority.slice(colon + 1));
    }
  }
  return lookupApi(hosts, host, port);
}

/** undici's `request.origin`: `http://host[:port]` (a URL object's text also carries a path). */
function originApi(hosts: ApiHostMap, origin: unknown): string | undefined {
  const text = typeof origin === 'string' ? origin : String(origin);
  const start = text.indexOf('://') + 3;
  if (start < 3) return undefined;
  const slash = text.indexOf('/', start);
  return authorityApi(hosts, slash < 0 ? text.slice(start) : text.slice(start, slash), text.startsWith('https:') ? 443 : 80);
}

interface ClientRequestLike {
  readonly host?: unknown;
  readonly protocol?: unknown;
  getHeader?(name: string): unknown;
}

/**
 * An http.ClientRequest's api. The Host header Node sets is the request's authority, port included
 * unless it is the protocol's default; through a forward proxy (axios's `proxy` option) it still
 * names the API while `request.host` names the proxy. Without one, the host alone decides.
 */
function clientRequestApi(hosts: ApiHostMap, request: ClientRequestLike): string | undefined {
  const header = request.getHeader?.('host');
  if (typeof header === 'string') return authorityApi(hosts, header, request.protocol === 'https:' ? 443 : 80);
  return typeof request.host === 'string' ? lookupApi(hosts, request.host) : undefined;
}

/** API health counts an answer as up unless the API itself failed (408, 425, 429, 5xx): a 4xx is about the bot's own request. */
function statusOk(status: unknown): boolean {
  return typeof status === 'number' && status >= 1 && status < 600 && !isApiFailureStatus(status);
}

export interface HttpClientDeps {
  readonly hosts: ApiHostMap;
  /** Counts one finished request; ok = any status but 408, 425, 429 and 5xx. A network error is not ok. */
  count(api: string, ok: boolean): void;
  /** APIs the bot reports on itself through the probe: requests to them are not counted again. */
  skip(api: string): boolean;
  /**
   * An api name that the current async context gives an unmapped host (the CLOB client
   * instrumentation sets 'clob' around its requests, whatever host they go to); undefined
   * normally. A host mapped to an api keeps its own: a request the bot starts from inside a client
   * call (an axios interceptor, a timer) is not the client's. Called synchronously at request start.
   */
  apiOverride(): string | undefined;
  onError(where: string, error: unknown): void;
}

/** Counts every finished request to a mapped host, from fetch and from Node's http/https. Returns the unsubscribe. */
export function subscribeHttpClients(deps: HttpClientDeps): () => void {
  const { hosts } = deps;
  const pending = new WeakMap<object, string>();
  const subscriptions: [string, (message: unknown) => void][] = [];
  const on = <M>(name: string, handler: (message: M) => void): void => {
    // One argument, no rest parameters: this wraps every event on the bot's hot path.
    const wrapped = (message: unknown): void => {
      try {
        handler(message as M);
      } catch (error) {
        try {
          deps.onError(name, error);
        } catch {
          // A subscriber's throw is rethrown in the bot as an uncaught exception: not even the reporter's.
        }
      }
    };
    diagnostics.subscribe(name, wrapped);
    subscriptions.push([name, wrapped]);
  };

  const track = (request: object, api: string | undefined): void => {
    if (api !== undefined && !deps.skip(api)) pending.set(request, api);
  };
  const settle = (request: object, ok: boolean): void => {
    const api = pending.get(request);
    if (api === undefined) return;
    // Forgotten before it is counted: a response then an error on one request counts once, even if count throws.
    pending.delete(request);
    deps.count(api, ok);
  };

  on<{ request: { origin?: unknown } }>('undici:request:create', ({ request }) => {
    track(request, originApi(hosts, request.origin) ?? deps.apiOverride());
  });
  on<{ request: object; response: { statusCode?: unknown } | undefined }>('undici:request:headers', ({ request, response }) =>
    settle(request, statusOk(response?.statusCode)),
  );
  on<{ request: object }>('undici:request:error', ({ request }) => settle(request, false));

  // `created` is published inside http.request(), in the caller's async context, which is where
  // apiOverride must be asked; `start` (at request.end()) stands in on Node 20, which lacks it.
  let createdPublished = false;
  on<{ request: ClientRequestLike }>('http.client.request.created', ({ request }) => {
    createdPublished = true;
    track(request, clientRequestApi(hosts, request) ?? deps.apiOverride());
  });
  on<{ request: ClientRequestLike }>('http.client.request.start', ({ request }) => {
    if (!createdPublished) track(request, clientRequestApi(hosts, request) ?? deps.apiOverride());
  });
  // Published when the response's headers are parsed, before the bot's 'response' listener runs.
  on<{ request: object; response: { statusCode?: unknown } | undefined }>('http.client.response.finish', ({ request, response }) =>
    settle(request, statusOk(response?.statusCode)),
  );
  on<{ request: object }>('http.client.request.error', ({ request }) => settle(request, false));

  return () => {
    for (const [name, handler] of subscriptions.splice(0)) diagnostics.unsubscribe(name, handler);
  };
}
