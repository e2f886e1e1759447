// Requests per second on a hello route: bare Hono vs Hono with the full
// tenant middleware (header resolution, in-memory store, policy, in-memory
// quota, context), both on @hono/node-server, driven by autocannon in the
// same run, in alternating rounds: see benchmarkAdapter() in
// @tenant/adapter-testkit/bench. Run with `pnpm bench` (after a build).
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s);
// HOLD_CONTEXT=true mounts tenancy() with holdContext: true (every body read through a stream in the tenant context).
import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';

await benchmarkAdapter({
  name: process.env.HOLD_CONTEXT === 'true' ? 'hono (holdContext: true)' : 'hono',
  script: import.meta.url,
  // in each server's own process; `options` is undefined for the bare one
  async serve({ options, hello }) {
    const { Hono } = await import('hono');
    const { serve } = await import('@hono/node-server');
    const app = new Hono();
    if (options) app.use((await import('../dist/index.js')).tenancy({ ...options, ...(process.env.HOLD_CONTEXT === 'true' ? { holdContext: true } : {}) }));
    app.get('/hello', (c) => c.text(hello()));
    return new Promise((resolve) => {
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
    });
  },
});
