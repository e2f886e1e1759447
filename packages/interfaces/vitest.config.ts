import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'interfaces', include: ['test/**/*.test.ts'] },
});
