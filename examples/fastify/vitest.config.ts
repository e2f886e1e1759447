import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'example-fastify', include: ['test/**/*.test.ts'] },
});
