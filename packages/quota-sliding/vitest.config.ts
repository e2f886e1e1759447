import { defineConfig } from 'vitest/config';

// The Redis suites run twice: on ioredis 6 (the `ioredis` dev dependency) and
// on ioredis 5 (`ioredis5`, an npm alias), the two majors of the peer range.
// The second project resolves `ioredis` to `ioredis5` in the tests, and the
// multi-process workers read TENANT_TEST_IOREDIS to import the same major.
const redisSuites = ['test/semantics.test.ts', 'test/failure.test.ts', 'test/boundary.test.ts', 'test/multiprocess.test.ts', 'test/cluster.test.ts', 'test/ioredis-major.test.ts'];

export default defineConfig({
  test: {
    // Forks the multi-process workers from the built package; rebuilds it when stale.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
    projects: [
      {
        extends: true,
        test: { name: 'quota-sliding', include: ['test/**/*.test.ts'], env: { TENANT_TEST_IOREDIS: 'ioredis' } },
      },
      {
        extends: true,
        resolve: { alias: [{ find: /^ioredis$/, replacement: 'ioredis5' }] },
        test: { name: 'quota-sliding (ioredis 5)', include: redisSuites, env: { TENANT_TEST_IOREDIS: 'ioredis5' } },
      },
    ],
  },
});
