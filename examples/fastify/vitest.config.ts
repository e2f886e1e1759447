import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'example-node-http', include: ['test/**/*.test.ts'] },
});
