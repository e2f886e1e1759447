import { defineConfig } from 'vitest/config';

export default defineConfig({
  // end-to-end over HTTP against real databases, on a machine shared with other test runs
  test: { name: 'example-saas', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
});
