import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import Koa2 from 'koa2';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryTenantStore, createTenancy, currentTenantId, type AdapterOptions, type SettleEvent } from '@tenant/core';
import { tenancy } from '../src/index.js';

const majors = [
  ['koa 3', Koa],
  ['koa 2', Koa2],
] as const;

const store = () =>
  createMemoryTenantStore({
    tenants: [
      { id: 'acme', quota: { requests: { limit: 100, windowMs: 60_000 }, tokens: { limit: 100, windowMs: 60_000 } } },
      { id: 'globex' },
      { id: 'initech', status: 'suspended' },
    ],
  });

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

async function listen(app: Koa): Promise<string> {
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

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
        const seen: (string | undefined)[] = [currentTenantId()];
        await sleep(2);
        seen.push(currentTenantId());
        await new Promise<void>((resolve) => setTimeout(() => (seen.push(currentTenantId()), resolve()), 1));
        await new Promise<void>((resolve) => {
          Readable.from(['a', 'b']).on('data', () => seen.push(currentTenantId())).on('end', resolve);
        });
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
    const calls = Array.from({ length: 12 }, (_, i) => [i % 2 === 0 ? 'acme' : 'globex', 12 - i] as const);
    const answers = await Promise.all(calls.map(async ([tenant, ms]) => (await get(`${base}/${ms}`, tenant)).json()));
    for (const answer of answers as { header: string; current: string }[]) expect(answer.current).toBe(answer.header);
  });

  it('refuses with problem+json and never calls next', async () => {
    let reached = 0;
    const base = await listen(
      app({ store: store() }, (ctx) => {
        reached += 1;
        ctx.body = 'no';
      }),
    );
    const cases = [
      ['initech', 403, 'tenant_suspended'],
      ['nobody', 404, 'tenant_not_found'],
      ['Bad Id!', 400, 'tenant_invalid'],
      [undefined, 400, 'tenant_missing'],
    ] as const;
    for (const [tenant, status, code] of cases) {
      const res = await get(`${base}/x`, tenant);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toMatchObject({ status, code });
    }
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
      app({ store: store(), cost: () => ({ requests: 1, tokens: 60 }) }, (ctx) => {
        ctx.body = 'ok';
      }),
    );
    const first = await get(`${base}/x`, 'acme');
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit')).not.toBeNull();
    const second = await get(`${base}/x`, 'acme');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).not.toBeNull();
    expect(await second.json()).toMatchObject({ code: 'quota_exceeded' });
  });

  it('settles the actual cost read from the response', async () => {
    const settled: SettleEvent[] = [];
    const base = await listen(
      app(
        {
          store: store(),
          cost: () => ({ tokens: 50 }),
          hooks: { onSettle: (event) => void settled.push(event) },
          actualCost: (_request, response) => ({ tokens: Number(response.getHeader('x-actual-tokens') ?? 50) }),
        },
        (ctx) => {
          ctx.set('x-actual-tokens', '10');
          ctx.body = 'ok';
        },
      ),
    );
    for (const expected of [200, 200, 200]) {
      const res = await get(`${base}/x`, 'acme');
      await res.text();
      expect(res.status).toBe(expected);
    }
    await expect.poll(() => settled.length).toBe(3);
    expect(settled.map((event) => event.actual.tokens)).toEqual([10, 10, 10]);
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
