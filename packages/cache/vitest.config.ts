import { defineConfig } from 'vitest/config';

// The Redis suites run twice: on ioredis 6 (the `ioredis` dev dependency) and
// on ioredis 5 (`ioredis5`, an npm alias), the two majors of the peer range.
// The second project resolves `ioredis` to `ioredis5` in the tests.
const redisSuites = ['test/tenant-cache.test.ts', 'test/layered-store.test.ts', 'test/ioredis-major.test.ts'];

export default defineConfig({
  test: {
    benchmark: { include: ['bench/**/*.bench.ts'] },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
    projects: [
      {
        extends: true,
        test: { name: 'cache', include: ['test/**/*.test.ts'], env: { TENANT_TEST_IOREDIS: 'ioredis' } },
      },
      {
        extends: true,
        resolve: { alias: [{ find: /^ioredis$/, replacement: 'ioredis5' }] },
        test: { name: 'cache (ioredis 5)', include: redisSuites, env: { TENANT_TEST_IOREDIS: 'ioredis5' } },
      },
    ],
  },
});
