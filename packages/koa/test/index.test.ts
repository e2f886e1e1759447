import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import Koa2 from 'koa2';
import { Router } from '@koa/router';
import { describe, expect, it } from 'vitest';
import { createTenancy, currentTenantId, type AdapterOptions } from '@tenant/core';
import { ACTUAL_TOKENS_HEADER, assertQuotaEnforced, assertRefusals, assertTenantsApart, closeAfterEach, createAdapterTestStore as store, createSettleProbe, quotaTestCost, sendRequest, traceContext } from '@tenant/adapter-testkit';
import { tenancy } from '../src/index.js';

const majors = [
  ['koa 3', Koa],
  ['koa 2', Koa2],
] as const;

const servers = closeAfterEach();
const listen = (app: Koa) => servers.listen(createServer(app.callback()));
const get = (url: string, tenant?: string) => fetch(url, { headers: tenant ? { 'x-tenant-id': tenant } : {} });

describe.each(majors)('%s', (_name, KoaClass) => {
  const app = (options: AdapterOptions, route: Koa.Middleware) => {
    const a = new KoaClass();
    a.silent = true;
    a.use(tenancy(options));
    a.use(route);
    return a;
  };

  it('exposes the tenant in ctx.state and keeps the context across await, timers and streams', async () => {
    const base = await listen(
      app({ store: store() }, async (ctx) => {
        const seen = await traceContext();
        ctx.body = { tenant: ctx.state.tenant?.id, seen };
      }),
    );
    const res = await get(`${base}/ctx`, 'globex');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: 'globex', seen: ['globex', 'globex', 'globex', 'globex', 'globex'] });
  });

  it('keeps concurrent tenants apart', async () => {
    const base = await listen(
      app({ store: store() }, async (ctx) => {
        await sleep(Number(ctx.path.slice(1)));
        ctx.body = { header: ctx.get('x-tenant-id'), current: currentTenantId() };
      }),
    );
    await assertTenantsApart(base, (ms) => `/${ms}`);
  });

  it('refuses with problem+json and never calls next', async () => {
    let reached = 0;
    const base = await listen(
      app({ store: store() }, (ctx) => {
        reached += 1;
        ctx.body = 'no';
      }),
    );
    await assertRefusals(base, '/x');
    expect(reached).toBe(0);
  });

  it('lets skipped paths through with no tenant', async () => {
    const base = await listen(
      app({ store: store(), skipPaths: ['/health'] }, (ctx) => {
        ctx.body = { tenant: ctx.state.tenant ?? null, current: currentTenantId() ?? null, bypass: ctx.state.tenantDecision && 'bypass' in ctx.state.tenantDecision ? ctx.state.tenantDecision.bypass : null };
      }),
    );
    expect(await (await get(`${base}/health`)).json()).toEqual({ tenant: null, current: null, bypass: 'skip' });
    expect((await get(`${base}/healthz`)).status).toBe(400);
  });

  it('adds rate-limit headers, and answers 429 when the quota is used up', async () => {
    const base = await listen(
      app({ store: store(), cost: quotaTestCost }, (ctx) => {
        ctx.body = 'ok';
      }),
    );
    await assertQuotaEnforced(base, '/x');
  });

  it('settles the actual cost read from the response', async () => {
    const probe = createSettleProbe();
    const base = await listen(
      app({ store: store(), ...probe.options }, (ctx) => {
        ctx.set(ACTUAL_TOKENS_HEADER, '10');
        ctx.body = 'ok';
      }),
    );
    await probe.assertSettled(base, '/x');
  });

  it('lets errors reach upstream error handling, in the tenant context', async () => {
    const a = new KoaClass();
    a.silent = true;
    a.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        ctx.status = 500;
        ctx.body = { message: (error as Error).message, current: currentTenantId() ?? null };
      }
    });
    a.use(tenancy({ tenancy: createTenancy({ store: store() }) }));
    a.use(async () => {
      await sleep(1);
      throw new Error('route failed');
    });
    const base = await listen(a);
    const res = await get(`${base}/x`, 'acme');
    expect(res.status).toBe(500);
    // the catch runs outside tenancy(): the tenant context ends with its next()
    expect(await res.json()).toEqual({ message: 'route failed', current: null });
  });
});

describe('tenancy() setup', () => {
  it('refuses nonsense options with a TypeError', () => {
    expect(() => tenancy({} as never)).toThrow(TypeError);
    expect(() => tenancy({ store: store(), principal: 1 } as never)).toThrow(/principal/);
  });
});

describe('tenancy(): the path policyRequest and cost see', () => {
  const seenBy = async (path: string, options: { routing?: AdapterOptions['routing']; atRoute?: boolean } = {}) => {
    const seen: { path: string; rawPath: string; route: string | undefined }[] = [];
    const app = new Koa();
    const middleware = tenancy({ store: store(), ...(options.routing === undefined ? {} : { routing: options.routing }), cost: (request) => (seen.push({ path: request.path, rawPath: request.rawPath, route: request.route }), { requests: 1 }) });
    const router = new Router();
    if (options.atRoute === true) router.get('/projects/:id/export', middleware, (ctx) => void (ctx.body = 'ok'));
    else {
      app.use(middleware);
      router.get('/projects/:id/export', (ctx) => void (ctx.body = 'ok'));
    }
    app.use(router.routes());
    const res = await sendRequest(await listen(app), { path, headers: { 'x-tenant-id': 'acme' } });
    return { status: res.status, ...seen[0] };
  };

  it('is canonical by a lax router by default, by the declared routing otherwise', async () => {
    expect(await seenBy('/Projects//7/EXPORT/')).toEqual({ status: 404, path: '/projects/7/export', rawPath: '/Projects//7/EXPORT/', route: undefined });
    expect(await seenBy('/Projects/7/export/', { routing: { caseSensitive: true, strict: true } })).toEqual({ status: 200, path: '/Projects/7/export/', rawPath: '/Projects/7/export/', route: undefined });
  });

  it('has the matched route (ctx._matchedRoute) when it runs inside a koa-router route', async () => {
    expect(await seenBy('/PROJECTS/7/export', { atRoute: true })).toEqual({ status: 200, path: '/projects/7/export', rawPath: '/PROJECTS/7/export', route: '/projects/:id/export' });
  });

  it('refuses an ambiguous path with 400 path_invalid before the route runs', async () => {
    expect(await seenBy('/projects/7/../7/export')).toEqual({ status: 400 });
  });
});
