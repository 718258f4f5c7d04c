import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Limits that catch a hang, not a speed check: on a busy 2-core machine one CLI spawn can
    // take 10 s or more, and several tests spawn half a dozen.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Child processes and real SQLite files: two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
