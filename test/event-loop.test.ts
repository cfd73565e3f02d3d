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

  it('a block that ends right before the window closes is counted once, in the next window', async () => {
    eld = new EventLoopDelay(20);
    await sleep(60);
    eld.roll();
    await sleep(60);
    block(300);
    // The cycle runs before Node's timer could: the closing window has not seen the block yet.
    const closing = eld.roll()!;
    expect(closing.max).toBeLessThan(0.2);
    // The timer runs late once the loop is free: the block is in the window that saw it end...
    await sleep(100);
    const next = eld.roll()!;
    expect(next.max).toBeGreaterThan(0.25);
    expect(next.max).toBeLessThan(1);
    // ...and in no window after it.
    await sleep(100);
    expect(eld.roll()!.max).toBeLessThan(0.2);
  });

  it('a block in the middle of a window shows as its maximum, a quiet window near zero', async () => {
    eld = new EventLoopDelay(20);
    await sleep(50);
    eld.roll();
    await sleep(50);
    block(200);
    await sleep(50); // the late timer runs
    const blocked = eld.roll()!;
    expect(blocked.max).toBeGreaterThan(0.15);
    expect(blocked.p99).toBeGreaterThan(0.15);
    expect(blocked.p50).toBeLessThan(blocked.max);
    await sleep(200);
    const quiet = eld.roll()!;
    expect(quiet.max).toBeLessThan(0.1);
    expect(quiet.p50).toBeLessThan(0.05);
  });

  it('a block in the first period after start, before Node\'s timer has woken once, is seen too', async () => {
    eld = new EventLoopDelay(100);
    eld.roll();
    block(300);
    await sleep(50);
    const w = eld.roll()!;
    expect(w.max).toBeGreaterThan(0.15);
    expect(w.max).toBeLessThan(1);
  });

  it('a stall shorter than the last window\'s longest, in the new monitor\'s first period, is still counted', async () => {
    eld = new EventLoopDelay(50);
    await sleep(200);
    eld.roll();
    await sleep(100);
    block(400);
    await sleep(100);
    expect(eld.roll()!.max).toBeGreaterThan(0.3);
    // Right after the close: the new monitor's first wake-up records nothing, and the one before
    // records less than its own longest; it is the sum of what it recorded that shows the stall.
    block(150);
    await sleep(300);
    const next = eld.roll()!;
    expect(next.max).toBeGreaterThan(0.08);
    expect(next.max).toBeLessThan(0.3);
  });

  it('reports nothing before anything was measured, then the delay over the period', async () => {
    eld = new EventLoopDelay(20);
    expect(eld.roll()).toBeUndefined();
    expect(eld.last).toBeUndefined();
    await sleep(200);
    const quiet = eld.roll()!;
    // A timer that ran on time reads the loop's timer granularity (about a millisecond), not the 20 ms period.
    expect(quiet.p50).toBeLessThan(0.05);
    expect(eld.last).toBe(quiet);
  });

  it('never keeps the process alive: one with only the monitor, never stopped, exits at once', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const module = fileURLToPath(new URL('../src/state/event-loop.ts', import.meta.url));
    // A 5 s period and a roll: the one-shot timers (first period, retiring) are due seconds away.
    const script = `import { EventLoopDelay } from ${JSON.stringify(module)}; new EventLoopDelay(5000).roll();`;
    const started = performance.now();
    const run = spawnSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e', script], { timeout: 10_000 });
    expect(run.status).toBe(0);
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
