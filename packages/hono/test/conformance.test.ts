import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { listen, runFetchAdapterConformance, type FetchConformanceSetup } from '@tenant/adapter-testkit';
import { tenancy, type TenancyEnv } from '../src/index.js';

function app({ options, handler }: FetchConformanceSetup) {
  const hono = new Hono<TenancyEnv>();
  hono.use(tenancy(options));
  // every method and path; a rejection goes to Hono's error handling (500)
  hono.all('*', (c) => handler({ request: c.req.raw, tenant: c.get('tenant') }));
  hono.onError((_error, c) => c.text('handler failed', 500));
  return hono.fetch;
}

// In process (app.fetch), and over real HTTP on @hono/node-server.
runFetchAdapterConformance('hono 4', app, { serve: (fetch) => listen(createAdaptorServer({ fetch }) as Server) });

// Mounted under a sub-app: the pipeline still sees the full path.
runFetchAdapterConformance(
  'hono 4, app.route() under /',
  (setup) => {
    const root = new Hono();
    const sub = new Hono<TenancyEnv>();
    sub.use(tenancy(setup.options));
    sub.all('*', (c) => setup.handler({ request: c.req.raw, tenant: c.get('tenant') }));
    root.route('/', sub);
    root.onError((_error, c) => c.text('handler failed', 500));
    return root.fetch;
  },
  { transports: ['in-process'], concurrency: 200, largeBodyBytes: 256 * 1024 },
);
