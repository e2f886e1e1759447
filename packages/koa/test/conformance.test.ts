import { createServer } from 'node:http';
import Koa from 'koa';
import Koa2 from 'koa2';
import { Router } from '@koa/router';
import { listen, runAdapterConformance, type StartServer } from '@tenant/adapter-testkit';
import { tenancy } from '../src/index.js';

const start =
  (KoaClass: typeof Koa, routerOptions: { sensitive?: boolean; strict?: boolean } = {}, routing?: { caseSensitive: boolean; strict: boolean; mergeSlashes: boolean }): StartServer =>
  ({ options, handler, routes }) => {
    const app = new KoaClass();
    app.silent = true;
    app.use(tenancy(routing === undefined ? options : { ...options, routing }));
    // the guarded routes, on @koa/router
    const router = new Router(routerOptions);
    for (const route of routes) {
      router[route.method === 'GET' ? 'get' : 'post'](route.path, async (ctx) => {
        await handler({ req: ctx.req, res: ctx.res, tenant: ctx.state.tenant, route: route.path });
        ctx.respond = false;
      });
    }
    app.use(router.routes());
    app.use(async (ctx) => {
      // the handler answers on the raw response; a rejection goes to Koa's error handling (500)
      await handler({ req: ctx.req, res: ctx.res, tenant: ctx.state.tenant });
      ctx.respond = false;
    });
    return listen(createServer(app.callback()));
  };

runAdapterConformance('koa 3', start(Koa));
runAdapterConformance('koa 2', start(Koa2));
// A case-sensitive, strict router, declared as such.
runAdapterConformance('koa 3, @koa/router sensitive and strict, declared', start(Koa, { sensitive: true, strict: true }, { caseSensitive: true, strict: true, mergeSlashes: false }), { only: ['path-variants', 'policy'] });
