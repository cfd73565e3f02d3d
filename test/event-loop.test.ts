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

  it('reports nothing before anything was measured, then the delay over the period', async () => {
    eld = new EventLoopDelay(20);
    expect(eld.roll()).toBeUndefined();
    expect(eld.last).toBeUndefined();
    await sleep(200);
    const quiet = eld.roll()!;
    // A timer that ran on time reads the loop's timer granularity (about a millisecond), not the 20 ms period.
    expect(quiet.p50).toBeGreaterThanOrEqual(0);
    expect(quiet.p50).toBeLessThan(0.01);
    expect(eld.last).toBe(quiet);
  });

  it('never keeps the process alive: one with only the monitor, never stopped, exits', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const module = fileURLToPath(new URL('../src/state/event-loop.ts', import.meta.url));
    const script = `import { EventLoopDelay } from ${JSON.stringify(module)}; const e = new EventLoopDelay(10); e.roll(); setTimeout(() => e.roll(), 50);`;
    const run = spawnSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e', script], { timeout: 10_000 });
    // Node's timers are unref'd: the process ends once its own work is done, rolled or not.
    expect(run.status).toBe(0);
    expect(run.signal).toBeNull();
  });
});
