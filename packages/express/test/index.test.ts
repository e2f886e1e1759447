import { createServer, type RequestListener } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import express4 from 'express4';
import { describe, expect, it } from 'vitest';
import { createTenancy, currentTenantId, type AdapterOptions } from '@tenant/core';
import { ACTUAL_TOKENS_HEADER, assertQuotaEnforced, assertRefusals, assertTenantsApart, closeAfterEach, createAdapterTestStore as store, createSettleProbe, quotaTestCost, sendRequest, traceContext } from '@tenant/adapter-testkit';
import { tenancy } from '../src/index.js';

const majors = [
  ['express 5', express],
  ['express 4', express4],
] as const;

const servers = closeAfterEach();
const listen = (app: (req: never, res: never) => void) => servers.listen(createServer(app as RequestListener));
const get = (url: string, tenant?: string) => fetch(url, { headers: tenant ? { 'x-tenant-id': tenant } : {} });

describe.each(majors)('%s', (_name, createApp) => {
  const app = (options: AdapterOptions) => {
    const a = createApp();
    a.use(tenancy(options));
    return a;
  };

  it('exposes the tenant and keeps the context across await, timers and streams', async () => {
    const a = app({ store: store() });
    a.get('/ctx', async (req, res) => {
      const seen = await traceContext();
      res.json({ tenant: req.tenant?.id, source: req.tenantDecision?.ok ? (req.tenantDecision as { source?: string }).source : undefined, seen });
    });
    const base = await listen(a);
    const res = await get(`${base}/ctx`, 'globex');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: 'globex', source: 'header', seen: ['globex', 'globex', 'globex', 'globex', 'globex'] });
  });

  it('keeps concurrent tenants apart', async () => {
    const a = app({ store: store() });
    a.get('/slow/:ms', async (req, res) => {
      await sleep(Number(req.params['ms']));
      res.json({ header: req.get('x-tenant-id'), current: currentTenantId() });
    });
    await assertTenantsApart(await listen(a), (ms) => `/slow/${ms}`);
  });

  it('refuses with problem+json and never reaches the route', async () => {
    let reached = 0;
    const a = app({ store: store() });
    a.get('/x', (_req, res) => {
      reached += 1;
      res.send('no');
    });
    await assertRefusals(await listen(a), '/x');
    expect(reached).toBe(0);
  });

  it('lets skipped paths through with no tenant, even when mounted under a path', async () => {
    const outer = createApp();
    const inner = createApp.Router();
    inner.use(tenancy({ store: store(), skipPaths: ['/api/health'] }));
    inner.get('/health', (req, res) => {
      res.json({ tenant: req.tenant ?? null, current: currentTenantId() ?? null });
    });
    inner.get('/whoami', (req, res) => {
      res.json({ tenant: req.tenant?.id });
    });
    outer.use('/api', inner);
    const base = await listen(outer);
    const health = await get(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ tenant: null, current: null });
    expect(await (await get(`${base}/api/whoami`, 'acme')).json()).toEqual({ tenant: 'acme' });
    expect((await get(`${base}/api/whoami`)).status).toBe(400);
  });

  it('adds rate-limit headers, and answers 429 when the quota is used up', async () => {
    const a = app({ store: store(), cost: quotaTestCost });
    a.get('/x', (_req, res) => {
      res.send('ok');
    });
    await assertQuotaEnforced(await listen(a), '/x');
  });

  it('settles the actual cost read from the response', async () => {
    const probe = createSettleProbe();
    const a = app({ store: store(), ...probe.options });
    a.get('/x', (_req, res) => {
      res.set(ACTUAL_TOKENS_HEADER, '10').send('ok');
    });
    await probe.assertSettled(await listen(a), '/x');
  });

  it('routes route errors to the express error handler, still in the tenant context', async () => {
    const a = app({ tenancy: createTenancy({ store: store() }) });
    a.get('/throw', async () => {
      await sleep(1);
      throw new Error('route failed');
    });
    a.get('/throw-sync', () => {
      throw new Error('route failed');
    });
    a.use((error: Error, _req: unknown, res: { status(n: number): { json(v: unknown): void } }, next: (e: unknown) => void) => {
      void next;
      res.status(500).json({ message: error.message, current: currentTenantId() });
    });
    const base = await listen(a);
    const sync = await get(`${base}/throw-sync`, 'acme');
    expect(sync.status).toBe(500);
    expect(await sync.json()).toEqual({ message: 'route failed', current: 'acme' });
    if (createApp === express) {
      // only express 5 forwards rejected promises of handlers
      const asyncError = await get(`${base}/throw`, 'acme');
      expect(await asyncError.json()).toEqual({ message: 'route failed', current: 'acme' });
    }
  });
});

describe('tenancy() setup', () => {
  it('refuses nonsense options with a TypeError', () => {
    expect(() => tenancy({} as never)).toThrow(TypeError);
    expect(() => tenancy({ store: store(), actualCost: 'x' } as never)).toThrow(/actualCost/);
  });
});

describe('tenancy(): the path policyRequest and cost see', () => {
  const seenBy = async (settings: Record<string, boolean>, path: string, atRoute = false) => {
    const seen: { path: string; rawPath: string; route: string | undefined }[] = [];
    const app = express();
    for (const [name, value] of Object.entries(settings)) app.set(name, value);
    const middleware = tenancy({ store: store(), cost: (request) => (seen.push({ path: request.path, rawPath: request.rawPath, route: request.route }), { requests: 1 }) });
    if (atRoute) app.get('/projects/:id/export', middleware, (_req, res) => void res.send('ok'));
    else {
      app.use(middleware);
      app.get('/projects/:id/export', (_req, res) => void res.send('ok'));
    }
    const res = await sendRequest(await listen(app), { path, headers: { 'x-tenant-id': 'acme' } });
    return { status: res.status, ...seen[0] };
  };

  it('is canonical by the app\'s routing settings (case-insensitive and non-strict by default)', async () => {
    expect(await seenBy({}, '/Projects/7/EXPORT/')).toEqual({ status: 200, path: '/projects/7/export', rawPath: '/Projects/7/EXPORT/', route: undefined });
    // express does not merge slashes: '//' stays (and express does not route it)
    expect(await seenBy({}, '/projects//7/export')).toEqual({ status: 404, path: '/projects//7/export', rawPath: '/projects//7/export', route: undefined });
    const exact = { 'case sensitive routing': true, 'strict routing': true };
    expect(await seenBy(exact, '/Projects/7/export/')).toEqual({ status: 404, path: '/Projects/7/export/', rawPath: '/Projects/7/export/', route: undefined });
  });

  it('has the matched route when it runs inside the route', async () => {
    expect(await seenBy({}, '/PROJECTS/7/export', true)).toEqual({ status: 200, path: '/projects/7/export', rawPath: '/PROJECTS/7/export', route: '/projects/:id/export' });
  });

  it('refuses an ambiguous path with 400 path_invalid before the route runs', async () => {
    expect(await seenBy({}, '/projects/a%2Fb/export')).toEqual({ status: 400 });
  });
});
