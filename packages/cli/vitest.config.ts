import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'cli',
    include: ['test/**/*.test.ts'],
    // Each test runs the built binary several times as a child process; the machine is shared.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
