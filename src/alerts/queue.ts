// A bounded FIFO between the evaluators and a slow, fallible sender. The caller's side (`push`)
// is synchronous and cannot fail; the sender's side works one item at a time, so a sink that is
// backing off for a rate limit holds up only its own queue.

export interface DeliveryQueueOptions<T> {
  /** Most items waiting (the one in flight not included); beyond it the oldest waiting item goes. */
  capacity: number;
  /** Delivers one item; a rejection or throw is reported to `onError` and the queue moves on. */
  send: (item: T) => Promise<void>;
  /** An item pushed out by a newer one before it was attempted. */
  onDrop?: (item: T) => void;
  onError?: (error: unknown, item: T) => void;
}

export class DeliveryQueue<T> {
  private readonly capacity: number;
  private readonly send: (item: T) => Promise<void>;
  private readonly onDrop: ((item: T) => void) | undefined;
  private readonly onError: ((error: unknown, item: T) => void) | undefined;
  // A plain array: at the capacities used here `shift` costs less than a ring buffer's bookkeeping.
  private readonly items: T[] = [];
  private running = false;
  private closed = false;
  private readonly idleWaiters = new Set<() => void>();

  constructor(opts: DeliveryQueueOptions<T>) {
    const capacity = Math.floor(Number(opts.capacity));
    this.capacity = Number.isFinite(capacity) && capacity >= 1 ? capacity : 1;
    this.send = opts.send;
    this.onDrop = opts.onDrop;
    this.onError = opts.onError;
  }

  /** Items waiting, the one in flight not included. */
  get size(): number {
    return this.items.length;
  }

  /** Nothing waiting and nothing in flight. */
  get idle(): boolean {
    return this.items.length === 0 && !this.running;
  }

  /**
   * Enqueues `item` and returns at once. When the queue is full the oldest waiting item is
   * dropped: a fresh alert matters more than a stale one. Returns false when closed.
   */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.items.length >= this.capacity) {
      const dropped = this.items.shift() as T;
      this.guard(() => this.onDrop?.(dropped));
    }
    this.items.push(item);
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
    const discarded = this.items.length;
    this.items.length = 0;
    this.settle();
    return discarded;
  }

  private async run(): Promise<void> {
    try {
      while (!this.closed && this.items.length > 0) {
        const item = this.items.shift() as T;
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
