import { describe, expect, it, vi } from 'vitest';
import {
  TenantError,
  createMemoryQuota,
  createMemoryTenantStore,
  createResolver,
  createTenancy,
  currentTenantId,
  fromClaim,
  fromHeader,
  fromSubdomain,
  runWithSnapshot,
  runWithTenant,
  type ErrorEvent,
  type QuotaManager,
  type TenancyOptions,
  type TenantDecision,
  type TenantHooks,
  type TenantRejected,
  type TenantRequest,
  type TenantStore,
} from '../src/index.js';
import { createTestTenant } from '../src/testing.js';
import { manualClock, request, type RequestParts } from './fixtures-b/request.js';

const MINUTE = 60_000;
const T0 = 1_000_000 * MINUTE;

const tenants = () => {
  const store = createMemoryTenantStore({
    tenants: [
      { id: 'acme', quota: { requests: { limit: 2, windowMs: MINUTE } }, policy: { models: ['small'] } },
      { id: 'globex' },
      { id: 'tokens', quota: { tokens: { limit: 100, windowMs: MINUTE } } },
      { id: 'susp', status: 'suspended' },
      { id: 'inact', status: 'inactive' },
      { id: 'gone' },
    ],
  });
  // The memory store deletes synchronously, before the returned promise settles.
  void store.delete('gone');
  return store;
};

/** Records every hook call, in order. */
function recorder() {
  const events: { hook: string; event: unknown }[] = [];
  const hooks: TenantHooks = {
    onResolve: (event) => void events.push({ hook: 'onResolve', event }),
    onPolicy: (event) => void events.push({ hook: 'onPolicy', event }),
    onQuota: (event) => void events.push({ hook: 'onQuota', event }),
    onSettle: (event) => void events.push({ hook: 'onSettle', event }),
    onReject: (event) => void events.push({ hook: 'onReject', event }),
    onError: (event) => void events.push({ hook: 'onError', event }),
  };
  return { events, hooks, names: () => events.map((e) => e.hook), errors: () => events.filter((e) => e.hook === 'onError').map((e) => e.event as ErrorEvent) };
}

function setup(options: Partial<TenancyOptions> = {}) {
  const clock = manualClock(T0);
  const rec = recorder();
  const tenancy = createTenancy({ store: tenants(), quota: createMemoryQuota({ clock }), clock, hooks: rec.hooks, ...options });
  const handle = (tenant: string | undefined, parts: RequestParts = {}) =>
    tenancy.handle(request({ ...parts, headers: { ...(tenant === undefined ? {} : { 'x-tenant-id': tenant }), ...parts.headers } }));
  return { clock, rec, tenancy, handle };
}

const rejected = (decision: TenantDecision): TenantRejected => {
  if (decision.ok) throw new Error(`expected a rejection, got ${JSON.stringify(decision)}`);
  return decision;
};

describe('createTenancy options', () => {
  it('refuses options that cannot work', () => {
    const store = tenants();
    expect(() => createTenancy(undefined as never)).toThrow(/needs a store/);
    expect(() => createTenancy({} as never)).toThrow(TypeError);
    expect(() => createTenancy({ store, resolve: [] })).toThrow(/at least one resolver/);
    expect(() => createTenancy({ store, resolve: [{ name: 'x' } as never] })).toThrow(TypeError);
    expect(() => createTenancy({ store, centralHosts: ['not a host'] })).toThrow(/centralHosts/);
    expect(() => createTenancy({ store, skipPaths: ['health'] })).toThrow(/skipPaths/);
    expect(() => createTenancy({ store, skipPaths: [42 as never] })).toThrow(/skipPaths/);
    expect(() => createTenancy({ store, skipPaths: [/^\/h/g] })).toThrow(/g or y flag/);
    expect(() => createTenancy({ store, onQuotaError: 'maybe' as never })).toThrow(/onQuotaError/);
    expect(() => createTenancy({ store, validateId: { maxLength: 0 } })).toThrow(TypeError);
    expect(() => createTenancy({ store, hooks: [null as never] })).toThrow(/hooks must be/);
  });

  it('exposes the store, quota manager and id validator in use', () => {
    const store = tenants();
    const quota = createMemoryQuota();
    const tenancy = createTenancy({ store, quota, validateId: { maxLength: 5 } });
    expect(tenancy.store).toBe(store);
    expect(tenancy.quota).toBe(quota);
    expect(tenancy.validateId('acme')).toBe('acme');
    expect(() => tenancy.validateId('toolong')).toThrow(TenantError);
    expect(createTenancy({ store, quota: false }).quota).toBeUndefined();
    expect(Object.isFrozen(tenancy)).toBe(true);
  });
});

describe('handle: outcomes', () => {
  it('admits an active tenant with its source and rate-limit headers', async () => {
    const { handle, clock } = setup();
    clock.advance(15_000);
    const decision = await handle('acme');
    expect(decision).toMatchObject({ ok: true, source: 'header', tenant: { id: 'acme' } });
    expect(decision.headers).toEqual({ 'ratelimit-policy': '"requests";q=2;w=60', ratelimit: '"requests";r=1;t=45' });
    const plain = await handle('globex');
    expect(plain).toMatchObject({ ok: true, tenant: { id: 'globex' }, headers: {} });
    expect(plain.ok && 'quota' in plain ? plain.quota : undefined).toBeUndefined();
  });

  it.each([
    [undefined, 400, 'tenant_missing'],
    ['Not_Valid!', 400, 'tenant_invalid'],
    ['x'.repeat(70), 400, 'tenant_invalid'],
    ['acme, globex', 400, 'tenant_invalid'],
    ['nobody', 404, 'tenant_not_found'],
    ['susp', 403, 'tenant_suspended'],
    ['inact', 403, 'tenant_inactive'],
    ['gone', 410, 'tenant_deleted'],
  ] as const)('refuses tenant #%# with %i %s and a problem body', async (tenant, status, code) => {
    const { handle, rec } = setup();
    const decision = rejected(await handle(tenant));
    expect(decision).toMatchObject({ status, code, body: { status, code, type: `urn:tenant:error:${code}` } });
    expect(decision.headers['content-type']).toBe('application/problem+json');
    expect(rec.names()).toEqual(['onReject']);
    expect(rec.events[0]?.event).toMatchObject({ rejection: decision });
  });

  it('does not echo an oversized id into the body', async () => {
    const { handle } = setup();
    const decision = rejected(await handle('x'.repeat(5_000)));
    expect(JSON.stringify(decision.body).length).toBeLessThan(1_000);
  });

  it('refuses what the policy does not allow, with 403 and the dimension', async () => {
    const { handle, tenancy, rec } = setup({ policyRequest: (req) => ({ models: req.header('x-model') }) });
    const denied = rejected(await handle('acme', { headers: { 'x-model': 'large' } }));
    expect(denied).toMatchObject({ status: 403, code: 'policy_denied', body: { detail: `"large" is not in this tenant's allowed models`, dimension: 'models' } });
    expect(rec.names()).toEqual(['onResolve', 'onPolicy', 'onReject']);
    expect(await handle('acme', { headers: { 'x-model': 'small' } })).toMatchObject({ ok: true });
    // A per-call policy request overrides options.policyRequest.
    const req = request({ headers: { 'x-tenant-id': 'acme', 'x-model': 'small' } });
    expect(await tenancy.handle(req, { policy: { models: 'huge' } })).toMatchObject({ ok: false, code: 'policy_denied' });
  });

  it('refuses with 429 and RateLimit-Policy, RateLimit and Retry-After when the quota is used up', async () => {
    const { handle, clock } = setup();
    await handle('acme');
    await handle('acme');
    clock.advance(20_500);
    const denied = rejected(await handle('acme'));
    expect(denied).toMatchObject({ status: 429, code: 'quota_exceeded', body: { exceeded: ['requests'], status: 429 } });
    expect(denied.headers).toEqual({
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'ratelimit-policy': '"requests";q=2;w=60',
      ratelimit: '"requests";r=0;t=40',
      'retry-after': '40',
    });
    clock.advance(39_500);
    expect(await handle('acme')).toMatchObject({ ok: true });
  });

  it('refuses a request costing more than the limit with 429 and no Retry-After', async () => {
    const { tenancy } = setup();
    const denied = rejected(await tenancy.handle(request({ headers: { 'x-tenant-id': 'tokens' } }), { cost: { tokens: 101 } }));
    expect(denied).toMatchObject({ status: 429, code: 'quota_exceeded', body: { exceeded: ['tokens'] } });
    expect(denied.body.detail).toMatch(/costs more tokens/);
    expect(denied.headers).not.toHaveProperty('retry-after');
  });

  it('answers 503 store_unavailable when the store throws, and tells onError', async () => {
    const cause = new Error('ECONNREFUSED');
    const store = { ...tenants(), peek: () => undefined, get: () => Promise.reject(cause) } as TenantStore;
    const { handle, rec } = setup({ store });
    const decision = rejected(await handle('acme'));
    expect(decision).toMatchObject({ status: 503, code: 'store_unavailable' });
    expect(decision.body).not.toHaveProperty('detail');
    expect(JSON.stringify(decision.body)).not.toContain('ECONNREFUSED');
    expect(rec.errors()).toEqual([{ phase: 'store', error: cause, tenantId: 'acme' }]);
    expect(rec.names()).toEqual(['onError', 'onReject']);
  });

  it('keeps a TenantError the store throws', async () => {
    const store = { ...tenants(), peek: () => undefined, get: () => Promise.reject(new TenantError('store_unavailable', 'cache empty', { status: 504 })) } as TenantStore;
    const { handle } = setup({ store });
    expect(await handle('acme')).toMatchObject({ ok: false, status: 504, code: 'store_unavailable' });
  });

  it('refuses a store that answers another tenant than the one asked for (get and peek), and tells onError', async () => {
    const store = tenants();
    const globex = await store.get('globex');
    const mixed = [
      { ...store, peek: () => undefined, get: async (id: string) => (id === 'acme' ? globex : store.get(id)) },
      { ...store, peek: (id: string) => (id === 'acme' ? globex : undefined), get: (id: string) => store.get(id) },
      { ...store, peek: () => undefined, get: async () => ({ ...globex!, id: 'ACME' }) },
    ] as TenantStore[];
    for (const wrong of mixed) {
      const { handle, rec } = setup({ store: wrong });
      const decision = rejected(await handle('acme'));
      expect(decision).toMatchObject({ status: 500, code: 'isolation_violation' });
      expect(rec.errors()).toMatchObject([{ phase: 'store', tenantId: 'acme', error: { code: 'isolation_violation' } }]);
      expect(rec.names()).not.toContain('onQuota');
    }
    // and the same through a snapshot restored in a job
    await expect(runWithSnapshot({ v: 1, tenantId: 'acme' }, { store: mixed[0]! }, () => 'ran')).rejects.toMatchObject({ code: 'isolation_violation' });
    expect(await runWithSnapshot({ v: 1, tenantId: 'globex' }, { store: mixed[0]! }, () => currentTenantId())).toBe('globex');
  });

  describe('a failing quota manager', () => {
    const cause = new Error('redis down');
    const throwing: QuotaManager = { consume: () => Promise.reject(cause), settle: () => Promise.resolve() };
    const throwingSync: QuotaManager = { ...throwing, consumeSync: () => { throw cause; } };
    const throwingCall: QuotaManager = { consume: () => { throw cause; }, settle: () => Promise.resolve() };

    it.each([['async', throwing], ['sync', throwingSync], ['throwing consume', throwingCall]] as const)('fails closed by default with 503 quota_unavailable (%s)', async (_name, quota) => {
      const { handle, rec } = setup({ quota });
      const decision = rejected(await handle('acme'));
      expect(decision).toMatchObject({ status: 503, code: 'quota_unavailable' });
      expect(JSON.stringify(decision.body)).not.toContain('redis');
      expect(rec.errors()).toEqual([{ phase: 'quota', error: cause, tenantId: 'acme' }]);
    });

    it.each([['async', throwing], ['sync', throwingSync]] as const)('admits uncounted with onQuotaError open, and still tells onError (%s)', async (_name, quota) => {
      const { handle, rec, tenancy } = setup({ quota, onQuotaError: 'open' });
      const decision = await handle('acme');
      expect(decision).toMatchObject({ ok: true, tenant: { id: 'acme' }, headers: {} });
      expect(rec.errors()).toEqual([{ phase: 'quota', error: cause, tenantId: 'acme' }]);
      await tenancy.settle(decision, { requests: 1 });
      expect(rec.names()).toEqual(['onResolve', 'onError']);
    });

    it('refuses a backend_unavailable result with 503 and its headers', async () => {
      const quota: QuotaManager = {
        consume: async () => ({ allowed: false, reason: 'backend_unavailable', retryAfterMs: undefined, dimensions: {} }),
        settle: async () => undefined,
      };
      const { handle } = setup({ quota });
      expect(await handle('acme')).toMatchObject({ ok: false, status: 503, code: 'quota_unavailable' });
    });

    it('uses an async manager without consumeSync', async () => {
      const memory = createMemoryQuota();
      const quota: QuotaManager = { consume: (...args) => memory.consume(...args), settle: (...args) => memory.settle(...args) };
      const { handle } = setup({ quota });
      expect(await handle('acme')).toMatchObject({ ok: true });
      expect(await handle('acme')).toMatchObject({ ok: true });
      expect(await handle('acme')).toMatchObject({ ok: false, status: 429 });
    });
  });

  it('refuses with 500 when a resolver throws, without showing its message, and tells onError', async () => {
    const cause = new Error('jwt library exploded: key=abc');
    const { tenancy, rec } = setup({ resolve: createResolver('boom', () => { throw cause; }) });
    const decision = rejected(await tenancy.handle(request()));
    expect(decision).toMatchObject({ status: 500, code: 'internal_error' });
    expect(JSON.stringify(decision.body)).not.toContain('key=abc');
    expect(rec.errors()).toEqual([{ phase: 'resolve', error: cause, tenantId: undefined }]);
  });

  it('passes a TenantError a resolver throws through as the rejection, without onError', async () => {
    const { tenancy, rec } = setup({ resolve: createResolver('async', () => Promise.reject(new TenantError('tenant_invalid', 'ambiguous'))) });
    expect(await tenancy.handle(request())).toMatchObject({ ok: false, status: 400, code: 'tenant_invalid', body: { detail: 'ambiguous' } });
    expect(rec.names()).toEqual(['onReject']);
  });

  it('refuses with 500 when the cost or policyRequest callback throws, or the cost is invalid', async () => {
    const bug = new Error('bug');
    const a = setup({ cost: () => { throw bug; } });
    expect(await a.handle('acme')).toMatchObject({ ok: false, status: 500 });
    expect(a.rec.errors()).toEqual([{ phase: 'quota', error: bug, tenantId: 'acme' }]);
    const b = setup({ policyRequest: () => { throw bug; } });
    expect(await b.handle('acme')).toMatchObject({ ok: false, status: 500 });
    expect(b.rec.errors()).toEqual([{ phase: 'policy', error: bug, tenantId: 'acme' }]);
    const c = setup();
    expect(await c.tenancy.handle(request({ headers: { 'x-tenant-id': 'acme' } }), { cost: { requests: -1 } })).toMatchObject({ ok: false, status: 500 });
    const d = setup({ policy: { evaluate: () => Promise.reject(bug) }, policyRequest: () => ({ models: 'x' }) });
    expect(await d.handle('acme')).toMatchObject({ ok: false, status: 500 });
    expect(d.rec.errors()).toEqual([{ phase: 'policy', error: bug, tenantId: 'acme' }]);
  });

  it('uses a custom validator and problem type', async () => {
    const { handle } = setup({ validateId: { pattern: /^[A-Z]+$/ }, problemType: (code) => `https://errors.example.com/${code}` });
    expect(await handle('acme')).toMatchObject({ ok: false, code: 'tenant_invalid', body: { type: 'https://errors.example.com/tenant_invalid' } });
  });
});

describe('resolution sources', () => {
  it('takes a verified claim before a header, and reports the source', async () => {
    const { tenancy, rec } = setup({ resolve: [fromClaim('tenant_id'), fromHeader()] });
    const decision = await tenancy.handle(request({ principal: { tenant_id: 'globex' }, headers: { 'x-tenant-id': 'acme' } }));
    expect(decision).toMatchObject({ ok: true, tenant: { id: 'globex' }, source: 'claim' });
    expect(rec.events[0]).toMatchObject({ hook: 'onResolve', event: { source: 'claim', tenant: { id: 'globex' } } });
  });

  it('resolves subdomains', async () => {
    const { tenancy } = setup({ resolve: fromSubdomain({ baseDomains: ['example.com'] }) });
    expect(await tenancy.handle(request({ host: 'globex.example.com' }))).toMatchObject({ ok: true, tenant: { id: 'globex' }, source: 'subdomain' });
  });
});

describe('bypass rules', () => {
  const skipping = () =>
    setup({
      centralHosts: ['Admin.Example.com'],
      skipPaths: ['/health', '/public/', /^\/static\/[a-z]+\.css$/],
      skipMethods: ['options'],
      skip: (req) => req.header('x-internal') === 'yes',
    });

  it('lets central hosts pass with no tenant', async () => {
    const { tenancy, rec } = skipping();
    expect(await tenancy.handle(request({ host: 'admin.example.com:8080' }))).toEqual({ ok: true, tenant: undefined, bypass: 'central_host', headers: {} });
    expect(await tenancy.handle(request({ host: 'other.example.com' }))).toMatchObject({ ok: false, code: 'tenant_missing' });
    expect(rec.names()).toEqual(['onReject']);
  });

  it.each(['/health', '/health/live', '/public/', '/public/a/b', '/static/site.css'])('skips %s', async (path) => {
    const { tenancy } = skipping();
    expect(await tenancy.handle(request({ path }))).toMatchObject({ ok: true, bypass: 'skip' });
  });

  it.each([
    '/healthz',
    '/public',
    '/api/health',
    '/static/site.css.map',
    '/health/../admin',
    '/health/./x',
    '/public/../admin',
    '/health/%2e%2e/admin',
    '/health%2F..%2Fadmin',
    '/public/%2E%2E/admin',
    '/public/a%5c..%5cadmin',
    '/public\\..\\admin',
    '/static/%2e.css',
  ])('never skips %s', async (path) => {
    const { tenancy } = skipping();
    expect(await tenancy.handle(request({ path }))).toMatchObject({ ok: false, code: 'tenant_missing' });
  });

  it('skips methods in any case, and by the custom rule', async () => {
    const { tenancy } = skipping();
    expect(await tenancy.handle(request({ method: 'OPTIONS' }))).toMatchObject({ ok: true, bypass: 'skip' });
    expect(await tenancy.handle(request({ method: 'options' }))).toMatchObject({ ok: true, bypass: 'skip' });
    expect(await tenancy.handle(request({ headers: { 'x-internal': 'yes' } }))).toMatchObject({ ok: true, bypass: 'skip' });
    expect(await tenancy.handle(request({ headers: { 'x-internal': 'no' } }))).toMatchObject({ ok: false });
  });

  it('skips before resolving: a skipped request never reaches the store', async () => {
    const get = vi.fn(() => Promise.reject(new Error('should not be called')));
    const { tenancy } = setup({ store: { ...tenants(), get } as TenantStore, skipPaths: ['/health'] });
    expect(await tenancy.handle(request({ path: '/health', headers: { 'x-tenant-id': 'acme' } }))).toMatchObject({ ok: true, bypass: 'skip' });
    expect(get).not.toHaveBeenCalled();
  });

  it('lets requests with no tenant pass when requireTenant is false, and still checks named tenants', async () => {
    const { handle, rec } = setup({ requireTenant: false });
    expect(await handle(undefined)).toEqual({ ok: true, tenant: undefined, bypass: 'no_tenant', headers: {} });
    expect(await handle('nobody')).toMatchObject({ ok: false, status: 404 });
    expect(await handle('Bad!')).toMatchObject({ ok: false, status: 400 });
    expect(rec.names()).toEqual(['onReject', 'onReject']);
  });

  it('turns a throwing skip rule into a 500', async () => {
    const { tenancy } = setup({ skip: () => { throw new Error('bug'); } });
    expect(await tenancy.handle(request())).toMatchObject({ ok: false, status: 500, code: 'internal_error' });
  });
});

describe('resolve and authorize', () => {
  it('resolve() loads and checks status but checks neither policy nor quota', async () => {
    const { tenancy, rec } = setup({ policyRequest: () => ({ models: 'large' }) });
    for (let i = 0; i < 5; i += 1) {
      expect(await tenancy.resolve(request({ headers: { 'x-tenant-id': 'acme' } }))).toMatchObject({ ok: true, tenant: { id: 'acme' }, headers: {} });
    }
    expect(await tenancy.resolve(request({ headers: { 'x-tenant-id': 'susp' } }))).toMatchObject({ ok: false, status: 403 });
    expect(rec.names().filter((n) => n === 'onPolicy' || n === 'onQuota')).toEqual([]);
  });

  it('authorize() checks policy and cost given per call, with source direct', async () => {
    const { tenancy, rec } = setup();
    const tenant = await tenancy.store.get('tokens');
    if (!tenant) throw new Error('missing fixture');
    const first = await tenancy.authorize(tenant, { cost: { tokens: 60 } });
    expect(first).toMatchObject({ ok: true, source: 'direct', quota: { dimensions: { tokens: { remaining: 40 } } } });
    expect(await tenancy.authorize(tenant, { cost: { tokens: 60 } })).toMatchObject({ ok: false, status: 429 });
    const acme = await tenancy.store.get('acme');
    expect(await tenancy.authorize(acme!, { policy: { models: 'large' } })).toMatchObject({ ok: false, code: 'policy_denied' });
    expect(rec.events.find((e) => e.hook === 'onPolicy')?.event).toMatchObject({ request: undefined, policyRequest: { models: 'large' }, decision: { allowed: false } });
    await expect(tenancy.authorize(undefined as never)).rejects.toThrow(TypeError);
  });

  it('authorize() uses the request for the default cost', async () => {
    const { tenancy } = setup({ cost: (req) => ({ tokens: Number(req.header('x-estimate') ?? 0) }) });
    const tenant = await tenancy.store.get('tokens');
    const req = request({ headers: { 'x-estimate': '70' } });
    expect(await tenancy.authorize(tenant!, { request: req })).toMatchObject({ ok: true, quota: { dimensions: { tokens: { remaining: 30 } } } });
    expect(await tenancy.authorize(tenant!, { request: req })).toMatchObject({ ok: false, status: 429 });
  });
});

describe('settle', () => {
  it('settles an admitted decision once, and tells onSettle', async () => {
    const quota = createMemoryQuota();
    const settle = vi.spyOn(quota, 'settle');
    const { tenancy, rec } = setup({ quota });
    const decision = await tenancy.handle(request({ headers: { 'x-tenant-id': 'tokens' } }), { cost: { tokens: 90 } });
    await tenancy.settle(decision, { tokens: 10 });
    await tenancy.settle(decision, { tokens: 10 });
    expect(settle).toHaveBeenCalledTimes(1);
    expect(rec.names().filter((n) => n === 'onSettle')).toHaveLength(1);
    const ticket = decision.ok && 'quota' in decision ? decision.quota?.ticket : undefined;
    expect(ticket).toMatchObject({ tenantId: 'tokens', cost: { tokens: 90 } });
    expect(rec.events.find((e) => e.hook === 'onSettle')?.event).toEqual({ ticket, actual: { tokens: 10 } });
    // The refund took effect: 90 tokens are free again.
    expect(await tenancy.handle(request({ headers: { 'x-tenant-id': 'tokens' } }), { cost: { tokens: 90 } })).toMatchObject({ ok: true });
  });

  it('does nothing for rejected, bypassed or unmetered decisions', async () => {
    const quota = createMemoryQuota();
    const settle = vi.spyOn(quota, 'settle');
    const { tenancy, handle } = setup({ quota, skipPaths: ['/health'] });
    await tenancy.settle(await handle('nobody'), { requests: 1 });
    await tenancy.settle(await tenancy.handle(request({ path: '/health' })), { requests: 1 });
    await tenancy.settle(await handle('globex'), { requests: 1 });
    expect(settle).not.toHaveBeenCalled();
    const noQuota = createTenancy({ store: tenants(), quota: false });
    await noQuota.settle(await noQuota.handle(request({ headers: { 'x-tenant-id': 'acme' } })), { requests: 1 });
  });

  it('never rejects: a failing settle goes to onError', async () => {
    const cause = new Error('redis down');
    const memory = createMemoryQuota();
    const quota: QuotaManager = { consume: (...a) => memory.consume(...a), settle: () => Promise.reject(cause) };
    const { tenancy, rec } = setup({ quota });
    const decision = await tenancy.handle(request({ headers: { 'x-tenant-id': 'acme' } }));
    await expect(tenancy.settle(decision, { requests: 1 })).resolves.toBeUndefined();
    expect(rec.errors()).toEqual([{ phase: 'settle', error: cause, tenantId: 'acme' }]);
  });
});

describe('run', () => {
  it('runs admitted decisions in the tenant context', async () => {
    const { tenancy, handle } = setup();
    const decision = await handle('globex');
    expect(tenancy.run(decision, () => currentTenantId())).toBe('globex');
    expect(await tenancy.run(decision, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentTenantId();
    })).toBe('globex');
    expect(currentTenantId()).toBeUndefined();
  });

  it('runs rejected and bypassed decisions with no tenant, even inside another tenant', async () => {
    const { tenancy, handle } = setup({ skipPaths: ['/health'] });
    const rejectedDecision = await handle('nobody');
    const bypassed = await tenancy.handle(request({ path: '/health' }));
    runWithTenant(createTestTenant({ id: 'outer' }), () => {
      expect(currentTenantId()).toBe('outer');
      expect(tenancy.run(rejectedDecision, () => currentTenantId())).toBeUndefined();
      expect(tenancy.run(bypassed, () => currentTenantId())).toBeUndefined();
      expect(currentTenantId()).toBe('outer');
    });
  });
});

describe('reject and formatRejection', () => {
  it('reject() formats any error like the pipeline does, and fires onReject', () => {
    const { tenancy, rec } = setup({ problemType: (code) => `/errors/${code}` });
    expect(tenancy.reject(new TenantError('tenant_missing', 'none'))).toMatchObject({ status: 400, body: { type: '/errors/tenant_missing', detail: 'none' } });
    expect(tenancy.reject(new Error('secret'))).toMatchObject({ status: 500, code: 'internal_error' });
    expect(rec.names()).toEqual(['onReject', 'onReject']);
  });

  it('formatRejection has the last word, and onReject sees its result', async () => {
    const formatRejection = vi.fn((rejection: TenantRejected, _request: TenantRequest | undefined) => ({ ...rejection, status: 404, headers: { ...rejection.headers, 'x-why': rejection.code } }));
    const { handle, rec } = setup({ formatRejection });
    const req = request({ headers: { 'x-tenant-id': 'susp' } });
    const decision = rejected(await handle('susp'));
    expect(decision).toMatchObject({ status: 404, code: 'tenant_suspended', headers: { 'x-why': 'tenant_suspended' } });
    expect(formatRejection).toHaveBeenCalledTimes(1);
    expect(formatRejection.mock.calls[0]?.[1]?.header('x-tenant-id')).toBe(req.header('x-tenant-id'));
    expect(rec.events.at(-1)).toMatchObject({ hook: 'onReject', event: { tenantId: 'susp', rejection: { status: 404 } } });
  });

  it.each([['undefined', undefined], ['an admitted decision', { ok: true }], ['a rejection without status', { ok: false }]])(
    'keeps the unformatted rejection when formatRejection returns %s, and tells onError',
    async (_name, returned) => {
      const { handle, rec } = setup({ formatRejection: () => returned as unknown as TenantRejected });
      expect(await handle('gone')).toMatchObject({ ok: false, status: 410, code: 'tenant_deleted' });
      expect(rec.errors()).toHaveLength(1);
      expect(rec.errors()[0]).toMatchObject({ phase: 'hook', tenantId: 'gone' });
      expect(rec.errors()[0]?.error).toBeInstanceOf(TypeError);
    },
  );

  it('keeps the unformatted rejection when formatRejection throws, and tells onError', async () => {
    const bug = new Error('format bug');
    const { handle, rec } = setup({ formatRejection: () => { throw bug; } });
    expect(await handle('gone')).toMatchObject({ ok: false, status: 410 });
    expect(rec.errors()).toEqual([{ phase: 'hook', error: bug, tenantId: 'gone' }]);
  });
});

describe('hooks through the pipeline', () => {
  it('fires onResolve, onPolicy and onQuota once each for an admitted request, with their payloads', async () => {
    const { tenancy, rec } = setup({ policyRequest: () => ({ models: 'small' }) });
    const req = request({ headers: { 'x-tenant-id': 'acme' } });
    const decision = await tenancy.handle(req);
    expect(decision.ok).toBe(true);
    expect(rec.names()).toEqual(['onResolve', 'onPolicy', 'onQuota']);
    const [resolved, policy, quota] = rec.events.map((e) => e.event) as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(resolved).toMatchObject({ request: req, tenant: { id: 'acme' }, source: 'header' });
    expect(typeof resolved['durationMs']).toBe('number');
    expect(policy).toEqual({ request: req, tenant: expect.objectContaining({ id: 'acme' }), policyRequest: { models: 'small' }, decision: { allowed: true } });
    expect(quota).toMatchObject({ request: req, tenant: { id: 'acme' }, cost: { requests: 1 }, result: { allowed: true } });
  });

  it('fires onQuota and onReject once for a request over quota', async () => {
    const { handle, rec } = setup();
    await handle('acme');
    await handle('acme');
    rec.events.length = 0;
    await handle('acme');
    expect(rec.names()).toEqual(['onResolve', 'onQuota', 'onReject']);
    expect(rec.events[2]?.event).toMatchObject({ tenantId: 'acme', rejection: { status: 429 } });
  });

  it('never lets a throwing or rejecting hook break a request', async () => {
    const errors: ErrorEvent[] = [];
    const bad: TenantHooks = {
      onResolve: () => { throw new Error('1'); },
      onPolicy: () => Promise.reject(new Error('2')),
      onQuota: () => { throw new Error('3'); },
      onReject: () => { throw new Error('4'); },
    };
    const { handle } = setup({ hooks: [bad, { onError: (e) => void errors.push(e) }], policyRequest: () => ({ models: 'small' }) });
    expect(await handle('acme')).toMatchObject({ ok: true, tenant: { id: 'acme' } });
    expect(await handle('nobody')).toMatchObject({ ok: false, status: 404 });
    await new Promise((resolve) => setImmediate(resolve));
    // The rejected promise is reported a tick later than the throws: order by hook.
    expect(errors.map((e) => `${e.phase}:${e.hook}`).sort()).toEqual(['hook:onPolicy', 'hook:onQuota', 'hook:onReject', 'hook:onResolve']);
    expect(errors.find((e) => e.hook === 'onReject')?.tenantId).toBe('nobody');
  });
});

describe('defaults', () => {
  it('resolves x-tenant-id, uses an in-memory quota, the allow-list policy and the system clock', async () => {
    const tenancy = createTenancy({ store: tenants() });
    const req = request({ headers: { 'x-tenant-id': 'acme' } });
    expect(await tenancy.handle(req)).toMatchObject({ ok: true, quota: { allowed: true } });
    expect(await tenancy.handle(req, { policy: { models: 'large' } })).toMatchObject({ ok: false, code: 'policy_denied' });
    expect(await tenancy.handle(req)).toMatchObject({ ok: true });
    expect(await tenancy.handle(req)).toMatchObject({ ok: false, status: 429 });
  });
});

describe('decide: handle without a promise when none is needed', () => {
  const ask = (id?: string, extra: RequestParts = {}) => request({ ...extra, headers: id === undefined ? {} : { 'x-tenant-id': id } });

  it('answers synchronously with the memory store, the allow-list policy and the memory quota', () => {
    const tenancy = createTenancy({ store: tenants(), policyRequest: () => ({ models: 'small' }) });
    const admitted = tenancy.decide(ask('acme'));
    expect(admitted).not.toBeInstanceOf(Promise);
    expect(admitted).toMatchObject({ ok: true, tenant: { id: 'acme' }, headers: { 'ratelimit-policy': expect.any(String) } });
    // Rejections too: missing, unknown (peek has none, so get is asked: a promise), suspended, policy, quota.
    expect(tenancy.decide(ask())).toMatchObject({ ok: false, code: 'tenant_missing' });
    expect(tenancy.decide(ask('susp'))).toMatchObject({ ok: false, code: 'tenant_suspended' });
    expect(tenancy.decide(ask('bad id!'))).toMatchObject({ ok: false, code: 'tenant_invalid' });
    expect(tenancy.decide(ask('acme'))).toMatchObject({ ok: true });
    expect(tenancy.decide(ask('acme'))).toMatchObject({ ok: false, code: 'quota_exceeded' });
    expect(tenancy.decide(ask('unknown'))).toBeInstanceOf(Promise);
  });

  it('gives the same decisions as handle, with a promise where a part answers asynchronously', async () => {
    // One store for all three (its configs carry timestamps), no quota (no state between calls).
    const store = tenants();
    const sync = createTenancy({ store, quota: false });
    const remote: TenantStore = { ...store, peek: () => undefined };
    const viaGet = createTenancy({ store: remote, quota: false });
    const asyncResolver = createTenancy({ store, quota: false, resolve: createResolver('async', async (req) => req.header('x-tenant-id')) });
    for (const id of ['acme', 'globex', 'susp', 'inact', 'gone', 'nobody', undefined]) {
      const expected = await sync.handle(ask(id));
      expect(await viaGet.decide(ask(id))).toEqual(expected);
      expect(await asyncResolver.decide(ask(id))).toEqual({ ...expected, ...(expected.ok && expected.tenant ? { source: 'async' } : {}) });
    }
    expect(viaGet.decide(ask('acme'))).toBeInstanceOf(Promise);
    expect(asyncResolver.decide(ask('acme'))).toBeInstanceOf(Promise);
  });

  it('treats a throwing peek or get as the store failing (503), never as a throw', async () => {
    const cause = new Error('peek exploded');
    const rec = recorder();
    const broken: TenantStore = { ...tenants(), peek: () => { throw cause; } };
    const tenancy = createTenancy({ store: broken, hooks: rec.hooks });
    expect(tenancy.decide(ask('acme'))).toMatchObject({ ok: false, status: 503, code: 'store_unavailable' });
    expect(rec.errors()).toEqual([{ phase: 'store', error: cause, tenantId: 'acme' }]);
    const throwingGet: TenantStore = { ...tenants(), peek: () => undefined, get: () => { throw cause; } };
    expect(createTenancy({ store: throwingGet }).decide(ask('acme'))).toMatchObject({ ok: false, code: 'store_unavailable' });
  });

  it('never rejects: a resolver that rejects is a rejection decision', async () => {
    const tenancy = createTenancy({ store: tenants(), resolve: createResolver('boom', () => Promise.reject(new Error('resolver down'))) });
    await expect(tenancy.decide(ask('acme'))).resolves.toMatchObject({ ok: false, status: 500 });
  });
});
