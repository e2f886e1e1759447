import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  adapterRequest,
  createMemoryQuota,
  createMemoryTenantStore,
  createTenancy,
  currentTenantId,
  fromClaim,
  fromHeader,
  settleOnFinish,
  tenancyFrom,
  withDecision,
  writeRejection,
  type AdapterOptions,
  type SettleEvent,
} from '../src/index.js';

const store = () =>
  createMemoryTenantStore({
    tenants: [
      { id: 'acme', quota: { tokens: { limit: 100, windowMs: 60_000 } } },
      { id: 'globex' },
      { id: 'initech', status: 'suspended' },
    ],
  });

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

/** A tiny adapter over node:http, built only from the helpers under test. */
async function serve(options: AdapterOptions, route: (path: string) => { status?: number; headers?: Record<string, string>; body?: string } = () => ({})) {
  const tenancy = tenancyFrom(options);
  server = createServer((req, res) => {
    const request = adapterRequest(req, options);
    void tenancy.handle(request).then((decision) => {
      if (!decision.ok) return writeRejection(res, decision);
      settleOnFinish(tenancy, decision, request, res, options.actualCost);
      tenancy.run(decision, () => {
        setTimeout(() => {
          const out = route(request.path);
          // setHeader, not writeHead(status, headers): only the former can be read back by actualCost
          for (const [name, value] of Object.entries({ 'content-type': 'application/json', ...decision.headers, ...out.headers })) res.setHeader(name, value);
          res.statusCode = out.status ?? 200;
          res.end(out.body ?? JSON.stringify({ tenant: currentTenantId() ?? null }));
        }, 1);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tenancy };
}

describe('tenancyFrom', () => {
  it('builds a pipeline from pipeline options, or takes the one given', () => {
    const built = tenancyFrom({ store: store() });
    expect(typeof built.handle).toBe('function');
    const existing = createTenancy({ store: store() });
    expect(tenancyFrom({ tenancy: existing, actualCost: () => undefined })).toBe(existing);
  });

  it('gives a pipeline without decide (made elsewhere) one that calls its handle', async () => {
    const existing = createTenancy({ store: store() });
    const handle = vi.fn(existing.handle);
    const { decide: _decide, ...older } = existing;
    const adopted = tenancyFrom({ tenancy: { ...older, handle } as never });
    const view = { method: 'GET', path: '/', query: '', host: undefined, header: (name: string) => (name === 'x-tenant-id' ? 'acme' : undefined) };
    await expect(adopted.decide(view)).resolves.toMatchObject({ ok: true, tenant: { id: 'acme' } });
    expect(handle).toHaveBeenCalledTimes(1);
  });

  it('refuses nonsense with a TypeError', () => {
    expect(() => tenancyFrom(null as never)).toThrow(TypeError);
    expect(() => tenancyFrom({} as never)).toThrow(/store/);
    expect(() => tenancyFrom({ tenancy: {} } as never)).toThrow(/createTenancy/);
    expect(() => tenancyFrom({ tenancy: createTenancy({ store: store() }), store: store() } as never)).toThrow(/not both/);
    expect(() => tenancyFrom({ store: store(), actualCost: 3 } as never)).toThrow(/actualCost/);
    expect(() => tenancyFrom({ store: store(), principal: 'sub' } as never)).toThrow(/principal/);
    expect(() => tenancyFrom({ store: store(), trustProxy: 'yes' } as never)).toThrow(/trustProxy/);
  });
});

describe('adapter helpers over a real node:http server', () => {
  it('admits a tenant and runs the handler in its context, across a timer', async () => {
    const { base } = await serve({ store: store() });
    const res = await fetch(`${base}/x`, { headers: { 'x-tenant-id': 'globex' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tenant: 'globex' });
  });

  it('writes rejections as problem+json with status and headers', async () => {
    const { base } = await serve({ store: store() });
    const suspended = await fetch(`${base}/x`, { headers: { 'x-tenant-id': 'initech' } });
    expect(suspended.status).toBe(403);
    expect(suspended.headers.get('content-type')).toBe('application/problem+json');
    expect(suspended.headers.get('cache-control')).toBe('no-store');
    const body = (await suspended.json()) as { code: string; status: number };
    expect(body).toMatchObject({ code: 'tenant_suspended', status: 403 });
    const missing = await fetch(`${base}/x`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { code: string }).code).toBe('tenant_missing');
  });

  it('writeRejection leaves a response alone once its headers are sent', async () => {
    const tenancy = createTenancy({ store: store() });
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started ');
      writeRejection(res, tenancy.reject(new Error('late')));
      res.end('done');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('started done');
  });

  it('settles the actual cost after the response, once', async () => {
    const settled: SettleEvent[] = [];
    const quota = createMemoryQuota();
    const { base } = await serve(
      {
        store: store(),
        quota,
        cost: () => ({ requests: 1, tokens: 40 }),
        hooks: { onSettle: (event) => void settled.push(event) },
        actualCost: (_request, response) => {
          const used = response.getHeader('x-actual-tokens');
          return used === undefined ? undefined : { requests: 1, tokens: Number(used) };
        },
      },
      (path) => (path === '/used' ? { headers: { 'x-actual-tokens': '5' } } : {}),
    );
    const first = await fetch(`${base}/used`, { headers: { 'x-tenant-id': 'acme' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit')).toContain('r=60');
    await first.text();
    await expect.poll(() => settled.length).toBe(1);
    expect(settled[0]?.actual).toEqual({ requests: 1, tokens: 5 });
    // 100 tokens; the first request now counts 5: two more at 40 fit, a third does not.
    for (const expected of [200, 200, 429]) {
      const res = await fetch(`${base}/nothing`, { headers: { 'x-tenant-id': 'acme' } });
      await res.text();
      expect(res.status).toBe(expected);
    }
    // no header, no settle: the estimates stand
    expect(settled).toHaveLength(1);
  });

  it('keeps the estimate when actualCost throws, with a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const { base } = await serve({
        store: store(),
        cost: () => ({ tokens: 60 }),
        actualCost: () => {
          throw new Error('boom');
        },
      });
      const res = await fetch(`${base}/x`, { headers: { 'x-tenant-id': 'acme' } });
      await res.text();
      expect(res.status).toBe(200);
      await expect.poll(() => warnings.some((w) => w.includes('boom'))).toBe(true);
      const again = await fetch(`${base}/x`, { headers: { 'x-tenant-id': 'acme' } });
      await again.text();
      expect(again.status).toBe(429);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('survives a pipeline whose settle throws, with a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const real = createTenancy({ store: store(), cost: () => ({ tokens: 10 }) });
      const foreign = { ...real, settle: (): Promise<void> => { throw new Error('settle exploded'); } };
      const { base } = await serve({ tenancy: foreign, actualCost: () => ({ tokens: 1 }) });
      const res = await fetch(`${base}/x`, { headers: { 'x-tenant-id': 'acme' } });
      expect(res.status).toBe(200);
      await res.text();
      await expect.poll(() => warnings.some((w) => w.includes('settle exploded'))).toBe(true);
      // the server still answers
      expect((await fetch(`${base}/x`, { headers: { 'x-tenant-id': 'globex' } })).status).toBe(200);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('settles when the client goes away before the response ends', async () => {
    const settled: SettleEvent[] = [];
    const tenancy = createTenancy({ store: store(), cost: () => ({ tokens: 10 }), hooks: { onSettle: (event) => void settled.push(event) } });
    server = createServer((req, res) => {
      const request = adapterRequest(req, {});
      void tenancy.handle(request).then((decision) => {
        settleOnFinish(tenancy, decision, request, res, () => ({ tokens: 1 }));
        res.writeHead(200);
        res.write('partial');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers: { 'x-tenant-id': 'acme' }, signal: controller.signal });
    expect(res.status).toBe(200);
    controller.abort();
    await expect.poll(() => settled.length).toBe(1);
    expect(settled[0]?.actual).toEqual({ tokens: 1 });
  });

  it('passes the principal and trusts X-Forwarded-Host only when asked', async () => {
    const { base } = await serve({
      store: store(),
      resolve: [fromClaim('org'), fromHeader()],
      principal: (req) => (req.headers['x-test-org'] ? { org: req.headers['x-test-org'] } : undefined),
      trustProxy: true,
    });
    const res = await fetch(`${base}/x`, { headers: { 'x-test-org': 'acme', 'x-tenant-id': 'globex' } });
    expect(await res.json()).toEqual({ tenant: 'acme' });
    const req = { url: '/p?q=1', method: 'get', headers: { host: 'a.test', 'x-forwarded-host': 'b.test, c.test' } } as never;
    expect(adapterRequest(req, {}).host).toBe('a.test');
    expect(adapterRequest(req, { trustProxy: true }).host).toBe('b.test');
    expect(adapterRequest(req, { principal: () => ({ sub: 1 }) }).principal).toEqual({ sub: 1 });
    const mounted = adapterRequest(req, {}, '/api/p?q=2');
    expect([mounted.path, mounted.query, mounted.method]).toEqual(['/api/p', 'q=2', 'GET']);
    // with another url: the headers and the principal still come from the request itself
    const both = adapterRequest(req, { trustProxy: true, principal: (raw) => raw }, '/api/p');
    expect([both.path, both.host, both.principal, both.header('host')]).toEqual(['/api/p', 'b.test', req, 'a.test']);
  });
});

describe('withDecision', () => {
  const view = (id: string) => ({ method: 'GET', path: '/', query: '', host: undefined, header: (name: string) => (name === 'x-tenant-id' ? id : undefined) });

  it('applies a synchronous decision before returning, and a promised one when it settles', async () => {
    const pipeline = createTenancy({ store: store() });
    const seen: string[] = [];
    withDecision(pipeline, view('acme'), (decision) => seen.push(decision.ok ? 'ok' : decision.code), () => seen.push('failed'));
    expect(seen).toEqual(['ok']);
    withDecision(pipeline, view('nobody'), (decision) => seen.push(decision.ok ? 'ok' : decision.code), () => seen.push('failed'));
    expect(seen).toEqual(['ok']); // an unknown id goes to the store's get: a promise
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['ok', 'tenant_not_found']);
  });

  it('passes a rejected decision promise of another pipeline to fail', async () => {
    const cause = new Error('broken pipeline');
    const pipeline = { ...createTenancy({ store: store() }), decide: () => Promise.reject(cause) };
    const failed = await new Promise((resolve) => withDecision(pipeline, view('acme'), () => resolve('applied'), resolve));
    expect(failed).toBe(cause);
  });
});

describe('actualCost sees the canonical path', () => {
  it('is handed the request with path canonical and rawPath as received', async () => {
    const seen: { path: string; rawPath: string }[] = [];
    const { base } = await serve({
      store: store(),
      cost: () => ({ tokens: 10 }),
      actualCost: (request) => (seen.push({ path: request.path, rawPath: request.rawPath }), { tokens: 1 }),
    });
    const res = await fetch(`${base}/Ch%61t/`, { headers: { 'x-tenant-id': 'acme' } });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(seen).toEqual([{ path: '/chat', rawPath: '/Ch%61t/' }]));
  });
});
