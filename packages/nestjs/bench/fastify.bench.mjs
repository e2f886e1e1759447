// Requests per second on a hello route: a bare Nest application on
// @nestjs/platform-fastify vs the same application with TenancyModule (header
// resolution, in-memory store, policy, in-memory quota, context), driven by
// autocannon in the same run, in alternating rounds, with the ratio and the
// CPU time per request printed: see benchmarkAdapter() in
// @tenant/adapter-testkit/bench. Run with `pnpm bench` (after a build).
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s).
import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';
import { serveNest } from './serve.mjs';

await benchmarkAdapter({
  name: 'nestjs on fastify',
  script: import.meta.url,
  // in each server's own process; `options` is undefined for the bare one
  serve: (setup) => serveNest('fastify', setup),
});
