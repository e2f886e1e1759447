// The oldest Hono 4 minor (4.0.x, npm alias hono4-0) passes the same suite:
// the peer range says ^4.0.0. The middleware is typed against the newest
// Hono; for 4.0 it is mounted as the plain function it is.
import { Hono as Hono40 } from 'hono4-0';
import { cors } from 'hono4-0/cors';
import { createAdapterTestStore, runFetchAdapterConformance, type FetchConformanceSetup } from '@tenant/adapter-testkit';
import { expect, it } from 'vitest';
import { tenancy } from '../src/index.js';

type Middleware = Parameters<Hono40['use']>[1];

function app({ options, handler, routes }: FetchConformanceSetup) {
  const hono = new Hono40();
  hono.use('*', tenancy({ ...options, holdContext: true }) as unknown as Middleware);
  const tenantOf = (c: { get: unknown }) => (c.get as (key: string) => never)('tenant');
  for (const route of routes) hono.on(route.method, route.path, (c) => handler({ request: c.req.raw, tenant: tenantOf(c), route: route.path }));
  hono.all('*', (c) => handler({ request: c.req.raw, tenant: (c.get as (key: string) => never)('tenant') }));
  hono.onError((_error, c) => c.text('handler failed', 500));
  return hono.fetch;
}

runFetchAdapterConformance('hono 4.0', app, { concurrency: 300 });

it('hono 4.0: CORS headers on a refusal', async () => {
  const hono = new Hono40();
  hono.use('*', cors({ origin: '*' }));
  hono.use('*', tenancy({ store: createAdapterTestStore() }) as unknown as Middleware);
  hono.get('/x', (c) => c.text('ok'));
  const res = await hono.request('http://app.test/x', { headers: { 'x-tenant-id': 'initech' } });
  expect(res.status).toBe(403);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(res.headers.get('content-type')).toBe('application/problem+json');
});
