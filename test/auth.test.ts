/**
 * The bearer-token check of /metrics, /health and /admin (src/http/auth.ts). What makes it
 * constant-time is observable without a stopwatch: every request, whatever it presents, ends in
 * exactly one crypto.timingSafeEqual over two equal-length digests — a plain `===` or a length
 * check that returns early would skip that call for some inputs, and these tests fail.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { bearerMatches, requireBearer } from '../src/http/auth.js';

// Every call bearerMatches makes to timingSafeEqual, to see what it compares (not how long it takes).
const compared = vi.hoisted(() => [] as Array<[Buffer, Buffer]>);
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const TOKEN = 'auth-token-Zq81-mN4p-Xr62-w';
const withHeader = (authorization?: string): http.IncomingMessage =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as http.IncomingMessage;
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

describe('bearerMatches', () => {
  it('accepts only the exact token, and refuses other lengths without throwing', () => {
    expect(bearerMatches(withHeader(`Bearer ${TOKEN}`), TOKEN)).toBe(true);
    expect(bearerMatches(withHeader(`bearer   ${TOKEN}  `), TOKEN)).toBe(true);
    for (const presented of ['a', TOKEN.slice(0, -1), `${TOKEN}x`, 'y'.repeat(10_000)]) {
      expect(() => bearerMatches(withHeader(`Bearer ${presented}`), TOKEN)).not.toThrow();
      expect(bearerMatches(withHeader(`Bearer ${presented}`), TOKEN), `${presented.length} characters`).toBe(false);
    }
    // Same length, one character off, at the start and at the end.
    expect(bearerMatches(withHeader(`Bearer X${TOKEN.slice(1)}`), TOKEN)).toBe(false);
    expect(bearerMatches(withHeader(`Bearer ${TOKEN.slice(0, -1)}X`), TOKEN)).toBe(false);
    expect(bearerMatches(withHeader(TOKEN), TOKEN)).toBe(false);
    expect(bearerMatches(withHeader(`Basic ${TOKEN}`), TOKEN)).toBe(false);
    expect(bearerMatches(withHeader(), TOKEN)).toBe(false);
    // An empty presented token never matches, not even an empty configured one.
    expect(bearerMatches(withHeader('Bearer '), '')).toBe(false);
    expect(bearerMatches(withHeader(), '')).toBe(false);
  });

  it('compares SHA-256 digests of equal length whatever the presented length, with no early exit', () => {
    const presented = [undefined, '', 'a', TOKEN.slice(0, -1), `X${TOKEN.slice(1)}`, `${TOKEN}x`, 'y'.repeat(10_000), TOKEN];
    compared.length = 0;
    const results = presented.map((p) => bearerMatches(withHeader(p === undefined ? undefined : `Bearer ${p}`), TOKEN));
    expect(results).toEqual([false, false, false, false, false, false, false, true]);
    // One constant-time comparison per request, missing header included: no length check short-cuts it.
    expect(compared).toHaveLength(presented.length);
    for (const [i, [seen, expected]] of compared.entries()) {
      expect(seen.length, `request ${i}`).toBe(32);
      expect(expected.equals(sha256(TOKEN)), `request ${i}`).toBe(true);
      expect(seen.equals(sha256(presented[i] ?? '')), `request ${i}`).toBe(true);
    }
  });
});

describe('requireBearer', () => {
  const route = () => {
    const served: string[] = [];
    const handler = (_req: http.IncomingMessage, _res: http.ServerResponse): void => void served.push('served');
    return { served, route: { methods: ['GET'], handler } };
  };
  const response = () => {
    const res = { status: 0, writeHead: (status: number) => ((res.status = status), res), end: () => res };
    return res;
  };

  it('refuses a wrong token with 401 before the route does any work', () => {
    const { served, route: inner } = route();
    const guarded = requireBearer(inner, TOKEN);
    const res = response();
    guarded.handler(withHeader('Bearer nope'), res as unknown as http.ServerResponse);
    expect(res.status).toBe(401);
    expect(served).toEqual([]);
    guarded.handler(withHeader(`Bearer ${TOKEN}`), response() as unknown as http.ServerResponse);
    expect(served).toEqual(['served']);
  });

  it('leaves the route open when no token is configured', () => {
    const { route: inner } = route();
    expect(requireBearer(inner, undefined)).toBe(inner);
    expect(requireBearer(inner, '')).toBe(inner);
  });
});
