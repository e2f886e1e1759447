import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'example-nestjs', include: ['test/**/*.test.ts'] },
});
