import Koa from 'koa';
import { requireTenant } from '@tenant/core';
import { tenancy } from '@tenant/koa';
import { quickstartOptions } from './quickstart-tenants.js';

export function createApp(): Koa {
  const app = new Koa();
  app.use(tenancy(quickstartOptions()));
  app.use(async (ctx) => {
    if (ctx.path === '/health') ctx.body = { status: 'ok' };
    else if (ctx.path === '/whoami') ctx.body = { tenant: requireTenant().id, plan: ctx.state.tenant?.plan };
  });
  return app;
}
