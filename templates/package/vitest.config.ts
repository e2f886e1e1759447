import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: '__NAME__', include: ['test/**/*.test.ts'] },
});
