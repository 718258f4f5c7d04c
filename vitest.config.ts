import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Limits that catch a hang, not a speed check: on a busy 2-core machine one CLI spawn can
    // take tens of seconds, and several tests spawn half a dozen one after another. Each wait
    // inside a test has its own limit (PATIENCE_MS in test/helpers/cli.ts).
    testTimeout: 600_000,
    hookTimeout: 300_000,
    // Child processes and real SQLite files: two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
