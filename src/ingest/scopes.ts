/**
 * The operation the current async context runs in, as the subscribers see it: bound to the start
 * of each traced operation, so what the bot does inside a scan or a trade knows it.
 * - API calls made during an operation become events on its span (retries included);
 * - an order call inside a trade (the bot's own traceTradeExecution around the CLOB client, or
 *   createAndPostOrder calling postOrder) is part of that trade, not a second one.
 * And the api an instrumented client's requests count under, whatever host they go to.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from '@opentelemetry/api';

export interface OperationScope {
  readonly span?: Span | undefined;
  /** Inside a trade operation. */
  readonly trade: boolean;
  /** False once the operation ended: the async context (a timer set inside it) outlives it. */
  readonly open?: boolean;
}

export const operationScope = new AsyncLocalStorage<OperationScope>();

/** True while a trade operation runs in this async context, and has not ended. */
export function inTrade(): boolean {
  const scope = operationScope.getStore();
  return scope?.trade === true && scope.open !== false;
}

/** Set by an instrumented client around its requests: the api name they count under (`clob`). */
export const apiScope = new AsyncLocalStorage<string>();

let tradeScopeWanted = false;
const tradeScopeBinders = new Set<() => void>();

/** An instrumented client asks: from now on every trade enters its scope (the probe's included). */
export function wantTradeScope(): void {
  if (tradeScopeWanted) return;
  tradeScopeWanted = true;
  for (const bind of tradeScopeBinders) bind();
}

/** Runs `bind` once a trade scope is wanted (at once if it already is); returns the cancel. */
export function whenTradeScopeWanted(bind: () => void): () => void {
  if (tradeScopeWanted) {
    bind();
    return () => {};
  }
  tradeScopeBinders.add(bind);
  return () => tradeScopeBinders.delete(bind);
}
