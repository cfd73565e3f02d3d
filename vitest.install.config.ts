import { defineConfig } from 'vitest/config';

/**
 * The slow integration tests (`npm run test:install`): the package packed and installed as users
 * get it (from the tarball, and from a git URL with its prepare script) and the benchmark run end
 * to end at a tiny scale. Kept out of `npm test` (under a minute); CI runs them.
 */
export const INSTALL_TESTS = ['test/package.test.ts', 'test/package-git.test.ts', 'test/bench-smoke.test.ts'];

export default defineConfig({
  test: {
    include: INSTALL_TESTS,
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
