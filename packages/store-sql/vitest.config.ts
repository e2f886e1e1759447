import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'store-sql',
    include: ['test/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    // The suites share the real PostgreSQL, MariaDB and SQLite servers; a busy machine can be slow.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
