import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { conformanceCases, listen, runFetchAdapterConformance, runFetchConformanceCases, type FetchConformanceSetup } from '@tenant/adapter-testkit';
import { describe, expect, it } from 'vitest';
import { tenancy, type HonoTenancyOptions, type TenancyEnv } from '../src/index.js';

function app({ options, handler, routes }: FetchConformanceSetup, extra: Partial<HonoTenancyOptions> = {}) {
  const hono = new Hono<TenancyEnv>();
  hono.use(tenancy({ ...options, ...extra }));
  // the guarded routes on Hono's own router, before the catch-all
  for (const route of routes) hono.on(route.method, route.path, (c) => handler({ request: c.req.raw, tenant: c.get('tenant'), route: route.path }));
  // every method and path; a rejection goes to Hono's error handling (500)
  hono.all('*', (c) => handler({ request: c.req.raw, tenant: c.get('tenant') }));
  hono.onError((_error, c) => c.text('handler failed', 500));
  return hono.fetch;
}

const serve = (fetch: (request: Request) => Response | Promise<Response>) => listen(createAdaptorServer({ fetch }) as Server);

// Every case, in process (app.fetch) and over real HTTP on @hono/node-server,
// with holdContext: true, which the context-readable-stream case needs.
runFetchAdapterConformance('hono 4 (holdContext: true)', (setup) => app(setup, { holdContext: true }), { serve });

// With the options as they are (holdContext off by default): every other case.
const withoutRawStreams = conformanceCases.filter((c) => (c.modes ?? ['fetch']).includes('fetch') && c.id !== 'context-readable-stream').map((c) => c.id);
runFetchAdapterConformance('hono 4 (defaults)', (setup) => app(setup), { serve, only: withoutRawStreams });

// Mounted under a sub-app: the pipeline still sees the full path.
runFetchAdapterConformance(
  'hono 4, app.route() under /',
  (setup) => {
    const root = new Hono();
    const sub = new Hono<TenancyEnv>();
    sub.use(tenancy({ ...setup.options, holdContext: true }));
    for (const route of setup.routes) sub.on(route.method, route.path, (c) => setup.handler({ request: c.req.raw, tenant: c.get('tenant'), route: route.path }));
    sub.all('*', (c) => setup.handler({ request: c.req.raw, tenant: c.get('tenant') }));
    root.route('/', sub);
    root.onError((_error, c) => c.text('handler failed', 500));
    return root.fetch;
  },
  { transports: ['in-process'], concurrency: 200, largeBodyBytes: 256 * 1024 },
);

describe('hono 4 with the defaults and a raw ReadableStream', () => {
  it('fails context-readable-stream, as documented (bind the callbacks, or holdContext: true)', async () => {
    const [result] = await runFetchConformanceCases((setup) => app(setup), { only: ['context-readable-stream'] });
    expect(result?.ok).toBe(false);
    expect(String((result?.error as Error).message)).toMatch(/currentTenant\(\) in pull\(\) of line 0/);
  });
});
