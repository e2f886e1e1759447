import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import { once } from 'node:events';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryTenantStore } from '@tenant/core';
import { createAdminNodeHandler, createTenantAdmin, writeAdminResponse } from '../src/index.js';
import { authorize } from './fixtures.js';
import { portOf, send } from './http.js';

const AUTH = { authorization: 'Bearer admin-token' };
const servers: Server[] = [];

const serve = async (listener: RequestListener) => {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return portOf(server);
};
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const makeAdmin = (options: { maxBodyBytes?: number } = {}) => {
  const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
  return { store, admin: createTenantAdmin({ store, authorize, ...options }) };
};

describe('createAdminNodeHandler', () => {
  it('refuses what is not an admin, and malformed base paths', () => {
    const { admin } = makeAdmin();
    expect(() => createAdminNodeHandler({} as never)).toThrow(TypeError);
    for (const basePath of ['admin', '/admin/', '/admin?x']) expect(() => createAdminNodeHandler(admin, { basePath })).toThrow(/basePath/);
    expect(() => createAdminNodeHandler(admin, { principal: 'user' as never })).toThrow(/principal/);
  });

  it('passes requests outside basePath to next(), or answers 404 without next', async () => {
    const { admin } = makeAdmin();
    const handler = createAdminNodeHandler(admin, { basePath: '/admin' });
    let port = await serve((req, res) => void handler(req, res, () => res.end('app')));
    expect((await send(port, 'GET', '/administrator/tenants', { headers: AUTH })).text).toBe('app');
    expect((await send(port, 'GET', '/tenants', { headers: AUTH })).text).toBe('app');
    expect((await send(port, 'GET', '/admin/tenants', { headers: AUTH })).status).toBe(200);
    port = await serve((req, res) => void handler(req, res));
    const res = await send(port, 'GET', '/tenants', { headers: AUTH });
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('route_not_found');
  });

  it('gives authorize the principal read from the request', async () => {
    const store = createMemoryTenantStore();
    const seen: unknown[] = [];
    const admin = createTenantAdmin({
      store,
      authorize: ({ principal }) => {
        seen.push(principal);
        return principal === 'root' ? { id: 'root' } : false;
      },
    });
    const port = await serve(createAdminNodeHandler(admin, { principal: (req) => req.headers['x-user'] }));
    expect((await send(port, 'GET', '/tenants', { headers: { 'x-user': 'root' } })).status).toBe(200);
    expect((await send(port, 'GET', '/tenants', { headers: { 'x-user': 'guest' } })).status).toBe(403);
    expect(seen).toEqual(['root', 'guest']);
  });

  it('answers 500 when principal() throws', async () => {
    const { admin } = makeAdmin();
    const port = await serve(
      createAdminNodeHandler(admin, {
        principal: () => {
          throw new Error('bad session');
        },
      }),
    );
    const res = await send(port, 'GET', '/tenants', { headers: AUTH });
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ code: 'internal_error', status: 500 });
    expect(res.text).not.toContain('bad session');
  });

  it('uses the body a parser already read (express.json before the admin)', async () => {
    const { admin, store } = makeAdmin();
    const app = express();
    app.use(express.json());
    app.use('/admin', createAdminNodeHandler(admin));
    const port = await serve(app);
    const res = await send(port, 'POST', '/admin/tenants', { headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"id":"parsed"}' });
    expect(res.status).toBe(201);
    expect((await store.get('parsed'))?.id).toBe('parsed');
  });

  it('refuses a body without content-type (415)', async () => {
    const { admin } = makeAdmin();
    const port = await serve(createAdminNodeHandler(admin));
    const res = await send(port, 'POST', '/tenants', { headers: AUTH, body: '{"id":"x"}' });
    expect(res.status).toBe(415);
  });

  it('survives a client that goes away mid-body, and keeps serving', async () => {
    const { admin, store } = makeAdmin();
    const port = await serve(createAdminNodeHandler(admin));
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/tenants', headers: { ...AUTH, 'content-type': 'application/json', 'content-length': '1000' } });
    req.on('error', () => {});
    req.write('{"id":"half"');
    await new Promise((resolve) => setTimeout(resolve, 20));
    req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.get('half')).toBeUndefined();
    expect((await send(port, 'GET', '/tenants/acme', { headers: AUTH })).status).toBe(200);
  });

  it('stops reading at the limit and closes the connection after a 413', async () => {
    const { admin, store } = makeAdmin({ maxBodyBytes: 1024 });
    const port = await serve(createAdminNodeHandler(admin));
    const res = await send(port, 'POST', '/tenants', {
      headers: { ...AUTH, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: JSON.stringify({ id: 'big', metadata: { x: 'z'.repeat(50_000) } }),
    });
    expect(res.status).toBe(413);
    expect(res.headers['connection']).toBe('close');
    expect(res.json).toMatchObject({ code: 'payload_too_large', status: 413 });
    expect(await store.get('big')).toBeUndefined();
  });

  it('sends a 304 without a body for a conditional GET', async () => {
    const { admin } = makeAdmin();
    const port = await serve(createAdminNodeHandler(admin));
    const res = await send(port, 'GET', '/tenants/acme', { headers: { ...AUTH, 'if-none-match': '"1"' } });
    expect(res.status).toBe(304);
    expect(res.headers['etag']).toBe('"1"');
    expect(res.text).toBe('');
  });

  it('writeAdminResponse writes status, headers and JSON, once', async () => {
    const { admin } = makeAdmin();
    const port = await serve(async (_req, res) => {
      const response = await admin.handle({ method: 'GET', path: '/tenants/acme', headers: AUTH });
      writeAdminResponse(res, response);
      writeAdminResponse(res, admin.reject('internal_error', 'ignored: already sent'));
    });
    const res = await send(port, 'GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers['etag']).toBe('"1"');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    expect(res.json.id).toBe('acme');
  });
});
