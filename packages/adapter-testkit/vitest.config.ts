import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'adapter-testkit', include: ['test/**/*.test.ts'] },
});
