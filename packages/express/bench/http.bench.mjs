// Requests per second and CPU time per request on a hello route, four Express
// servers side by side in one run: bare; bare + the least a user would write
// for a tenant context (a header read, a Map lookup, AsyncLocalStorage.run);
// the peer stack a user would otherwise assemble (that context middleware +
// express-rate-limit keyed by tenant, in memory); and @tenant/express with the
// full pipeline (header resolution, in-memory store, policy, in-memory quota,
// context). Driven by autocannon in alternating rounds, with the ratios: see
// benchmarkAdapter() in @tenant/adapter-testkit/bench. Run with `pnpm bench`
// (after a build).
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s).
import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';

await benchmarkAdapter({
  name: 'express',
  script: import.meta.url,
  kinds: ['bare', 'minimal', 'peer', 'tenant'],
  // in each server's own process; `options` is set for the tenant one only
  async serve({ kind, options, hello, tenants }) {
    const { default: express } = await import('express');
    const app = express();
    let route = (_req, res) => {
      res.send(hello());
    };
    if (options) app.use((await import('../dist/index.js')).tenancy(options));
    if (tenants) {
      const { AsyncLocalStorage } = await import('node:async_hooks');
      const als = new AsyncLocalStorage();
      app.use((req, res, next) => {
        const tenant = tenants.get(req.get('x-tenant-id'));
        if (tenant === undefined) return void res.sendStatus(404);
        als.run(tenant, next);
      });
      if (kind === 'peer') {
        const { rateLimit } = await import('express-rate-limit');
        app.use(rateLimit({ windowMs: 60_000, limit: () => als.getStore().requestsPerMinute, keyGenerator: () => als.getStore().id }));
      }
      route = (_req, res) => {
        res.send(hello(als.getStore().id));
      };
    }
    app.get('/hello', route);
    return new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port));
    });
  },
});
