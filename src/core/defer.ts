/**
 * Moves work off the bot's call stack: `push` only appends to a bounded buffer and schedules one
 * flush on the next turn of the event loop; the flush runs the handler over everything buffered.
 * For work a subscriber would otherwise do inline (formatting and logging a trade notification),
 * which the bot's hot path must not wait for.
 */
export interface Deferred<T> {
  push(item: T): void;
  /** Runs pending items now (at shutdown). */
  flush(): void;
}

export function deferred<T>(handle: (item: T) => void, capacity: number, onDrop: () => void, onError: (error: unknown) => void): Deferred<T> {
  let pending: T[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batch = pending;
    pending = [];
    for (const item of batch) {
      try {
        handle(item);
      } catch (error) {
        onError(error);
      }
    }
  };
  return {
    push(item) {
      if (pending.length >= capacity) {
        // A burst faster than the loop turns: keep the newest, count what is lost.
        pending.shift();
        onDrop();
      }
      pending.push(item);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush).unref();
      }
    },
    flush,
  };
}
