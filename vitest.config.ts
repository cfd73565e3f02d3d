import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The whole-stack test needs Debian's Prometheus and Alertmanager (`npm run test:stack`); the
    // fault-injection suite takes minutes (`npm run test:faults`). CI runs both.
    exclude: ['test/stack/**', 'test/faults/**', 'node_modules/**'],
    // End-to-end tests spawn real processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
