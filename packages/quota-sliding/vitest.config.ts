import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'quota-sliding', include: ['test/**/*.test.ts'] },
});
