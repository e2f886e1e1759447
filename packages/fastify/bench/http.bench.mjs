// Requests per second on a hello route: bare Fastify vs Fastify with the full
// tenant middleware (header resolution, in-memory store, policy, in-memory
// quota, context), driven by autocannon in the same run, in alternating
// rounds, with the ratio and the CPU time per request printed: see
// benchmarkAdapter() in @tenant/adapter-testkit/bench. Run with `pnpm bench`
// (after a build).
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s).
import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';

await benchmarkAdapter({
  name: 'fastify',
  script: import.meta.url,
  // in each server's own process; `options` is undefined for the bare one
  async serve({ options, hello }) {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    if (options) await app.register((await import('../dist/index.js')).fastifyTenancy, options);
    app.get('/hello', async () => hello());
    return Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
  },
});
