import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { stream, streamSSE } from 'hono/streaming';
import { bindTenant, createMemoryQuota, fromClaim, fromPath, currentTenantId, createTenancy, type SettleEvent, type TenantConfig } from '@tenant/core/fetch';
import { createAdapterTestStore, parseRateLimit } from '@tenant/adapter-testkit';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { tenancy, type TenancyEnv } from '../src/index.js';

const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://app.test${path}`, { headers });

describe('rejections are Hono responses: the middleware around tenancy() applies', () => {
  function app() {
    const hono = new Hono<TenancyEnv>();
    hono.use(cors({ origin: 'https://front.test', exposeHeaders: ['RateLimit', 'Retry-After'] }));
    hono.use(secureHeaders());
    hono.use(tenancy({ store: createAdapterTestStore(), quota: createMemoryQuota(), cost: () => ({ requests: 40 }) }));
    hono.get('/x', (c) => c.json({ tenant: c.get('tenant')?.id }));
    return hono;
  }

  it('a 403 carries the CORS and secure headers, and is problem+json', async () => {
    const res = await app().request(get('/x', { origin: 'https://front.test', 'x-tenant-id': 'initech' }));
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://front.test');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.json()).toMatchObject({ code: 'tenant_suspended', status: 403 });
  });

  it('a 429 carries CORS (with exposed RateLimit and Retry-After) and the quota headers', async () => {
    const hono = app();
    const headers = { origin: 'https://front.test', 'x-tenant-id': 'acme' };
    for (const remaining of [60, 20]) {
      const ok = await hono.request(get('/x', headers));
      expect(ok.status).toBe(200);
      expect(parseRateLimit(ok.headers.get('ratelimit') ?? undefined, 'requests')?.r).toBe(remaining);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://front.test');
    }
    const refused = await hono.request(get('/x', headers));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://front.test');
    expect(refused.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // 20 left, the request asked for 40
    expect(parseRateLimit(refused.headers.get('ratelimit') ?? undefined, 'requests')?.r).toBe(20);
    expect(await refused.json()).toMatchObject({ code: 'quota_exceeded' });
  });

  it('a CORS preflight is answered before tenancy() (no tenant needed)', async () => {
    const res = await app().request(new Request('http://app.test/x', { method: 'OPTIONS', headers: { origin: 'https://front.test', 'access-control-request-method': 'POST' } }));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://front.test');
  });
});

describe('the tenant context across the chain', () => {
  it('holds in later middleware, before and after next(), in the handler and in onError; c.get is typed', async () => {
    const seen: (string | null)[] = [];
    const hono = new Hono<TenancyEnv>();
    hono.use(tenancy({ store: createAdapterTestStore() }));
    hono.use(async (c, next) => {
      seen.push(currentTenantId() ?? null);
      await sleep(1);
      await next();
      await sleep(1);
      seen.push(currentTenantId() ?? null);
      c.header('x-after', currentTenantId() ?? 'none');
    });
    hono.get('/ok', async (c) => {
      expectTypeOf(c.get('tenant')).toEqualTypeOf<TenantConfig | undefined>();
      await sleep(2);
      return c.json({ tenant: c.get('tenant')?.id, context: currentTenantId(), decision: c.get('tenantDecision').ok });
    });
    hono.get('/boom', async () => {
      await sleep(1);
      throw new Error('boom');
    });
    hono.onError((_error, c) => c.json({ context: currentTenantId() ?? null }, 500));
    const ok = await hono.request(get('/ok', { 'x-tenant-id': 'globex' }));
    expect(await ok.json()).toEqual({ tenant: 'globex', context: 'globex', decision: true });
    expect(ok.headers.get('x-after')).toBe('globex');
    const boom = await hono.request(get('/boom', { 'x-tenant-id': 'acme' }));
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ context: 'acme' });
    expect(seen).toEqual(['globex', 'globex', 'acme', 'acme']);
  });

  it('holds in stream(), streamSSE(), and with holdContext: true in a raw ReadableStream pulled after the handler returned', async () => {
    const hono = new Hono<TenancyEnv>();
    hono.use(tenancy({ store: createAdapterTestStore(), holdContext: true }));
    hono.get('/stream', (c) =>
      stream(c, async (s) => {
        for (let i = 0; i < 3; i += 1) {
          await sleep(1);
          await s.write(`${currentTenantId() ?? 'none'}\n`);
        }
      }),
    );
    hono.get('/sse', (c) =>
      streamSSE(c, async (s) => {
        await sleep(1);
        await s.writeSSE({ data: currentTenantId() ?? 'none' });
      }),
    );
    hono.get('/raw', () => {
      let i = 0;
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            await sleep(1);
            controller.enqueue(new TextEncoder().encode(`${currentTenantId() ?? 'none'}\n`));
            if ((i += 1) === 3) controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body);
    });
    const read = async (path: string) => (await hono.request(get(path, { 'x-tenant-id': 'globex' }))).text();
    expect(await read('/stream')).toBe('globex\nglobex\nglobex\n');
    expect(await read('/sse')).toContain('data: globex');
    expect(await read('/raw')).toBe('globex\nglobex\nglobex\n');
  });

  it('by default (holdContext: false) leaves the body as the handler made it; bindTenant holds a raw stream then', async () => {
    const hono = new Hono<TenancyEnv>();
    hono.use(tenancy({ store: createAdapterTestStore() }));
    const made: Response[] = [];
    const raw = (bound: boolean) => {
      const pull = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
        await sleep(1);
        controller.enqueue(new TextEncoder().encode(currentTenantId() ?? 'none'));
        controller.close();
      };
      const response = new Response(new ReadableStream<Uint8Array>({ pull: bound ? bindTenant(pull) : pull }, { highWaterMark: 0 }));
      made.push(response);
      return response;
    };
    hono.get('/raw', () => raw(false));
    hono.get('/bound', () => raw(true));
    const raw1 = await hono.request(get('/raw', { 'x-tenant-id': 'globex' }));
    expect(raw1).toBe(made[0]);
    expect(await raw1.text()).toBe('none');
    expect(await (await hono.request(get('/bound', { 'x-tenant-id': 'globex' }))).text()).toBe('globex');
  });
});

describe('options and what reaches the pipeline', () => {
  it('principal reads the Request and the Hono context (a claim set by an auth middleware before it)', async () => {
    const hono = new Hono<{ Variables: { jwtPayload: { tenant_id: string } } } & TenancyEnv>();
    hono.use(async (c, next) => {
      c.set('jwtPayload', { tenant_id: c.req.header('x-token') ?? '' });
      await next();
    });
    hono.use(tenancy({ store: createAdapterTestStore(), resolve: fromClaim('tenant_id'), principal: (_request, c) => c.get('jwtPayload') }));
    hono.get('/who', (c) => c.text(c.get('tenant')?.id ?? 'none'));
    expect(await (await hono.request(get('/who', { 'x-token': 'globex' }))).text()).toBe('globex');
  });

  it('sees the full path under app.route() and basePath(), for skipPaths and path resolution', async () => {
    const api = new Hono<TenancyEnv>().basePath('/api');
    api.use(tenancy({ store: createAdapterTestStore(), skipPaths: ['/api/health'], resolve: fromPath({ prefix: '/api/t' }) }));
    api.get('/health', (c) => c.text(`health ${c.get('tenant')?.id ?? 'none'}`));
    api.get('/t/:id/who', (c) => c.text(c.get('tenant')?.id ?? 'none'));
    const root = new Hono();
    root.route('/', api);
    expect(await (await root.request(get('/api/health'))).text()).toBe('health none');
    expect(await (await root.request(get('/api/t/globex/who'))).text()).toBe('globex');
    expect((await root.request(get('/health'))).status).toBe(404);
  });

  it('settles the actual cost from the final response headers once the body is sent', async () => {
    const settles: SettleEvent[] = [];
    const pipeline = createTenancy({ store: createAdapterTestStore(), quota: createMemoryQuota(), cost: () => ({ tokens: 10 }), hooks: { onSettle: (event) => void settles.push(event) } });
    const hono = new Hono<TenancyEnv>();
    hono.use(tenancy({ tenancy: pipeline, actualCost: (_request, response) => ({ tokens: Number(response.getHeader('x-tokens') ?? 0) }) }));
    hono.get('/llm', (c) => {
      c.header('x-tokens', '70');
      return c.text('answer');
    });
    const res = await hono.request(get('/llm', { 'x-tenant-id': 'acme' }));
    expect(parseRateLimit(res.headers.get('ratelimit') ?? undefined, 'tokens')?.r).toBe(90);
    expect(settles).toHaveLength(0);
    expect(await res.text()).toBe('answer');
    await vi.waitFor(() => expect(settles).toHaveLength(1));
    expect(settles[0]?.actual).toEqual({ tokens: 70 });
    const next = await hono.request(get('/llm', { 'x-tenant-id': 'acme' }));
    expect(parseRateLimit(next.headers.get('ratelimit') ?? undefined, 'tokens')?.r).toBe(20);
  });

  it('keeps a RateLimit header the handler set itself', async () => {
    const hono = new Hono<TenancyEnv>();
    hono.use(tenancy({ store: createAdapterTestStore(), quota: createMemoryQuota() }));
    hono.get('/own', (c) => c.text('x', 200, { RateLimit: 'mine' }));
    const res = await hono.request(get('/own', { 'x-tenant-id': 'acme' }));
    expect(res.headers.get('ratelimit')).toBe('mine');
    expect(res.headers.get('ratelimit-policy')).toMatch(/requests/);
  });

  it('checks its options at setup', () => {
    expect(() => tenancy(undefined as never)).toThrow(TypeError);
    expect(() => tenancy({ store: createAdapterTestStore(), holdContext: 'yes' as never })).toThrow(TypeError);
    expect(() => tenancy({ store: createAdapterTestStore(), principal: 'x' as never })).toThrow(TypeError);
    expect(() => tenancy({ tenancy: {} as never })).toThrow(TypeError);
  });
});

describe('types', () => {
  it('c.get(\'tenant\') is typed when the middleware is chained on a plain Hono', async () => {
    const app = new Hono().use(tenancy({ store: createAdapterTestStore() })).get('/t', (c) => {
      expectTypeOf(c.get('tenant')).toEqualTypeOf<TenantConfig | undefined>();
      return c.text(c.get('tenant')?.id ?? 'none');
    });
    expect(await (await app.request(get('/t', { 'x-tenant-id': 'globex' }))).text()).toBe('globex');
  });
});
