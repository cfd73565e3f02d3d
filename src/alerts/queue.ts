// A bounded priority queue between the evaluators and a slow, fallible sender. The caller's side
// (`push`) is synchronous and cannot fail; the sender's side works one item at a time, so a sink
// that is backing off for a rate limit holds up only its own queue.
//
// Items carry a rank (0 the most urgent). The sender always takes the most urgent waiting item,
// oldest first within a rank, so an urgent item waits at most for the one in flight. When the
// queue is full, what goes is the oldest item of the least urgent rank present (the new item
// included): an urgent item is never dropped while a less urgent one waits.

export interface DeliveryQueueOptions<T> {
  /** Most items waiting (the one in flight not included). */
  capacity: number;
  /** Delivers one item; a rejection or throw is reported to `onError` and the queue moves on. */
  send: (item: T) => Promise<void>;
  /** An item's rank, 0 the most urgent; a whole number below MAX_RANKS. Without it, plain FIFO. */
  rank?: (item: T) => number;
  /**
   * Most items of one rank waiting, below `capacity` where a rank must not crowd out the others
   * (beyond it that rank's oldest goes). Defaults to `capacity`.
   */
  rankCapacity?: (rank: number) => number;
  /** An item that left the queue without being attempted (pushed out, or not let in). */
  onDrop?: (item: T) => void;
  onError?: (error: unknown, item: T) => void;
}

/** Ranks beyond this fold into the last one; a handful is all a sender needs. */
export const MAX_RANKS = 8;

export class DeliveryQueue<T> {
  private readonly capacity: number;
  private readonly send: (item: T) => Promise<void>;
  private readonly rankOf: (item: T) => number;
  private readonly rankCapacity: number[];
  private readonly onDrop: ((item: T) => void) | undefined;
  private readonly onError: ((error: unknown, item: T) => void) | undefined;
  // One FIFO per rank. Plain arrays: at the capacities used here `shift` costs less than a ring
  // buffer's bookkeeping.
  private readonly byRank: T[][] = Array.from({ length: MAX_RANKS }, () => []);
  private waiting = 0;
  private running = false;
  private closed = false;
  private readonly idleWaiters = new Set<() => void>();

  constructor(opts: DeliveryQueueOptions<T>) {
    this.capacity = wholeAtLeastOne(opts.capacity, 1);
    this.send = opts.send;
    const rank = opts.rank;
    this.rankOf = rank
      ? (item) => {
          const r = Math.floor(Number(rank(item)));
          return Number.isFinite(r) ? Math.min(Math.max(r, 0), MAX_RANKS - 1) : MAX_RANKS - 1;
        }
      : () => 0;
    this.rankCapacity = Array.from({ length: MAX_RANKS }, (_, r) =>
      Math.min(this.capacity, wholeAtLeastOne(opts.rankCapacity?.(r), this.capacity)),
    );
    this.onDrop = opts.onDrop;
    this.onError = opts.onError;
  }

  /** Items waiting, the one in flight not included. */
  get size(): number {
    return this.waiting;
  }

  /** Nothing waiting and nothing in flight. */
  get idle(): boolean {
    return this.waiting === 0 && !this.running;
  }

  /** The rank of the item that goes next, or undefined when none waits. */
  nextRank(): number | undefined {
    for (let r = 0; r < MAX_RANKS; r++) if (this.byRank[r]!.length > 0) return r;
    return undefined;
  }

  /**
   * Enqueues `item` and returns at once, making room when full (see the top of this file).
   * Returns false when closed.
   */
  push(item: T): boolean {
    if (this.closed) return false;
    const rank = this.rankOf(item);
    const own = this.byRank[rank]!;
    if (own.length >= this.rankCapacity[rank]!) {
      // A fresh item of a rank matters more than a stale one of the same rank.
      this.dropOldest(rank);
    } else if (this.waiting >= this.capacity) {
      const least = this.leastUrgentRank();
      if (least < rank) {
        // Everything waiting is more urgent than the newcomer: it is the one that goes.
        this.guard(() => this.onDrop?.(item));
        return true;
      }
      this.dropOldest(least);
    }
    own.push(item);
    this.waiting++;
    if (!this.running) {
      this.running = true;
      // Later, not now: the caller is an evaluator, and sending is not its work.
      queueMicrotask(() => void this.run());
    }
    return true;
  }

  /** Resolves once idle, or after `timeoutMs`, or on `close`; never rejects. */
  drain(timeoutMs: number): Promise<void> {
    if (this.idle || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const ms = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 0;
      // Unref'd: a drain at shutdown must bound the exit, never hold it open.
      const timer = setTimeout(done, ms);
      timer.unref();
      this.idleWaiters.add(done);
    });
  }

  /**
   * Stops taking and sending items. Waiting items are discarded (their number is returned); the
   * item in flight, if any, is the sender's to abort.
   */
  close(): number {
    if (this.closed) return 0;
    this.closed = true;
    const discarded = this.waiting;
    for (const items of this.byRank) items.length = 0;
    this.waiting = 0;
    this.settle();
    return discarded;
  }

  private leastUrgentRank(): number {
    for (let r = MAX_RANKS - 1; r > 0; r--) if (this.byRank[r]!.length > 0) return r;
    return 0;
  }

  private dropOldest(rank: number): void {
    const dropped = this.byRank[rank]!.shift() as T;
    this.waiting--;
    this.guard(() => this.onDrop?.(dropped));
  }

  private take(): T | undefined {
    for (const items of this.byRank) {
      if (items.length > 0) {
        this.waiting--;
        return items.shift();
      }
    }
    return undefined;
  }

  private async run(): Promise<void> {
    try {
      while (!this.closed && this.waiting > 0) {
        const item = this.take() as T;
        try {
          await this.send(item);
        } catch (error) {
          this.guard(() => this.onError?.(error, item));
        }
      }
    } finally {
      this.running = false;
      this.settle();
    }
  }

  private settle(): void {
    if (!this.idle && !this.closed) return;
    for (const done of [...this.idleWaiters]) done();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      // A failing callback (a metric, a log line) must not stop delivery.
    }
  }
}

function wholeAtLeastOne(value: unknown, fallback: number): number {
  const n = Math.floor(Number(value));
  return Number.isFinite(n) && n >= 1 ? n : fallback;
}
