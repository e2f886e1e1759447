import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'store-sql', include: ['test/**/*.test.ts'] },
});
