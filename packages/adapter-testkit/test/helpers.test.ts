import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTenancy, runWithTenant, tenancyFrom, toTenantRequest, type TenancyOptions, type TenantConfig } from '@tenant/core';
import { createTestTenant } from '@tenant/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createConformanceFixture,
  createConformanceHandler,
  createHookLog,
  listen,
  parseRateLimit,
  routeOf,
  runConformanceCases,
  sendMany,
  sendRequest,
  type StartedServer,
} from '../src/index.js';

const started: StartedServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function serve(listener: (req: IncomingMessage, body: Buffer, socket: Socket) => { status?: number; body: string; type?: string } | Promise<{ status?: number; body: string; type?: string }>): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = await listener(req, Buffer.concat(chunks), req.socket);
    res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' }).end(answer.body);
  });
  const s = await listen(server);
  started.push(s);
  return { url: s.url, server };
}

describe('sendRequest', () => {
  it('sends method, headers (host included) and a body, and reads status, headers and JSON', async () => {
    const { url } = await serve((req, body) => ({
      status: 201,
      body: JSON.stringify({ method: req.method, host: req.headers.host, x: req.headers['x-a'], length: req.headers['content-length'], body: body.toString() }),
    }));
    const res = await sendRequest(url, { method: 'PUT', path: '/p?q=1', headers: { host: 'acme.example.test', 'x-a': 'b' }, body: 'hello' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ method: 'PUT', host: 'acme.example.test', x: 'b', length: '5', body: 'hello' });
  });

  it('streams an async iterable body in chunks', async () => {
    const { url } = await serve((req, body) => ({ body: JSON.stringify({ chunked: req.headers['transfer-encoding'], bytes: body.length, first: body[0], last: body.at(-1) }) }));
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 1; i <= 4; i += 1) {
        await sleep(1);
        yield Buffer.alloc(1000, i);
      }
    }
    const res = await sendRequest(url, { method: 'POST', body: chunks() });
    expect(res.json()).toEqual({ chunked: 'chunked', bytes: 4000, first: 1, last: 4 });
  });

  it('json() names the status and the body when the body is not JSON', async () => {
    const { url } = await serve(() => ({ status: 500, body: '<h1>oops</h1>', type: 'text/html' }));
    const res = await sendRequest(url);
    expect(res.text()).toBe('<h1>oops</h1>');
    expect(() => res.json()).toThrow(/status 500.*<h1>oops<\/h1>/);
  });

  it('rejects when the server does not answer in time', async () => {
    const { url } = await serve(() => new Promise(() => undefined));
    await expect(sendRequest(url, { path: '/slow', timeoutMs: 100 })).rejects.toThrow(/\/slow took longer than 100 ms/);
  });

  it('rejects on a connection error', async () => {
    const { url, server } = await serve(() => ({ body: '{}' }));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(sendRequest(url)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('sendMany', () => {
  it('answers in order and uses at most `sockets` connections', async () => {
    const sockets = new Set<Socket>();
    const { url } = await serve(async (req, _body, socket) => {
      sockets.add(socket);
      await sleep(Number(req.headers['x-wait']));
      return { body: JSON.stringify({ n: Number(req.headers['x-n']) }) };
    });
    const responses = await sendMany(url, Array.from({ length: 40 }, (_, n) => ({ headers: { 'x-n': String(n), 'x-wait': String((n * 7) % 5) } })), { sockets: 4 });
    expect(responses.map((r) => r.json<{ n: number }>().n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(sockets.size).toBeGreaterThan(0);
    expect(sockets.size).toBeLessThanOrEqual(4);
  });
});

describe('listen', () => {
  it('closes even while a keep-alive connection is open', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const s = await listen(server);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    expect((await sendRequest(s.url, { agent })).text()).toBe('ok');
    await s.close();
    expect(server.listening).toBe(false);
    agent.destroy();
  });

  it('takes a server that already listens', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const s = await listen(server);
    started.push(s);
    expect((await sendRequest(s.url)).text()).toBe('ok');
  });
});

describe('routeOf and parseRateLimit', () => {
  it('strips the query, the /t/<id> prefix and the /health prefix', () => {
    expect(routeOf('/whoami?x=1')).toBe('/whoami');
    expect(routeOf('/t/acme/delay?ms=2')).toBe('/delay');
    expect(routeOf('/t/acme')).toBe('/');
    expect(routeOf('/health')).toBe('/');
    expect(routeOf('/health/delay')).toBe('/delay');
    expect(routeOf('/healthz')).toBe('/healthz');
    expect(routeOf(undefined)).toBe('/');
  });

  it('reads one item of a RateLimit header', () => {
    const header = '"requests";r=2;t=60, "tokens";r=590;t=60';
    expect(parseRateLimit(header, 'requests')).toEqual({ r: 2, t: 60 });
    expect(parseRateLimit(header, 'tokens')).toEqual({ r: 590, t: 60 });
    expect(parseRateLimit(header, 'other')).toBeUndefined();
    expect(parseRateLimit(undefined, 'requests')).toBeUndefined();
  });
});

describe('createHookLog', () => {
  const request = (headers: Record<string, string>) => toTenantRequest({ method: 'GET', url: '/x', headers } as unknown as IncomingMessage);

  it('counts hooks per request id, and settles through the ticket', async () => {
    const log = createHookLog();
    const fixture = await createConformanceFixture();
    const tenancy = createTenancy({ store: (fixture.setup.options as TenancyOptions).store, hooks: log.hooks });
    const pipeline = tenancyFrom({ ...(fixture.setup.options as TenancyOptions), hooks: log.hooks });
    const admitted = await pipeline.handle(request({ 'x-request-id': 'r1', 'x-tenant-id': fixture.tenants.metered, 'x-model': 'small' }));
    expect(admitted.ok).toBe(true);
    await pipeline.settle(admitted, { tokens: 3 });
    await pipeline.settle(admitted, { tokens: 4 });
    expect(log.record('r1')).toEqual({ counts: { onResolve: 1, onPolicy: 1, onQuota: 1, onSettle: 1, onReject: 0 }, source: 'header', tenantId: fixture.tenants.metered, rejectCode: undefined });

    await pipeline.handle(request({ 'x-request-id': 'r2', 'x-tenant-id': fixture.tenants.suspended }));
    expect(log.record('r2').counts).toEqual({ onResolve: 0, onPolicy: 0, onQuota: 0, onSettle: 0, onReject: 1 });
    expect(log.record('r2').rejectCode).toBe('tenant_suspended');
    expect(log.record('never').counts.onResolve).toBe(0);

    expect(log.unmatched).toEqual([]);
    await tenancy.handle(request({}));
    expect(log.unmatched).toEqual(['onReject']);
  });
});

describe('createConformanceFixture', () => {
  it('gives every fixture its own tenants, in every status', async () => {
    const [one, two] = await Promise.all([createConformanceFixture(), createConformanceFixture()]);
    expect(one.tag).not.toBe(two.tag);
    expect(Object.values(one.tenants).some((id) => Object.values(two.tenants).includes(id))).toBe(false);
    const store = (one.setup.options as TenancyOptions).store;
    const status = async (id: string) => (await store.get(id))?.status;
    expect(await status(one.tenants.a)).toBe('active');
    expect(await status(one.tenants.suspended)).toBe('suspended');
    expect(await status(one.tenants.inactive)).toBe('inactive');
    expect(await status(one.tenants.deleted)).toBe('deleted');
    expect(await store.get(one.tenants.unknown)).toBeUndefined();
    expect((await store.getByDomain(one.hosts.shop))?.id).toBe(one.tenants.shop);
    expect(one.nextRequestId()).not.toBe(one.nextRequestId());
  });
});

describe('createConformanceHandler', () => {
  it('reports the exposed tenant and the context tenant, and counts calls', async () => {
    const calls: string[] = [];
    const handler = createConformanceHandler((id, route) => calls.push(`${String(id)} ${route}`));
    const acme: TenantConfig = createTestTenant({ id: 'acme' });
    const server = createServer((req, res) => {
      const tenant = req.headers['x-tenant-id'] === 'acme' ? acme : undefined;
      const run = () => handler({ req, res, tenant });
      // Exposes the tenant but keeps the context empty for /t/other: the answer must show the mismatch.
      (tenant !== undefined && !req.url?.startsWith('/t/other') ? runWithTenant(tenant, run) : run()).catch(() => res.destroy());
    });
    const s = await listen(server);
    started.push(s);
    const ok = await sendRequest(s.url, { path: '/delay?ms=1', headers: { 'x-tenant-id': 'acme', 'x-request-id': 'q1' } });
    expect(ok.json()).toMatchObject({ requestId: 'q1', route: '/delay', tenant: 'acme', context: 'acme', contexts: ['acme', 'acme', 'acme', 'acme', 'acme'] });
    const mismatch = await sendRequest(s.url, { path: '/t/other/whoami', headers: { 'x-tenant-id': 'acme', 'x-request-id': 'q2' } });
    expect(mismatch.json()).toMatchObject({ tenant: 'acme', context: null });
    await expect(sendRequest(s.url, { path: '/throw', headers: { 'x-request-id': 'q3' } })).rejects.toThrow();
    expect(calls).toEqual(['q1 /delay', 'q2 /whoami', 'q3 /throw']);
  });
});

describe('runConformanceCases', () => {
  it('refuses unknown case ids and a start() that gives no usable url', async () => {
    await expect(runConformanceCases(() => Promise.reject(new Error('not called')), { only: ['no-such-case'] })).rejects.toThrow(RangeError);
    const closed: string[] = [];
    await expect(runConformanceCases(async () => ({ url: 'http://127.0.0.1:1/', close: async () => void closed.push('x') }), { only: ['missing'] })).rejects.toThrow(/no trailing slash/);
  });

  it('fails a case that takes longer than caseTimeoutMs, and closes the server', async () => {
    let closed = false;
    const results = await runConformanceCases(
      async () => {
        const s = await listen(createServer(() => undefined)); // never answers
        return { url: s.url, close: async () => ((closed = true), await s.close()) };
      },
      { only: ['missing'], caseTimeoutMs: 150 },
    );
    expect(results).toHaveLength(1);
    expect(results[0]?.ok).toBe(false);
    expect(String(results[0]?.error)).toMatch(/did not finish within 150 ms/);
    expect(closed).toBe(true);
  });
});

describe('pathVariants()', () => {
  it('spells a path every way the conformance case needs, without duplicates, the same for a seed', async () => {
    const { pathVariants } = await import('../src/index.js');
    const variants = pathVariants('/guarded/projects/42/export');
    expect(variants[0]).toEqual({ path: '/guarded/projects/42/export', kind: 'original' });
    expect(new Set(variants.map((v) => v.path)).size).toBe(variants.length);
    expect(new Set(variants.map((v) => v.kind))).toEqual(new Set(['original', 'encoded', 'case', 'trailing-slash', 'duplicate-slash', 'dot-segment', 'matrix', 'encoded-slash', 'double-encoded', 'combined']));
    for (const v of variants) expect(v.path.startsWith('/'), v.path).toBe(true);
    const paths = variants.map((v) => v.path);
    for (const expected of ['/guarded/projects/42/%65xport', '/%67uarded/projects/42/export', '/guarded/projects/42/ex%70ort', '/GUARDED/PROJECTS/42/EXPORT', '/guarded/projects/42/export/', '//guarded/projects/42/export', '/guarded/./projects/42/export', '/guarded/x/../projects/42/export', '/guarded%2Fprojects/42/export', '/guarded;v=1/projects/42/export', '/guarded/projects/42/%2565xport']) {
      expect(paths).toContain(expected);
    }
    // both hex cases of a letter's encoding
    expect(paths).toContain('/guarded/projects/42/exp%6Frt');
    expect(paths).toContain('/guarded/projects/42/exp%6frt');
    expect(pathVariants('/guarded/chat', { seed: 5 })).toEqual(pathVariants('/guarded/chat', { seed: 5 }));
    expect(pathVariants('/guarded/chat', { seed: 5 })).not.toEqual(pathVariants('/guarded/chat', { seed: 6 }));
    expect(() => pathVariants('chat')).toThrow(TypeError);
    expect(() => pathVariants('/a%2Fb')).toThrow(TypeError);
  });
});
