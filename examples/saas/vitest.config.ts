import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'example-saas', include: ['test/**/*.test.ts'] },
});
