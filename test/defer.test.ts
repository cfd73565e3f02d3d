import { describe, expect, it } from 'vitest';
import { deferred } from '../src/core/defer.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('deferred', () => {
  it('runs nothing on the caller’s stack, everything on the next turn, in order', async () => {
    const seen: number[] = [];
    const d = deferred<number>((n) => seen.push(n), 10, () => {}, () => {});
    d.push(1);
    d.push(2);
    expect(seen).toEqual([]);
    await turn();
    expect(seen).toEqual([1, 2]);
  });

  it('keeps the newest when a burst overflows the buffer, counting each drop', async () => {
    const seen: number[] = [];
    let drops = 0;
    const d = deferred<number>((n) => seen.push(n), 3, () => (drops += 1), () => {});
    for (let i = 1; i <= 5; i++) d.push(i);
    await turn();
    expect(seen).toEqual([3, 4, 5]);
    expect(drops).toBe(2);
  });

  it('reports a throwing handler and goes on with the rest', async () => {
    const seen: number[] = [];
    const errors: unknown[] = [];
    const d = deferred<number>(
      (n) => {
        if (n === 2) throw new Error('boom');
        seen.push(n);
      },
      10,
      () => {},
      (e) => errors.push(e),
    );
    d.push(1);
    d.push(2);
    d.push(3);
    await turn();
    expect(seen).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
  });

  it('flushes on demand (shutdown) without waiting for the loop', () => {
    const seen: number[] = [];
    const d = deferred<number>((n) => seen.push(n), 10, () => {}, () => {});
    d.push(7);
    d.flush();
    expect(seen).toEqual([7]);
  });
});
