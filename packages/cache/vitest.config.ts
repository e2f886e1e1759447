import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'cache', include: ['test/**/*.test.ts'], benchmark: { include: ['bench/**/*.bench.ts'] } },
});
