import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopDelay } from '../src/state/event-loop.js';

const block = (ms: number): void => {
  const started = performance.now();
  while (performance.now() - started < ms) {
    /* the bot's own synchronous work */
  }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EventLoopDelay', () => {
  let eld: EventLoopDelay | undefined;
  afterEach(() => eld?.stop());

  it('a block that ends right before the window closes is in that window, and only in it', async () => {
    eld = new EventLoopDelay(20);
    await sleep(60);
    eld.roll();
    block(300);
    // The cycle runs before the monitor's own tick could: the block is still reported.
    const closing = eld.roll()!;
    expect(closing.max).toBeGreaterThan(0.25);
    expect(closing.max).toBeLessThan(1);
    // The tick that was late does not count the block a second time in the next window.
    await sleep(100);
    const next = eld.roll()!;
    expect(next.max).toBeLessThan(0.2);
  });

  it('a block in the middle of a window shows as its maximum, a quiet window near zero', async () => {
    eld = new EventLoopDelay(20);
    await sleep(50);
    eld.roll();
    block(200);
    await sleep(50); // the late tick runs
    const blocked = eld.roll()!;
    expect(blocked.max).toBeGreaterThan(0.15);
    expect(blocked.p50).toBeLessThan(blocked.max);
    await sleep(200);
    const quiet = eld.roll()!;
    expect(quiet.max).toBeLessThan(0.1);
    expect(quiet.p50).toBeLessThan(0.05);
  });

  it('reports nothing before anything was measured, and a block only once', () => {
    eld = new EventLoopDelay(1000);
    expect(eld.roll()).toBeUndefined();
    block(1100);
    const late = eld.roll()!;
    expect(late.max).toBeGreaterThan(0.05);
    // Right after, before the late tick has run: the 1.1 s block is not counted again (the bound
    // leaves room for a loaded host: 11 ms was read with four test files on two cores).
    expect(eld.roll()!.max).toBeLessThan(0.1);
  });
});
