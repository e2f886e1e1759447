import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as express from '../src/quickstart-express.js';
import * as fastify from '../src/quickstart-fastify.js';
import * as koa from '../src/quickstart-koa.js';
import * as nestjs from '../src/quickstart-nestjs.js';
import * as nodeHttp from '../src/quickstart-node-http.js';
import { listen, listenFastify, problem, sendRequest, type StartedServer } from './http.js';

// One test body, run under every framework's quick start on a real listening server.
const starters: Record<string, () => Promise<StartedServer>> = {
  'node:http': () => listen(nodeHttp.createApp()),
  express: () => listen(createServer(express.createApp())),
  fastify: async () => listenFastify(await fastify.createApp()),
  koa: () => listen(createServer(koa.createApp().callback())),
  nestjs: async () => {
    const app = await nestjs.createApp();
    await app.listen(0, '127.0.0.1');
    return { url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, close: () => app.close() };
  },
};

describe.each(Object.keys(starters))('quick start: %s', (name) => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await starters[name]!();
  });
  afterAll(() => server.close());

  it('serves a tenant named by header, with its rate-limit headers', async () => {
    const response = await sendRequest(server.url, { path: '/whoami', headers: { 'x-tenant-id': 'acme' } });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ tenant: 'acme', plan: 'pro' });
    expect(response.headers['ratelimit-policy']).toBe('"requests";q=100;w=60');
  });

  it('serves a tenant named by subdomain', async () => {
    const response = await sendRequest(server.url, { path: '/whoami', headers: { host: 'acme.localhost:3000' } });
    expect(response.json()).toEqual({ tenant: 'acme', plan: 'pro' });
  });

  it('refuses missing, malformed, unknown and suspended tenants with problem+json', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{}, 400, 'tenant_missing'],
      [{ 'x-tenant-id': '../etc' }, 400, 'tenant_invalid'],
      [{ 'x-tenant-id': 'nobody' }, 404, 'tenant_not_found'],
      [{ 'x-tenant-id': 'globex' }, 403, 'tenant_suspended'],
    ];
    for (const [headers, status, code] of cases) {
      const response = await sendRequest(server.url, { path: '/whoami', headers });
      expect(response.status).toBe(status);
      expect(problem(response).code).toBe(code);
    }
  });

  it('lets /health through with no tenant', async () => {
    const response = await sendRequest(server.url, { path: '/health' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});
