import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'quota-sliding',
    include: ['test/**/*.test.ts'],
    // Forks the multi-process workers from the built package; rebuilds it when stale.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
  },
});
