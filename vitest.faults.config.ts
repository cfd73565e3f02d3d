import { defineConfig } from 'vitest/config';

/**
 * The fault-injection suite (`npm run test:faults`): real processes and sockets on loopback,
 * each case bounded in time. Files run one at a time: several cases measure the bot's event-loop
 * delay, and two cores shared with a parallel file would make that measurement meaningless.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 60_000,
  },
});
