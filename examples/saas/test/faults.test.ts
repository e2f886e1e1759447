// The example on a PostgreSQL of its own (never the shared server), restarted
// while the app runs: the pool's `error` listener keeps the process alive,
// cached tenants still resolve, a tenant never seen gets a 503, and the app
// serves data again once PostgreSQL is back, with no restart of its own.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSaasApp, type SaasApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startPostgres, type OwnPostgres } from '../../../packages/store-sql/test/own-postgres.js';

const ADMIN_TOKEN = 'faults-admin-token-0123456789';
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let server: OwnPostgres;
let saas: SaasApp;
let base: string;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  server = await startPostgres();
  saas = await createSaasApp(loadConfig({ DATABASE_URL: server.url, ADMIN_TOKEN }));
  base = await saas.app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);

afterAll(async () => {
  await saas?.close();
  await server?.destroy();
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const call = (path: string, tenant?: string, init: RequestInit = {}) =>
  fetch(base + path, { ...init, headers: { ...(tenant ? { 'x-tenant-id': tenant } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
const admin = (path: string, body: unknown) =>
  call(`/admin${path}`, undefined, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

it('survives a PostgreSQL restart and recovers by itself', async () => {
  expect((await admin('/tenants', { id: 'acme', policy: { features: ['projects'] } })).status).toBe(201);
  expect((await admin('/tenants', { id: 'later', policy: { features: ['projects'] } })).status).toBe(201);
  expect((await call('/projects', 'acme', { method: 'POST', body: JSON.stringify({ name: 'before' }) })).status).toBe(201);
  // Several connections in the pool, idle: the ones the restart kills.
  await Promise.all(Array.from({ length: 5 }, () => call('/projects', 'acme')));

  await server.stop('fast');
  await sleep(300);
  // The process is alive and answers: the tenant it knows resolves (the data route fails
  // without its database), and a tenant it never loaded gets a 503.
  expect((await call('/health')).status).toBe(200);
  const known = await call('/projects', 'acme');
  expect(known.status).toBeGreaterThanOrEqual(500);
  expect(((await known.json()) as { code?: string }).code).not.toBe('store_unavailable');
  const unseen = await call('/projects', 'later');
  expect(unseen.status).toBe(503);
  expect(((await unseen.json()) as { code: string }).code).toBe('store_unavailable');

  await server.start();
  let status = 0;
  for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
    await sleep(100);
    status = (await call('/projects', 'later')).status;
  }
  expect(status).toBe(200);
  const projects = (await (await call('/projects', 'acme')).json()) as { items?: { name: string }[] } | { name: string }[];
  expect(JSON.stringify(projects)).toContain('before');
  expect(unhandled).toEqual([]);
}, 90_000);
