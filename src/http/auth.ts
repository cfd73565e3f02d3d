/**
 * Bearer-token checks for the plugin's HTTP endpoints. The comparison is constant-time over
 * digests, so neither the token's content nor its length leaks through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { send } from './server.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export function bearerMatches(req: http.IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  // Compare even when the header is missing, so a missing header costs the same as a wrong one.
  const presented = match?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(token)) && presented !== '';
}

export function unauthorized(res: http.ServerResponse): void {
  send(res, 401, JSON.stringify({ error: 'unauthorized' }), { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' });
}

/** Wraps a route so that it answers only requests carrying `token` (when one is configured). */
export function requireBearer<R extends { handler: (req: http.IncomingMessage, res: http.ServerResponse) => void }>(
  route: R,
  token: string | undefined,
): R {
  if (!token) return route;
  return {
    ...route,
    handler: (req, res) => {
      if (bearerMatches(req, token)) route.handler(req, res);
      else unauthorized(res);
    },
  };
}
