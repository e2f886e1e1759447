import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'example-koa', include: ['test/**/*.test.ts'] },
});
