// Requests per second and CPU time per request on a hello route, four Koa
// servers side by side in one run: bare; bare + the least a user would write
// for a tenant context (a header read, a Map lookup, AsyncLocalStorage.run);
// the peer stack a user would otherwise assemble (that context middleware +
// koa-ratelimit with its memory driver, keyed by tenant); and @tenant/koa with
// the full pipeline (header resolution, in-memory store, policy, in-memory
// quota, context). Driven by autocannon in alternating rounds, with the
// ratios: see benchmarkAdapter() in @tenant/adapter-testkit/bench. Run with
// `pnpm bench` (after a build).
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s).
import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';

await benchmarkAdapter({
  name: 'koa',
  script: import.meta.url,
  kinds: ['bare', 'minimal', 'peer', 'tenant'],
  // in each server's own process; `options` is set for the tenant one only
  async serve({ kind, options, hello, tenants }) {
    const { default: Koa } = await import('koa');
    const app = new Koa();
    let answer = () => hello();
    if (options) app.use((await import('../dist/index.js')).tenancy(options));
    if (tenants) {
      const { AsyncLocalStorage } = await import('node:async_hooks');
      const als = new AsyncLocalStorage();
      app.use((ctx, next) => {
        const tenant = tenants.get(ctx.get('x-tenant-id'));
        if (tenant === undefined) return void (ctx.status = 404);
        return als.run(tenant, next);
      });
      if (kind === 'peer') {
        const { default: ratelimit } = await import('koa-ratelimit');
        app.use(
          ratelimit({
            driver: 'memory',
            db: new Map(),
            duration: 60_000,
            max: tenants.values().next().value.requestsPerMinute,
            id: () => als.getStore().id,
          }),
        );
      }
      answer = () => hello(als.getStore().id);
    }
    app.use((ctx) => {
      if (ctx.path === '/hello') ctx.body = answer();
    });
    return new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port));
    });
  },
});
