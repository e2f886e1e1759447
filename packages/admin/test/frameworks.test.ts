import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import Koa from 'koa';
import Koa2 from 'koa2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTenantStore, type TenantStore } from '@tenant/core';
import { tenancy as expressTenancy } from '@tenant/express';
import { fastifyTenancy } from '@tenant/fastify';
import { tenancy as koaTenancy } from '@tenant/koa';
import { createAdminNodeHandler, createTenantAdmin, type AdminAuditEntry, type TenantAdmin } from '../src/index.js';
import { authorize, type Actor } from './fixtures.js';
import { portOf, send } from './http.js';

/**
 * Each framework app mounts the tenancy adapter for its tenant routes
 * (`/whoami`) and the admin API under `/admin`, which the adapter skips:
 * admin requests are not tenant-scoped. These are the snippets of the README.
 */
type Start = (store: TenantStore, admin: TenantAdmin) => Promise<{ server: Server; close(): Promise<void> }>;

const listen = async (server: Server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
};

const startExpress =
  (framework: typeof express): Start =>
  async (store, admin) => {
    const app = framework();
    app.use(expressTenancy({ store, skipPaths: ['/admin'] }));
    app.use('/admin', createAdminNodeHandler(admin));
    app.get('/whoami', (req, res) => {
      res.json({ tenant: req.tenant?.id });
    });
    return listen(createServer(app));
  };

const startKoa =
  (Framework: typeof Koa): Start =>
  async (store, admin) => {
    const app = new Framework();
    app.use(koaTenancy({ store, skipPaths: ['/admin'] }));
    const adminHttp = createAdminNodeHandler(admin, { basePath: '/admin' });
    app.use(async (ctx, next) => {
      if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
      ctx.respond = false;
      await adminHttp(ctx.req, ctx.res);
    });
    app.use((ctx) => {
      ctx.body = { tenant: ctx.state.tenant?.id };
    });
    return listen(createServer(app.callback()));
  };

const FRAMEWORKS: readonly (readonly [string, Start])[] = [
  ['express 5', startExpress(express)],
  ['express 4', startExpress(express4)],
  [
    'fastify',
    async (store, admin) => {
      const app = Fastify();
      await app.register(fastifyTenancy, { store, skipPaths: ['/admin'] });
      const adminHttp = createAdminNodeHandler(admin, { basePath: '/admin' });
      await app.register(
        async (scope) => {
          // The admin handler reads and checks the body itself (size, content-type, JSON).
          scope.removeAllContentTypeParsers();
          scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
          scope.all('/*', (request, reply) => {
            reply.hijack();
            void adminHttp(request.raw, reply.raw);
          });
        },
        { prefix: '/admin' },
      );
      app.get('/whoami', async (request) => ({ tenant: request.tenant?.id }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { server: app.server, close: () => app.close() };
    },
  ],
  ['koa 3', startKoa(Koa)],
  ['koa 2', startKoa(Koa2)],
  [
    'node:http',
    async (_store, admin) => {
      const adminHttp = createAdminNodeHandler(admin, { basePath: '/admin' });
      return listen(createServer((req, res) => void adminHttp(req, res, () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"tenant":null}'))));
    },
  ],
];

const AUTH = { authorization: 'Bearer admin-token' };
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

describe.each(FRAMEWORKS)('admin API mounted in %s', (name, start) => {
  const store = createMemoryTenantStore();
  const audits: AdminAuditEntry<Actor>[] = [];
  const admin = createTenantAdmin<Actor>({ store, authorize, audit: (entry) => void audits.push(entry), maxBodyBytes: 16 * 1024 });
  let port: number;
  let close: () => Promise<void>;
  const tenantApp = name !== 'node:http';

  beforeAll(async () => {
    const started = await start(store, admin);
    port = portOf(started.server);
    close = started.close;
  });
  afterAll(() => close());

  it('creates a tenant that the tenancy adapter then serves', async () => {
    const created = await send(port, 'POST', '/admin/tenants', { headers: JSON_AUTH, body: JSON.stringify({ id: 'acme', plan: 'pro' }) });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/json');
    expect(created.headers['etag']).toBe('"1"');
    expect(created.headers['location']).toBe('tenants/acme');
    expect(created.json).toMatchObject({ id: 'acme', plan: 'pro', status: 'active', version: 1 });
    expect(audits.at(-1)).toMatchObject({ action: 'tenant.create', actor: { id: 'alice' }, tenantId: 'acme' });
    if (tenantApp) {
      const whoami = await send(port, 'GET', '/whoami', { headers: { 'x-tenant-id': 'acme' } });
      expect(whoami.status).toBe(200);
      expect(whoami.json).toEqual({ tenant: 'acme' });
    }
  });

  it('suspending through the admin API locks the tenant out; resuming lets it back in', async () => {
    const suspended = await send(port, 'POST', '/admin/tenants/acme/suspend', { headers: AUTH });
    expect(suspended.status).toBe(200);
    expect(suspended.json.status).toBe('suspended');
    if (tenantApp) {
      const refused = await send(port, 'GET', '/whoami', { headers: { 'x-tenant-id': 'acme' } });
      expect(refused.status).toBe(403);
      expect(refused.json.code).toBe('tenant_suspended');
    }
    expect((await send(port, 'POST', '/admin/tenants/acme/resume', { headers: AUTH })).json.status).toBe('active');
    if (tenantApp) expect((await send(port, 'GET', '/whoami', { headers: { 'x-tenant-id': 'acme' } })).status).toBe(200);
  });

  it('answers problem+json 401 without credentials, and is not a tenant-scoped route', async () => {
    const res = await send(port, 'GET', '/admin/tenants');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status: 401, code: 'unauthorized' });
    if (tenantApp) expect((await send(port, 'GET', '/whoami')).json.code).toBe('tenant_missing');
  });

  it('lists with filters from the query string', async () => {
    await send(port, 'POST', '/admin/tenants', { headers: JSON_AUTH, body: JSON.stringify({ id: 'bravo', plan: 'free' }) });
    const res = await send(port, 'GET', '/admin/tenants?plan=pro&limit=10', { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.json.items.map((t: { id: string }) => t.id)).toEqual(['acme']);
    const bad = await send(port, 'GET', '/admin/tenants?limit=0', { headers: AUTH });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([{ field: 'limit', message: 'must be an integer from 1 to 1000' }]);
  });

  it('updates with If-Match from the ETag, and a stale one is a 412', async () => {
    const current = await send(port, 'GET', '/admin/tenants/acme', { headers: AUTH });
    const etag = current.headers['etag'] as string;
    const ok = await send(port, 'PATCH', '/admin/tenants/acme', { headers: { ...JSON_AUTH, 'if-match': etag }, body: '{"name":"Acme"}' });
    expect(ok.status).toBe(200);
    expect(ok.json.name).toBe('Acme');
    const stale = await send(port, 'PATCH', '/admin/tenants/acme', { headers: { ...JSON_AUTH, 'if-match': etag }, body: '{"name":"Other"}' });
    expect(stale.status).toBe(412);
    expect(stale.json.code).toBe('version_conflict');
  });

  it('sets quota and policy with field-level validation messages', async () => {
    const bad = await send(port, 'PUT', '/admin/tenants/acme/quota', { headers: JSON_AUTH, body: '{"requests":{"limit":-5,"windowMs":1000}}' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'config_invalid', errors: [{ field: 'quota.requests.limit', message: 'must be a non-negative integer' }] });
    const quota = await send(port, 'PUT', '/admin/tenants/acme/quota', { headers: JSON_AUTH, body: '{"requests":{"limit":1,"windowMs":60000}}' });
    expect(quota.json.quota).toEqual({ requests: { limit: 1, windowMs: 60000 } });
    const policy = await send(port, 'PUT', '/admin/tenants/acme/policy', { headers: JSON_AUTH, body: '{"models":["small"]}' });
    expect(policy.json.policy).toEqual({ models: ['small'] });
  });

  it('manages domains', async () => {
    const added = await send(port, 'POST', '/admin/tenants/acme/domains', { headers: JSON_AUTH, body: '{"domain":"acme.example.com"}' });
    expect(added.json.domains).toEqual(['acme.example.com']);
    expect((await send(port, 'GET', '/admin/tenants/acme/domains', { headers: AUTH })).json).toEqual({ domains: ['acme.example.com'] });
    const removed = await send(port, 'DELETE', '/admin/tenants/acme/domains/acme.example.com', { headers: AUTH });
    expect(removed.json.domains).toEqual([]);
  });

  it('soft-deletes and restores', async () => {
    expect((await send(port, 'DELETE', '/admin/tenants/bravo', { headers: AUTH })).json.status).toBe('deleted');
    if (tenantApp) expect((await send(port, 'GET', '/whoami', { headers: { 'x-tenant-id': 'bravo' } })).status).toBe(410);
    expect((await send(port, 'POST', '/admin/tenants/bravo/restore', { headers: AUTH })).json.status).toBe('active');
  });

  it('refuses bodies that are not JSON (415, 400) or too large (413)', async () => {
    const plain = await send(port, 'POST', '/admin/tenants', { headers: { ...AUTH, 'content-type': 'text/plain' }, body: '{"id":"x"}' });
    expect(plain.status).toBe(415);
    expect(plain.json.code).toBe('unsupported_media_type');
    const untyped = await send(port, 'POST', '/admin/tenants', { headers: AUTH, body: '{"id":"x"}' });
    expect(untyped.status).toBe(415);
    expect(untyped.json.code).toBe('unsupported_media_type');
    const broken = await send(port, 'POST', '/admin/tenants', { headers: JSON_AUTH, body: '{"id":' });
    expect(broken.status).toBe(400);
    expect(broken.json.code).toBe('request_invalid');
    const big = await send(port, 'POST', '/admin/tenants', { headers: JSON_AUTH, body: JSON.stringify({ id: 'big', metadata: { blob: 'x'.repeat(200_000) } }) });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('payload_too_large');
    expect(await store.get('big')).toBeUndefined();
    // chunked, without content-length: stopped while reading
    const chunked = await send(port, 'POST', '/admin/tenants', {
      headers: { ...JSON_AUTH, 'transfer-encoding': 'chunked' },
      body: JSON.stringify({ id: 'big2', metadata: { blob: 'y'.repeat(200_000) } }),
    });
    expect(chunked.status).toBe(413);
    expect(await store.get('big2')).toBeUndefined();
  });

  it('answers 404 and 405 for what is not a route', async () => {
    const missing = await send(port, 'GET', '/admin/nothing', { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('route_not_found');
    const method = await send(port, 'PUT', '/admin/tenants', { headers: JSON_AUTH, body: '{}' });
    expect(method.status).toBe(405);
    expect(method.headers['allow']).toBe('GET, POST');
  });

  it('refuses ids that try to leave the path', async () => {
    // The adapters do not skip paths with encoded dots or slashes (fail closed):
    // such requests pass the tenancy pipeline only with a tenant, then reach the admin.
    await send(port, 'POST', '/admin/tenants', { headers: JSON_AUTH, body: '{"id":"paths"}' });
    for (const path of ['/admin/tenants/%2e%2e', '/admin/tenants/..%2Fetc', '/admin/tenants/ACME', '/admin/tenants/a%00b']) {
      const res = await send(port, 'GET', path, { headers: { ...AUTH, 'x-tenant-id': 'paths' } });
      expect(res.status, path).toBe(400);
      expect(res.json.code, path).toBe('tenant_invalid');
    }
  });
});
