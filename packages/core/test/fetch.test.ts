import { describe, expect, it, vi } from 'vitest';
import {
  adapterFetchRequest,
  adapterFetchRequestRouted,
  createMemoryQuota,
  createMemoryTenantStore,
  createTenancy,
  currentTenantId,
  finishResponse,
  fromClaim,
  fromHeader,
  chain,
  rejectionResponse,
  type responseView,
  tenancyFrom,
  tenantOf,
  toFetchTenantRequest,
  withDecisionHeaders,
  withTenancy,
  type FetchAdapterOptions,
  type SettleEvent,
} from '../src/fetch.js';

const store = () =>
  createMemoryTenantStore({
    tenants: [
      { id: 'acme', quota: { tokens: { limit: 100, windowMs: 60_000 }, requests: { limit: 1000, windowMs: 60_000 } } },
      { id: 'globex' },
      { id: 'initech', status: 'suspended' },
    ],
  });

const get = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers });

async function drain(response: Response): Promise<string> {
  return await response.text();
}

describe('toFetchTenantRequest', () => {
  it('reads method, path, query, host and headers from the Request', () => {
    const view = toFetchTenantRequest(new Request('http://shop.example:8080/a/b%20c?x=1&y=2', { method: 'post', body: 'x', headers: { 'X-Tenant-Id': 'acme', 'x-multi': 'one' } }));
    expect(view).toMatchObject({ method: 'POST', path: '/a/b%20c', query: 'x=1&y=2', host: 'shop.example:8080' });
    expect(view.header('x-tenant-id')).toBe('acme');
    expect(view.header('X-TENANT-ID')).toBe('acme');
    expect(view.header('absent')).toBeUndefined();
    expect('principal' in view).toBe(false);
  });

  it('keeps what the URL parser left: dot segments resolved, percent-encoding kept, no fragment', () => {
    expect(toFetchTenantRequest(get('http://h/health/../admin/%2e%2e/x%2Fy#frag')).path).toBe('/x%2Fy');
    expect(toFetchTenantRequest(get('http://h')).path).toBe('/');
    expect(toFetchTenantRequest(get('http://h?q=1')).query).toBe('q=1');
    expect(toFetchTenantRequest(get('http://h/p?#f')).query).toBe('');
  });

  it('takes X-Forwarded-Host only with trustProxy', () => {
    const request = get('http://internal:3000/p', { 'x-forwarded-host': 'acme.example.com, proxy.local' });
    expect(toFetchTenantRequest(request).host).toBe('internal:3000');
    expect(toFetchTenantRequest(request, { trustProxy: true }).host).toBe('acme.example.com');
    expect(toFetchTenantRequest(get('http://internal/p'), { trustProxy: true }).host).toBe('internal');
  });

  it('adapterFetchRequest calls principal with the request and the adapter arguments', () => {
    const principal = vi.fn((request: Request, env: { region: string }) => ({ tenant_id: request.headers.get('x-claim'), region: env.region }));
    const options: FetchAdapterOptions<[env: { region: string }]> = { store: store(), principal };
    const request = get('http://h/p', { 'x-claim': 'acme' });
    const view = adapterFetchRequest(request, options, { region: 'eu' });
    expect(view.principal).toEqual({ tenant_id: 'acme', region: 'eu' });
    expect(principal).toHaveBeenCalledWith(request, { region: 'eu' });
    expect('principal' in adapterFetchRequest(request, { principal: () => undefined })).toBe(false);
  });
});

describe('adapterFetchRequestRouted', () => {
  it('carries the matched route and the routing, the options\' own routing fields winning', async () => {
    const request = get('http://h/Guarded/Chat/');
    const plain = adapterFetchRequest(request, {});
    expect('route' in plain || 'routing' in plain).toBe(false);
    const routed = adapterFetchRequestRouted(request, { routing: { strict: false } }, { route: '/guarded/chat', routing: { caseSensitive: true, strict: true } });
    expect(routed.route).toBe('/guarded/chat');
    expect(routed.routing).toEqual({ caseSensitive: true, strict: false });
    // what policyRequest and cost then see: the canonical path by those rules
    const seen: string[] = [];
    const tenancy = createTenancy({ store: store(), resolve: fromHeader('x-tenant-id'), policyRequest: (r) => void seen.push(r.path) as undefined });
    await tenancy.handle(adapterFetchRequestRouted(get('http://h/Guarded//Chat/', { 'x-tenant-id': 'acme' }), {}, { routing: { caseSensitive: true, strict: true, mergeSlashes: false } }));
    await tenancy.handle(adapterFetchRequest(get('http://h/Guarded//Chat/', { 'x-tenant-id': 'acme' }), {}));
    expect(seen).toEqual(['/Guarded//Chat/', '/guarded/chat']);
    expect(() => tenancyFrom<Request>({ store: store(), routing: { loose: true } as never })).toThrow(TypeError);
  });
});

describe('rejectionResponse and withDecisionHeaders', () => {
  it('answers problem+json with the rejection status and headers', async () => {
    const tenancy = createTenancy({ store: store() });
    const decision = await tenancy.handle(toFetchTenantRequest(get('http://h/p', { 'x-tenant-id': 'initech' })));
    if (decision.ok) throw new Error('expected a rejection');
    const response = rejectionResponse(decision);
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ code: 'tenant_suspended', status: 403, type: 'urn:tenant:error:tenant_suspended' });
  });

  it('adds the quota headers, keeps the handler\'s own, and copies a response with immutable headers', async () => {
    const tenancy = createTenancy({ store: store(), quota: createMemoryQuota() });
    const decision = await tenancy.handle(toFetchTenantRequest(get('http://h/p', { 'x-tenant-id': 'acme' })));
    if (!decision.ok) throw new Error('expected admission');
    expect(Object.keys(decision.headers).sort()).toEqual(['ratelimit', 'ratelimit-policy']);
    const mutable = new Response('hi');
    expect(withDecisionHeaders(mutable, decision)).toBe(mutable);
    expect(mutable.headers.get('ratelimit')).toBe(decision.headers['ratelimit']);
    const own = new Response('hi', { headers: { ratelimit: 'mine' } });
    expect(withDecisionHeaders(own, decision).headers.get('ratelimit')).toBe('mine');
    const immutable = Response.error();
    expect(() => immutable.headers.set('x', 'y')).toThrow(TypeError);
    expect(withDecisionHeaders(immutable, decision)).toBe(immutable);
    expect(finishResponse(tenancy, decision, toFetchTenantRequest(get('http://h/p')), immutable, { actualCost: () => ({ tokens: 1 }) })).toBe(immutable);
    const copied = withDecisionHeaders(new Response('body', { headers: {} }), decision);
    expect(copied.headers.get('ratelimit-policy')).toBe(decision.headers['ratelimit-policy']);
    const redirect = Response.redirect('http://h/elsewhere', 302); // immutable headers
    const fromImmutable = withDecisionHeaders(redirect, decision);
    expect(fromImmutable).not.toBe(redirect);
    expect(fromImmutable.status).toBe(302);
    expect(fromImmutable.headers.get('location')).toBe('http://h/elsewhere');
    expect(fromImmutable.headers.get('ratelimit')).toBe(decision.headers['ratelimit']);
    const rejected = await tenancy.handle(toFetchTenantRequest(get('http://h/p')));
    const plain = new Response('x');
    expect(withDecisionHeaders(plain, rejected)).toBe(plain);
  });
});

describe('finishResponse', () => {
  async function admitted(actual?: number) {
    const settles: SettleEvent[] = [];
    const tenancy = createTenancy({ store: store(), quota: createMemoryQuota(), cost: () => ({ requests: 1, tokens: 10 }), hooks: { onSettle: (event) => void settles.push(event) } });
    const view = toFetchTenantRequest(get('http://h/p', { 'x-tenant-id': 'acme' }));
    const decision = await tenancy.handle(view);
    if (!decision.ok) throw new Error('expected admission');
    const actualCost = vi.fn(() => (actual === undefined ? undefined : { tokens: actual }));
    return { tenancy, view, decision, settles, actualCost };
  }

  it('settles once the body has been read to the end, not when the Response is made', async () => {
    const { tenancy, view, decision, settles, actualCost } = await admitted(40);
    let push: ((chunk: string) => void) | undefined;
    let end: (() => void) | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (chunk) => controller.enqueue(new TextEncoder().encode(chunk));
        end = () => controller.close();
      },
    });
    const response = finishResponse(tenancy, decision, view, new Response(body, { headers: { 'x-tokens': '40' } }), { actualCost });
    expect(response.headers.get('ratelimit')).toBe(decision.headers['ratelimit']);
    push?.('a');
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('a');
    expect(actualCost).not.toHaveBeenCalled();
    push?.('b');
    end?.();
    await reader.read();
    expect((await reader.read()).done).toBe(true);
    expect(actualCost).toHaveBeenCalledTimes(1);
    const [, seen] = actualCost.mock.calls[0] as unknown as [unknown, ReturnType<typeof responseView>];
    expect(seen.statusCode).toBe(200);
    expect(seen.getHeader('x-tokens')).toBe('40');
    await vi.waitFor(() => expect(settles).toHaveLength(1));
    expect(settles[0]?.actual).toEqual({ tokens: 40 });
  });

  it('settles once when the client cancels the body, and when the body fails', async () => {
    const first = await admitted(5);
    const endless = new ReadableStream({ pull: (controller) => controller.enqueue(new Uint8Array(1)) });
    const response = finishResponse(first.tenancy, first.decision, first.view, new Response(endless), { actualCost: first.actualCost });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel('client went away');
    expect(first.actualCost).toHaveBeenCalledTimes(1);

    const second = await admitted(5);
    const failing = new ReadableStream({ pull: (controller) => controller.error(new Error('upstream broke')) });
    const broken = finishResponse(second.tenancy, second.decision, second.view, new Response(failing), { actualCost: second.actualCost });
    await expect(broken.text()).rejects.toThrow();
    expect(second.actualCost).toHaveBeenCalledTimes(1);
  });

  it('settles at once for a response without a body, and never when there is nothing to settle', async () => {
    const { tenancy, view, decision, actualCost } = await admitted(1);
    const empty = new Response(null, { status: 204 });
    finishResponse(tenancy, decision, view, empty, { actualCost, holdContext: false });
    expect(actualCost).toHaveBeenCalledTimes(1);
    const plain = new Response('x');
    expect(finishResponse(tenancy, decision, view, plain, { holdContext: false })).toBe(plain);
    const bypass = createTenancy({ store: store(), skipPaths: ['/health'] });
    const skipped = toFetchTenantRequest(get('http://h/health'));
    const bypassed = await bypass.handle(skipped);
    const health = new Response('ok');
    expect(finishResponse(bypass, bypassed, skipped, health, { actualCost })).toBe(health);
  });

  it('reads the body inside the tenant context: pull() of a raw ReadableStream sees the tenant', async () => {
    const { tenancy, view, decision } = await admitted();
    const seen: (string | undefined)[] = [];
    let i = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          seen.push(currentTenantId());
          if ((i += 1) > 3) controller.close();
          else controller.enqueue(new TextEncoder().encode(String(i)));
        },
      },
      { highWaterMark: 0 },
    );
    // read outside any tenant context, as a server does
    expect(await drain(finishResponse(tenancy, decision, view, new Response(body)))).toBe('123');
    expect(seen).toEqual(['acme', 'acme', 'acme', 'acme']);
    const unheld: (string | undefined)[] = [];
    const raw = new ReadableStream({ pull: (controller) => void (unheld.push(currentTenantId()), controller.close()) }, { highWaterMark: 0 });
    await drain(finishResponse(tenancy, decision, view, new Response(raw), { holdContext: false }));
    expect(unheld).toEqual([undefined]);
  });

  it('a throwing actualCost is a warning, and the estimate stands', async () => {
    const { tenancy, view, decision } = await admitted();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await drain(finishResponse(tenancy, decision, view, new Response('x'), { actualCost: () => { throw new Error('bad header'); } }));
      await vi.waitFor(() => expect(warnings.some((message) => message.includes('bad header'))).toBe(true));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('leaves a rejection as it is', async () => {
    const tenancy = createTenancy({ store: store() });
    const view = toFetchTenantRequest(get('http://h/p'));
    const decision = await tenancy.handle(view);
    const response = rejectionResponse(decision as never);
    expect(finishResponse(tenancy, decision, view, response)).toBe(response);
  });
});

describe('withTenancy', () => {
  it('refuses with problem+json and never calls the handler', async () => {
    const handler = vi.fn(() => new Response('no'));
    const fetch = withTenancy({ store: store() }, handler);
    for (const [headers, status, code] of [
      [{}, 400, 'tenant_missing'],
      [{ 'x-tenant-id': 'Not Valid' }, 400, 'tenant_invalid'],
      [{ 'x-tenant-id': 'nobody' }, 404, 'tenant_not_found'],
      [{ 'x-tenant-id': 'initech' }, 403, 'tenant_suspended'],
    ] as const) {
      const response = await fetch(get('http://h/p', headers));
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ code });
    }
    expect(handler).not.toHaveBeenCalled();
  });

  it('runs the handler in the tenant context, passes the runtime arguments through, and exposes tenantOf', async () => {
    const fetch = withTenancy<[env: { name: string }, ctx: { id: number }]>(
      { store: store(), resolve: chain(fromClaim('tenant_id'), fromHeader('x-tenant-id')), principal: (request, env) => (request.headers.has('x-claim') ? { tenant_id: env.name } : undefined) },
      async (request, env, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return Response.json({ context: currentTenantId() ?? null, of: tenantOf(request)?.id ?? null, env: env.name, ctx: ctx.id });
      },
    );
    expect(await (await fetch(get('http://h/p', { 'x-tenant-id': 'acme' }), { name: 'globex' }, { id: 7 })).json()).toEqual({ context: 'acme', of: 'acme', env: 'globex', ctx: 7 });
    expect(await (await fetch(get('http://h/p', { 'x-claim': '1', 'x-tenant-id': 'acme' }), { name: 'globex' }, { id: 8 })).json()).toEqual({ context: 'globex', of: 'globex', env: 'globex', ctx: 8 });
    expect(tenantOf(get('http://h/p'))).toBeUndefined();
  });

  it('passes skipped paths with no tenant, and lets handler errors through to the runtime', async () => {
    const fetch = withTenancy({ store: store(), skipPaths: ['/health'] }, (request) => {
      if (request.url.endsWith('/boom')) throw new Error('boom');
      return Response.json({ context: currentTenantId() ?? null });
    });
    expect(await (await fetch(get('http://h/health', { 'x-tenant-id': 'acme' }))).json()).toEqual({ context: null });
    await expect(fetch(get('http://h/boom', { 'x-tenant-id': 'acme' }))).rejects.toThrow('boom');
  });

  it('settles the actual cost after the body, with an async pipeline too', async () => {
    const settles: SettleEvent[] = [];
    const base = createTenancy({ store: store(), quota: createMemoryQuota(), cost: () => ({ tokens: 10 }), hooks: { onSettle: (event) => void settles.push(event) } });
    // a pipeline whose decide() always answers with a promise
    const tenancy = { ...base, decide: (request: Parameters<typeof base.handle>[0]) => base.handle(request) };
    const fetch = withTenancy({ tenancy, actualCost: (_request, response) => ({ tokens: Number(response.getHeader('x-tokens')) }) }, () => new Response('done', { headers: { 'x-tokens': '60' } }));
    const response = await fetch(get('http://h/p', { 'x-tenant-id': 'acme' }));
    expect(response.headers.get('ratelimit')).toMatch(/"tokens";r=90/);
    expect(settles).toHaveLength(0);
    expect(await response.text()).toBe('done');
    await vi.waitFor(() => expect(settles).toHaveLength(1));
    const next = await fetch(get('http://h/p', { 'x-tenant-id': 'acme' }));
    expect(next.headers.get('ratelimit')).toMatch(/"tokens";r=30/);
  });

  it('holdContext: false leaves the handler\'s body as it is', async () => {
    const seen: (string | undefined)[] = [];
    const body = () => new ReadableStream({ pull: (controller) => void (seen.push(currentTenantId()), controller.close()) }, { highWaterMark: 0 });
    const held = withTenancy({ store: store() }, () => new Response(body()));
    const raw = withTenancy({ store: store(), holdContext: false }, () => new Response(body()));
    await (await held(get('http://h/p', { 'x-tenant-id': 'globex' }))).text();
    await (await raw(get('http://h/p', { 'x-tenant-id': 'globex' }))).text();
    expect(seen).toEqual(['globex', undefined]);
    expect(() => withTenancy({ store: store(), holdContext: 'no' as never }, () => new Response())).toThrow(TypeError);
    expect(() => withTenancy(null as never, () => new Response())).toThrow(TypeError);
    const tenancy = createTenancy({ store: store() });
    expect(() => withTenancy({ tenancy, holdContext: false }, () => new Response())).not.toThrow();
  });

  it('checks its arguments at setup', () => {
    expect(() => withTenancy({ store: store() }, 'nope' as never)).toThrow(TypeError);
    expect(() => withTenancy({ store: store(), principal: 1 as never }, () => new Response())).toThrow(TypeError);
    expect(() => tenancyFrom<Request>({ store: store(), trustProxy: 'yes' as never })).toThrow(TypeError);
  });
});
