/**
 * POST /admin/circuit-breaker/reset — closes a tripped monitoring breaker, including one that
 * has given up recovering. The route exists only when MONITORING_ADMIN_TOKEN is set, and always
 * requires that token; it reads no body and reflects nothing the client sent.
 */
import type { BreakerState, BreakerTransition } from '../rules/breaker.js';
import { bearerMatches, unauthorized } from './auth.js';
import { send, type Route } from './server.js';

export const BREAKER_RESET_PATH = '/admin/circuit-breaker/reset';

export function adminRoutes(token: string | undefined, reset: () => BreakerTransition | null, state: () => BreakerState): Record<string, Route> {
  if (!token) return {};
  return {
    [BREAKER_RESET_PATH]: {
      methods: ['POST'],
      handler: (req, res) => {
        req.resume(); // discard any body without buffering it
        if (!bearerMatches(req, token)) {
          unauthorized(res);
          return;
        }
        const transition = reset();
        send(res, 200, JSON.stringify({ reset: transition !== null, tripped: state().tripped }), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      },
    },
  };
}
