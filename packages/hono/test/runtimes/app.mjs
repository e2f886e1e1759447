/* global Response, ReadableStream, TextEncoder, queueMicrotask */
// The smoke app, the same on every runtime: @tenant/hono on a Hono app, and
// the generic wrapper of @tenant/core/fetch, both from their built files.
// Plain ESM and Web APIs only (no node: imports here), so that Node, Bun,
// Deno and workerd (bundled, with nodejs_compat) run it unchanged.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { bindTenant, createMemoryQuota, createMemoryTenantStore, currentTenantId, withTenancy } from '@tenant/core/fetch';
import { tenancy } from '../../dist/index.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const tenants = [{ id: 'acme', quota: { requests: { limit: 3, windowMs: 3_600_000 } } }, { id: 'globex' }, { id: 'initech', status: 'suspended' }];

async function contexts() {
  const seen = [currentTenantId() ?? null];
  await Promise.resolve();
  seen.push(currentTenantId() ?? null);
  await sleep(2);
  seen.push(currentTenantId() ?? null);
  seen.push(await new Promise((resolve) => queueMicrotask(() => resolve(currentTenantId() ?? null))));
  seen.push(await new Promise((resolve) => setTimeout(() => resolve(currentTenantId() ?? null), 1)));
  return seen;
}

function pulled(bind = (fn) => fn) {
  let i = 0;
  return new ReadableStream(
    {
      pull: bind(async (controller) => {
        await sleep(1);
        controller.enqueue(new TextEncoder().encode(`${currentTenantId() ?? 'none'}\n`));
        if ((i += 1) === 3) controller.close();
      }),
    },
    { highWaterMark: 0 },
  );
}

/** The Hono app with @tenant/hono. */
export function honoApp() {
  const app = new Hono();
  app.use(cors({ origin: '*' }));
  app.use(tenancy({ store: createMemoryTenantStore({ tenants }), quota: createMemoryQuota(), skipPaths: ['/health'] }));
  app.get('/health', (c) => c.text('ok'));
  app.get('/whoami', async (c) => c.json({ tenant: c.get('tenant')?.id ?? null, contexts: await contexts() }));
  // @tenant/hono leaves bodies as they are by default (holdContext: false): bind the callbacks
  app.get('/pull', () => new Response(pulled(bindTenant)));
  return app.fetch;
}

/** A bare fetch handler wrapped with withTenancy. */
export function wrappedFetch() {
  return withTenancy({ store: createMemoryTenantStore({ tenants }), quota: createMemoryQuota(), skipPaths: ['/health'] }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/health') return new Response('ok');
    if (path === '/pull') return new Response(pulled()); // withTenancy reads the body in the context
    return Response.json({ tenant: currentTenantId() ?? null, contexts: await contexts() });
  });
}

/**
 * Runs the smoke checks against `send(path, headers) => Promise<Response>`
 * and returns their outcomes: resolve, reject with problem+json (and CORS on
 * Hono), quota headers then 429, context across awaits and in a pulled body.
 */
export async function smoke(send, { cors: expectCors = false } = {}) {
  const results = [];
  const check = async (name, run) => {
    try {
      await run();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error?.stack ?? error) });
    }
  };
  const expect = (cond, message) => {
    if (!cond) throw new Error(message);
  };
  await check('resolve', async () => {
    const res = await send('/whoami', { 'x-tenant-id': 'globex' });
    const body = await res.json();
    expect(res.status === 200 && body.tenant === 'globex', `status ${res.status}, body ${JSON.stringify(body)}`);
  });
  await check('reject-problem-json', async () => {
    const res = await send('/whoami', { 'x-tenant-id': 'initech', origin: 'https://front.test' });
    const body = await res.json();
    expect(res.status === 403, `status ${res.status}`);
    expect(res.headers.get('content-type') === 'application/problem+json', `content-type ${res.headers.get('content-type')}`);
    expect(body.code === 'tenant_suspended' && body.type === 'urn:tenant:error:tenant_suspended', `body ${JSON.stringify(body)}`);
    if (expectCors) expect(res.headers.get('access-control-allow-origin') === '*', 'CORS header on the 403');
    const missing = await send('/whoami', {});
    expect(missing.status === 400 && (await missing.json()).code === 'tenant_missing', `missing tenant: ${missing.status}`);
  });
  await check('quota-headers', async () => {
    for (let i = 1; i <= 3; i += 1) {
      const res = await send('/health', {}); // skipped: no quota
      await res.text();
      const admitted = await send('/whoami', { 'x-tenant-id': 'acme' });
      await admitted.text();
      expect(admitted.status === 200, `admitted ${i}: ${admitted.status}`);
      expect(admitted.headers.get('ratelimit') === `"requests";r=${3 - i};t=${admitted.headers.get('ratelimit')?.split(';t=')[1]}`, `RateLimit ${admitted.headers.get('ratelimit')}`);
      expect(admitted.headers.get('ratelimit-policy') === '"requests";q=3;w=3600', `RateLimit-Policy ${admitted.headers.get('ratelimit-policy')}`);
    }
    const refused = await send('/whoami', { 'x-tenant-id': 'acme' });
    const body = await refused.json();
    expect(refused.status === 429 && body.code === 'quota_exceeded', `refused: ${refused.status} ${JSON.stringify(body)}`);
    expect(Number(refused.headers.get('retry-after')) > 0, `Retry-After ${refused.headers.get('retry-after')}`);
  });
  await check('context-across-awaits', async () => {
    const [a, b] = await Promise.all([send('/whoami', { 'x-tenant-id': 'globex' }), send('/health', {})]);
    const body = await a.json();
    await b.text();
    expect(body.contexts.length === 5 && body.contexts.every((id) => id === 'globex'), `contexts ${JSON.stringify(body.contexts)}`);
  });
  await check('context-in-pulled-body', async () => {
    const text = await (await send('/pull', { 'x-tenant-id': 'globex' })).text();
    expect(text === 'globex\nglobex\nglobex\n', `body ${JSON.stringify(text)}`);
  });
  return results;
}
