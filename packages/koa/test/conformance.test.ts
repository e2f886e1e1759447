import { createServer } from 'node:http';
import Koa from 'koa';
import Koa2 from 'koa2';
import { listen, runAdapterConformance, type StartServer } from '@tenant/adapter-testkit';
import { tenancy } from '../src/index.js';

const start =
  (KoaClass: typeof Koa): StartServer =>
  ({ options, handler }) => {
    const app = new KoaClass();
    app.silent = true;
    app.use(tenancy(options));
    app.use(async (ctx) => {
      // the handler answers on the raw response; a rejection goes to Koa's error handling (500)
      await handler({ req: ctx.req, res: ctx.res, tenant: ctx.state.tenant });
      ctx.respond = false;
    });
    return listen(createServer(app.callback()));
  };

runAdapterConformance('koa 3', start(Koa));
runAdapterConformance('koa 2', start(Koa2));
