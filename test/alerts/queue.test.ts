import { describe, expect, it } from 'vitest';
import { DeliveryQueue } from '../../src/alerts/queue.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A sender whose every call waits until the test releases it. */
function gatedSender() {
  const calls: Array<{ item: string; gate: Deferred }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (item: string): Promise<void> => {
    const gate = deferred();
    calls.push({ item, gate });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await gate.promise;
    } finally {
      inFlight--;
    }
  };
  return {
    send,
    calls,
    maxInFlight: () => maxInFlight,
    items: () => calls.map((c) => c.item),
    release: async (): Promise<void> => {
      calls.at(-1)!.gate.resolve();
      await settle();
    },
  };
}

function refTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('DeliveryQueue', () => {
  it('returns from push before sending anything', () => {
    const sent: string[] = [];
    const queue = new DeliveryQueue<string>({ capacity: 5, send: async (item) => void sent.push(item) });
    expect(queue.push('a')).toBe(true);
    expect(sent).toEqual([]);
  });

  it('sends in FIFO order, one item at a time', async () => {
    const sender = gatedSender();
    const queue = new DeliveryQueue<string>({ capacity: 5, send: sender.send });
    for (const item of ['a', 'b', 'c']) queue.push(item);
    await settle();
    expect(sender.items()).toEqual(['a']);
    await sender.release();
    expect(sender.items()).toEqual(['a', 'b']);
    await sender.release();
    await sender.release();
    expect(sender.items()).toEqual(['a', 'b', 'c']);
    expect(sender.maxInFlight()).toBe(1);
    expect(queue.idle).toBe(true);
  });

  it('when full, drops the oldest waiting item, reports it, and still sends the newest', async () => {
    const sender = gatedSender();
    const dropped: string[] = [];
    const queue = new DeliveryQueue<string>({ capacity: 2, send: sender.send, onDrop: (item) => dropped.push(item) });
    queue.push('a');
    await settle(); // 'a' is in flight and no longer counts against the capacity
    for (const item of ['b', 'c', 'd', 'e']) queue.push(item);
    expect(dropped).toEqual(['b', 'c']);
    expect(queue.size).toBe(2);
    await sender.release();
    await sender.release();
    await sender.release();
    expect(sender.items()).toEqual(['a', 'd', 'e']);
  });

  it('keeps going after a send that rejects or throws synchronously, reporting each error', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const queue = new DeliveryQueue<string>({
      capacity: 5,
      send: (item) => {
        if (item === 'sync') throw new Error('sync');
        if (item === 'async') return Promise.reject(new Error('async'));
        sent.push(item);
        return Promise.resolve();
      },
      onError: (error) => errors.push((error as Error).message),
    });
    for (const item of ['sync', 'async', 'ok']) queue.push(item);
    await queue.drain(1_000);
    expect(errors).toEqual(['sync', 'async']);
    expect(sent).toEqual(['ok']);
  });

  it('survives callbacks that throw', async () => {
    const queue = new DeliveryQueue<string>({
      capacity: 1,
      send: () => Promise.reject(new Error('down')),
      onDrop: () => {
        throw new Error('metric broken');
      },
      onError: () => {
        throw new Error('logger broken');
      },
    });
    expect(() => {
      for (let i = 0; i < 5; i++) queue.push(String(i));
    }).not.toThrow();
    await queue.drain(1_000);
    expect(queue.idle).toBe(true);
  });

  it('drain resolves once the queue is idle', async () => {
    const sender = gatedSender();
    const queue = new DeliveryQueue<string>({ capacity: 5, send: sender.send });
    queue.push('a');
    let drained = false;
    const drain = queue.drain(10_000).then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    await sender.release();
    await drain;
    expect(drained).toBe(true);
  });

  it('drain resolves at its bound while a send hangs, without holding the process open', async () => {
    const queue = new DeliveryQueue<string>({ capacity: 5, send: () => new Promise<void>(() => {}) });
    queue.push('a');
    await settle();
    const before = refTimers();
    const drain = queue.drain(50);
    expect(refTimers()).toBe(before);
    await drain;
    expect(queue.idle).toBe(false);
  });

  it('close discards waiting items, releases drain waiters and refuses new items', async () => {
    const sender = gatedSender();
    const queue = new DeliveryQueue<string>({ capacity: 5, send: sender.send });
    for (const item of ['a', 'b', 'c']) queue.push(item);
    await settle();
    const drain = queue.drain(10_000);
    expect(queue.close()).toBe(2);
    await drain;
    expect(queue.push('d')).toBe(false);
    await sender.release();
    expect(sender.items()).toEqual(['a']);
  });
});

describe('DeliveryQueue by rank', () => {
  // Items are "<rank><name>": '0dailyLoss' is rank 0, the most urgent.
  const rank = (item: string): number => Number(item[0]);

  it('sends the most urgent waiting item next, right after the one in flight, FIFO within a rank', async () => {
    const sender = gatedSender();
    const queue = new DeliveryQueue<string>({ capacity: 10, send: sender.send, rank });
    queue.push('4fill-a');
    await settle(); // in flight
    for (const item of ['4fill-b', '2failed', '4fill-c', '1warning', '0critical-a', '0critical-b']) queue.push(item);
    expect(queue.nextRank()).toBe(0);
    for (let i = 0; i < 7; i++) await sender.release();
    expect(sender.items()).toEqual(['4fill-a', '0critical-a', '0critical-b', '1warning', '2failed', '4fill-b', '4fill-c']);
    expect(queue.nextRank()).toBeUndefined();
  });

  it('when full, drops the oldest of the least urgent rank, never a more urgent item', async () => {
    const sender = gatedSender();
    const dropped: string[] = [];
    const queue = new DeliveryQueue<string>({ capacity: 3, send: sender.send, rank, onDrop: (item) => dropped.push(item) });
    queue.push('0inflight');
    await settle();
    for (const item of ['4fill-a', '0critical', '4fill-b']) queue.push(item);
    queue.push('1warning'); // full: the oldest fill goes
    queue.push('0critical-2'); // full: the other fill goes
    expect(dropped).toEqual(['4fill-a', '4fill-b']);
    queue.push('1warning-2'); // full of more urgent or equal: the oldest warning goes
    expect(dropped).toEqual(['4fill-a', '4fill-b', '1warning']);
    for (let i = 0; i < 4; i++) await sender.release();
    expect(sender.items()).toEqual(['0inflight', '0critical', '0critical-2', '1warning-2']);
  });

  it('turns away a newcomer less urgent than everything waiting in a full queue', async () => {
    const sender = gatedSender();
    const dropped: string[] = [];
    const queue = new DeliveryQueue<string>({ capacity: 2, send: sender.send, rank, onDrop: (item) => dropped.push(item) });
    queue.push('0inflight');
    await settle();
    queue.push('0a');
    queue.push('1b');
    expect(queue.push('4fill')).toBe(true);
    expect(dropped).toEqual(['4fill']);
    expect(queue.size).toBe(2);
  });

  it('caps one rank below the capacity, dropping that rank\'s oldest while room is left for the others', async () => {
    const sender = gatedSender();
    const dropped: string[] = [];
    const queue = new DeliveryQueue<string>({
      capacity: 10,
      send: sender.send,
      rank,
      rankCapacity: (r) => (r === 4 ? 2 : Number.POSITIVE_INFINITY),
      onDrop: (item) => dropped.push(item),
    });
    queue.push('0inflight');
    await settle();
    for (const item of ['4a', '4b', '4c', '1w']) queue.push(item);
    expect(dropped).toEqual(['4a']);
    expect(queue.size).toBe(3);
  });

  it('treats a rank that is not a whole number in range as the least urgent', async () => {
    const sender = gatedSender();
    const queue = new DeliveryQueue<string>({ capacity: 5, send: sender.send, rank: (item) => (item === 'odd' ? Number.NaN : 0) });
    queue.push('first');
    await settle();
    queue.push('odd');
    queue.push('urgent');
    await sender.release();
    await sender.release();
    expect(sender.items()).toEqual(['first', 'urgent', 'odd']);
  });
});
