import { defineConfig } from 'vitest/config';
import { INSTALL_TESTS } from './vitest.install.config.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The whole-stack test needs Debian's Prometheus and Alertmanager (`npm run test:stack`); the
    // fault-injection suite takes minutes (`npm run test:faults`); the package's install from a
    // tarball and a git URL and the benchmark smoke run take a minute between them
    // (`npm run test:install`, vitest.install.config.ts). CI runs all of them.
    exclude: ['test/stack/**', 'test/faults/**', ...INSTALL_TESTS, 'node_modules/**'],
    // End-to-end tests spend most of their time waiting on a spawned bot's cycles, not on a core:
    // four files at once on two cores took the rest of the suite from about 75 s to 42 s.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
