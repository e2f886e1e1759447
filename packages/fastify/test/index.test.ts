import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createTenancy, currentTenantId, type AdapterOptions } from '@tenant/core';
import { ACTUAL_TOKENS_HEADER, assertQuotaEnforced, assertRefusals, assertTenantsApart, closeAfterEach, createAdapterTestStore as store, createSettleProbe, quotaTestCost, sendRequest, traceContext } from '@tenant/adapter-testkit';
import { fastifyTenancy } from '../src/index.js';

const servers = closeAfterEach();

async function build(options: AdapterOptions, routes: (app: FastifyInstance) => void): Promise<string> {
  const app = Fastify();
  servers.add(() => app.close());
  await app.register(fastifyTenancy, options);
  routes(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

const get = (url: string, tenant?: string, init: RequestInit = {}) => fetch(url, { ...init, headers: tenant ? { 'x-tenant-id': tenant } : {} });

describe('fastifyTenancy', () => {
  it('exposes request.tenant and keeps the context in hooks, handler, await, timers and streams', async () => {
    const base = await build({ store: store() }, (a) => {
      const seen: (string | undefined)[] = [];
      a.addHook('preHandler', (_request, _reply, done) => {
        seen.length = 0;
        seen.push(currentTenantId());
        done();
      });
      a.addHook('onSend', async (_request, reply, payload) => {
        reply.header('x-on-send-tenant', currentTenantId() ?? 'none');
        return payload;
      });
      a.get('/ctx', async (request) => {
        seen.push(...(await traceContext()));
        return { tenant: request.tenant?.id, seen };
      });
    });
    const res = await get(`${base}/ctx`, 'globex');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-on-send-tenant')).toBe('globex');
    expect(await res.json()).toEqual({ tenant: 'globex', seen: Array(6).fill('globex') });
  });

  it('keeps the context after the body is parsed', async () => {
    const base = await build({ store: store() }, (a) => {
      a.post('/echo', async (request) => ({ current: currentTenantId(), size: JSON.stringify(request.body).length }));
    });
    const big = JSON.stringify({ text: 'x'.repeat(256 * 1024) });
    // the body arrives in parts, after the hooks ran: parsing ends on a later socket event
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(`${base}/echo`, { method: 'POST', headers: { 'x-tenant-id': 'acme', 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write(big.slice(0, 1000));
      setTimeout(() => req.end(big.slice(1000)), 30);
    });
    expect(JSON.parse(answer)).toEqual({ current: 'acme', size: big.length });
  });

  it('keeps concurrent tenants apart', async () => {
    const base = await build({ store: store() }, (a) => {
      a.get<{ Params: { ms: string } }>('/slow/:ms', async (request) => {
        await sleep(Number(request.params.ms));
        return { header: request.headers['x-tenant-id'], current: currentTenantId() };
      });
    });
    await assertTenantsApart(base, (ms) => `/slow/${ms}`);
  });

  it('refuses with problem+json and never runs the route', async () => {
    let reached = 0;
    const base = await build({ store: store() }, (a) => {
      a.get('/x', async () => {
        reached += 1;
        return 'no';
      });
    });
    await assertRefusals(base, '/x');
    expect(reached).toBe(0);
  });

  it('lets skipped paths through with no tenant', async () => {
    const base = await build({ store: store(), skipPaths: ['/health'] }, (a) => {
      a.get('/health', async (request) => ({ tenant: request.tenant ?? null, current: currentTenantId() ?? null }));
    });
    expect(await (await get(`${base}/health`)).json()).toEqual({ tenant: null, current: null });
  });

  it('adds rate-limit headers, and answers 429 when the quota is used up', async () => {
    const base = await build({ store: store(), cost: quotaTestCost }, (a) => {
      a.get('/x', async () => 'ok');
    });
    await assertQuotaEnforced(base, '/x');
  });

  it('settles the actual cost read from reply headers', async () => {
    const probe = createSettleProbe();
    const base = await build({ store: store(), ...probe.options }, (a) => {
      a.get('/x', async (_request, reply) => {
        void reply.header(ACTUAL_TOKENS_HEADER, '10');
        return 'ok';
      });
    });
    await probe.assertSettled(base, '/x');
  });

  it('routes handler errors to the error handler, in the tenant context', async () => {
    const base = await build({ tenancy: createTenancy({ store: store() }) }, (a) => {
      a.setErrorHandler(async (error: Error, _request, reply) => reply.code(500).send({ message: error.message, current: currentTenantId() }));
      a.get('/throw', async () => {
        await sleep(1);
        throw new Error('route failed');
      });
    });
    const res = await get(`${base}/throw`, 'acme');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'route failed', current: 'acme' });
  });

  it('refuses nonsense options at registration with a TypeError', async () => {
    const bad = Fastify();
    void bad.register(fastifyTenancy, {} as never);
    await expect(bad.ready()).rejects.toThrow(/needs a store/);
  });
});

describe('fastifyTenancy: the path policyRequest and cost see', () => {
  const seenBy = async (config: FastifyServerOptions, path: string) => {
    const seen: { path: string; rawPath: string; route: string | undefined }[] = [];
    const app = Fastify(config);
    await app.register(fastifyTenancy, { store: store(), cost: (request) => (seen.push({ path: request.path, rawPath: request.rawPath, route: request.route }), { requests: 1 }) });
    app.get('/chat', async () => 'ok');
    app.get('/projects/:id/export', async () => 'ok');
    servers.add(() => app.close());
    const res = await sendRequest(await app.listen({ port: 0, host: '127.0.0.1' }), { path, headers: { 'x-tenant-id': 'acme' } });
    return { status: res.status, ...seen[0] };
  };

  it('is canonical by the instance\'s router settings, with the matched route', async () => {
    expect(await seenBy({}, '/ch%61t')).toEqual({ status: 200, path: '/chat', rawPath: '/ch%61t', route: '/chat' });
    expect(await seenBy({}, '/projects/7/%65xport')).toEqual({ status: 200, path: '/projects/7/export', rawPath: '/projects/7/%65xport', route: '/projects/:id/export' });
    // the default router is case-sensitive and strict: these are other paths (404), and so are their canonical forms
    expect(await seenBy({}, '/Chat/')).toEqual({ status: 404, path: '/Chat/', rawPath: '/Chat/', route: undefined });
    const lax = { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true } as NonNullable<FastifyServerOptions['routerOptions']> };
    expect(await seenBy(lax, '//Chat/;x=1')).toEqual({ status: 200, path: '/chat', rawPath: '//Chat/;x=1', route: '/chat' });
  });

  it('refuses an ambiguous path with 400 path_invalid before the route runs', async () => {
    expect(await seenBy({}, '/projects/a%2Fb/export')).toEqual({ status: 400 });
  });
});
