import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'example-express', include: ['test/**/*.test.ts'] },
});
