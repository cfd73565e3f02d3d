import { defineConfig } from 'vitest/config';

/** The whole-stack test (`npm run test:stack`): real Prometheus, Alertmanager and bots. */
export default defineConfig({
  test: {
    include: ['test/stack/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
