// Requests per second and CPU time per request on a hello route, four Fastify
// servers side by side in one run: bare; bare + the least a user would write
// for a tenant context (a header read, a Map lookup, AsyncLocalStorage.run in
// an onRequest hook); the peer stack a user would otherwise assemble
// (@fastify/request-context + @fastify/rate-limit keyed by tenant, in memory);
// and @tenant/fastify with the full pipeline (header resolution, in-memory
// store, policy, in-memory quota, context). Driven by autocannon in
// alternating rounds, with the ratios: see benchmarkAdapter() in
// @tenant/adapter-testkit/bench. Run with `pnpm bench` (after a build).
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s).
import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';

await benchmarkAdapter({
  name: 'fastify',
  script: import.meta.url,
  kinds: ['bare', 'minimal', 'peer', 'tenant'],
  // in each server's own process; `options` is set for the tenant one only
  async serve({ kind, options, hello, tenants }) {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    let route = async () => hello();
    if (options) await app.register((await import('../dist/index.js')).fastifyTenancy, options);
    if (kind === 'minimal') {
      const { AsyncLocalStorage } = await import('node:async_hooks');
      const als = new AsyncLocalStorage();
      app.addHook('onRequest', (request, reply, done) => {
        const tenant = tenants.get(request.headers['x-tenant-id']);
        if (tenant === undefined) return void reply.code(404).send();
        als.run(tenant, done);
      });
      route = async () => hello(als.getStore().id);
    } else if (kind === 'peer') {
      const { fastifyRequestContext, requestContext } = await import('@fastify/request-context');
      await app.register(fastifyRequestContext);
      app.addHook('onRequest', (request, reply, done) => {
        const tenant = tenants.get(request.headers['x-tenant-id']);
        if (tenant === undefined) return void reply.code(404).send();
        request.requestContext.set('tenant', tenant);
        done();
      });
      await app.register((await import('@fastify/rate-limit')).default, {
        timeWindow: 60_000,
        max: (request) => request.requestContext.get('tenant').requestsPerMinute,
        keyGenerator: (request) => request.requestContext.get('tenant').id,
      });
      route = async () => hello(requestContext.get('tenant').id);
    }
    app.get('/hello', route);
    return Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
  },
});
