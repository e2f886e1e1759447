import { describe, expect, it } from 'vitest';
import { createTenancy, fromHeader, TenantError, type TenantConfig, type TenantRequest, type TenantStore } from '@tenant/core';
import { createCachedTenantStore, type Invalidation } from '../src/index.js';
import { isStoreUnavailable, manualClock, observedStore } from './helpers.js';

const request = (id: string): TenantRequest => ({ method: 'GET', path: '/', query: '', host: 'api.example.com', header: (n) => (n === 'x-tenant-id' ? id : undefined) });

describe('createCachedTenantStore', () => {
  it('answers repeated lookups from memory, with the same settled promise', async () => {
    const { store, state } = observedStore({ tenants: [{ id: 'acme', plan: 'pro' }] });
    const cached = createCachedTenantStore(store);
    expect((await cached.get('acme'))?.plan).toBe('pro');
    const first = cached.get('acme');
    expect(cached.get('acme')).toBe(first);
    expect((await first)?.id).toBe('acme');
    expect(cached.peek('acme')?.plan).toBe('pro');
    expect(state.gets).toBe(1);
    expect(cached.stats()).toMatchObject({ hits: 3, misses: 1, loads: 1 });
  });

  it('counts the hits of the pipeline, which asks peek() first', async () => {
    const { store, state } = observedStore({ tenants: [{ id: 'acme' }] });
    const cached = createCachedTenantStore(store);
    const tenancy = createTenancy({ store: cached, resolve: fromHeader('x-tenant-id') });
    for (let i = 0; i < 100; i++) expect((await tenancy.handle(request('acme'))).ok).toBe(true);
    expect((await tenancy.handle(request('nobody'))).ok).toBe(false);
    expect((await tenancy.handle(request('nobody'))).ok).toBe(false);
    // The first request misses and loads; the 99 others are hits seen through peek().
    expect(cached.stats()).toMatchObject({ hits: 99, misses: 2, negativeHits: 1, loads: 2 });
    expect(state.gets).toBe(2);
    // peek() keeps a tenant recent: with max 2, the hot tenant outlives colder ones.
    const small = createCachedTenantStore(store, { max: 2 });
    const hot = createTenancy({ store: small, resolve: fromHeader('x-tenant-id') });
    await small.get('acme');
    for (const id of ['b', 'c', 'd']) {
      await small.get(id);
      expect((await hot.handle(request('acme'))).ok).toBe(true);
    }
    expect(small.peek('acme')?.id).toBe('acme');
  });

  it('sends one query for N concurrent misses of one tenant', async () => {
    const { store, state } = observedStore({ tenants: [{ id: 'acme' }, { id: 'beta' }] });
    const cached = createCachedTenantStore(store);
    const results = await Promise.all([...Array.from({ length: 50 }, () => cached.get('acme')), cached.get('beta'), cached.get('beta')]);
    expect(results.slice(0, 50).every((t) => t?.id === 'acme')).toBe(true);
    expect(results[51]?.id).toBe('beta');
    expect(state.gets).toBe(2);
  });

  it('reloads after the TTL', async () => {
    const clock = manualClock();
    const { store, inner, state } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    const cached = createCachedTenantStore(store, { ttlMs: 1000, subscribe: false, clock });
    await cached.get('acme');
    await inner.update('acme', { plan: 'pro' }); // not seen: no feed subscription
    clock.advance(999);
    expect((await cached.get('acme'))?.plan).toBe('free');
    clock.advance(2);
    expect((await cached.get('acme'))?.plan).toBe('pro');
    expect(state.gets).toBe(2);
  });

  it('remembers unknown ids for negativeTtlMs, and forgets them when the tenant is created', async () => {
    const clock = manualClock();
    const { store, inner, state } = observedStore();
    const cached = createCachedTenantStore(store, { negativeTtlMs: 500, clock });
    expect(await cached.get('ghost')).toBeUndefined();
    expect(await cached.get('ghost')).toBeUndefined();
    expect(state.gets).toBe(1);
    expect(cached.stats().negativeHits).toBe(1);
    clock.advance(501);
    expect(await cached.get('ghost')).toBeUndefined();
    expect(state.gets).toBe(2);
    await inner.create({ id: 'ghost' }); // seen through the change feed
    expect((await cached.get('ghost'))?.id).toBe('ghost');
  });

  it('does not cache negatives when negativeTtlMs is 0', async () => {
    const { store, state } = observedStore();
    const cached = createCachedTenantStore(store, { negativeTtlMs: 0 });
    await cached.get('ghost');
    await cached.get('ghost');
    expect(state.gets).toBe(2);
  });

  it('invalidates on writes made through it, and announces each change once', async () => {
    const { store } = observedStore({ tenants: [{ id: 'acme', plan: 'free', domains: ['acme.example.com'] }] });
    const cached = createCachedTenantStore(store);
    const seen: Invalidation[] = [];
    cached.onInvalidate((i) => {
      seen.push(i);
    });
    await cached.get('acme');
    await cached.update('acme', { plan: 'pro', domains: ['acme.io'] });
    expect((await cached.get('acme'))?.plan).toBe('pro');
    expect(seen).toEqual([{ id: 'acme', domains: ['acme.io', 'acme.example.com'] }]);
    await cached.delete('acme');
    expect((await cached.get('acme'))?.status).toBe('deleted');
    await cached.restore('acme', { status: 'suspended' });
    expect((await cached.get('acme'))?.status).toBe('suspended');
    await cached.create({ id: 'beta' });
    expect(seen.map((i) => i.id)).toEqual(['acme', 'acme', 'acme', 'beta']);
  });

  it('invalidates on change-feed events of writes made elsewhere', async () => {
    const { store, inner } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    const cached = createCachedTenantStore(store);
    await cached.get('acme');
    await inner.update('acme', { plan: 'pro' });
    expect((await cached.get('acme'))?.plan).toBe('pro');
    cached.close();
    await inner.update('acme', { plan: 'team' });
    expect((await cached.get('acme'))?.plan).toBe('pro');
  });

  it('forgets a stale copy on version_conflict', async () => {
    const { store, inner } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    const cached = createCachedTenantStore(store, { subscribe: false });
    await cached.get('acme');
    await inner.update('acme', { plan: 'pro' });
    await expect(cached.update('acme', { plan: 'x' }, { expectedVersion: 1 })).rejects.toSatisfy((e) => TenantError.is(e, 'version_conflict'));
    expect((await cached.get('acme'))?.plan).toBe('pro');
  });

  describe('getByDomain', () => {
    it('caches hosts, negative ones included, and follows domain changes', async () => {
      const { store, state } = observedStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }] });
      const cached = createCachedTenantStore(store);
      expect((await cached.getByDomain('ACME.example.com:443'))?.id).toBe('acme');
      expect((await cached.getByDomain('acme.example.com'))?.id).toBe('acme');
      expect(await cached.getByDomain('new.example.com')).toBeUndefined();
      expect(await cached.getByDomain('new.example.com')).toBeUndefined();
      expect(state.domainGets).toBe(2);
      await cached.update('acme', { domains: ['new.example.com'] });
      expect(await cached.getByDomain('acme.example.com')).toBeUndefined();
      expect((await cached.getByDomain('new.example.com'))?.id).toBe('acme');
      // A lookup by id reuses the tenant loaded by domain.
      const gets = state.gets;
      expect((await cached.get('acme'))?.domains).toEqual(['new.example.com']);
      expect(state.gets).toBe(gets);
    });

    it('does not trust a host pointer once the tenant no longer claims the host', async () => {
      const { store, inner } = observedStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }] });
      const cached = createCachedTenantStore(store, { subscribe: false });
      await cached.getByDomain('acme.example.com');
      await inner.update('acme', { domains: [] });
      cached.invalidate('acme'); // what a remote invalidation without domains would do
      expect(await cached.getByDomain('acme.example.com')).toBeUndefined();
    });

    it('answers undefined for hostile hosts without asking the store', async () => {
      const { store, state } = observedStore();
      const cached = createCachedTenantStore(store);
      expect(await cached.getByDomain('evil.com/@acme')).toBeUndefined();
      expect(state.domainGets).toBe(0);
    });
  });

  describe('stale-if-error', () => {
    it('serves an expired copy while the store is down, and 503 for a tenant never seen', async () => {
      const clock = manualClock();
      const errors: unknown[] = [];
      const { store, state } = observedStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }, { id: 'beta' }] });
      const cached = createCachedTenantStore(store, { ttlMs: 1000, clock, onError: (e) => errors.push(e.error) });
      await cached.get('acme');
      await cached.getByDomain('acme.example.com');
      state.down = true;
      clock.advance(5000);
      expect((await cached.get('acme'))?.id).toBe('acme');
      expect((await cached.getByDomain('acme.example.com'))?.id).toBe('acme');
      await expect(cached.get('beta')).rejects.toSatisfy(isStoreUnavailable);
      await expect(cached.getByDomain('beta.example.com')).rejects.toSatisfy(isStoreUnavailable);
      expect(cached.stats()).toMatchObject({ staleHits: 2, errors: 4 });
      expect(errors).toHaveLength(4);
      state.down = false;
      expect((await cached.get('beta'))?.id).toBe('beta');
    });

    it('asks a failing store again only after errorBackoffMs', async () => {
      const clock = manualClock();
      const { store, state } = observedStore({ tenants: [{ id: 'acme' }] });
      const cached = createCachedTenantStore(store, { ttlMs: 1000, errorBackoffMs: 200, clock });
      await cached.get('acme');
      state.down = true;
      clock.advance(1001);
      await cached.get('acme');
      expect(state.gets).toBe(2);
      clock.advance(199);
      expect((await cached.get('acme'))?.id).toBe('acme');
      expect(state.gets).toBe(2);
      clock.advance(2);
      // Past the backoff: the stale copy at once, and the store asked again in the background.
      expect((await cached.get('acme'))?.id).toBe('acme');
      await new Promise((r) => setImmediate(r));
      expect(state.gets).toBe(3);
      state.down = false;
      clock.advance(201);
      expect(cached.peek('acme')).toBeUndefined();
      await cached.get('acme');
      await new Promise((r) => setImmediate(r));
      expect(state.gets).toBe(4);
      expect(cached.peek('acme')?.id).toBe('acme'); // fresh again: the background load succeeded
      expect(cached.stats().staleHits).toBe(3); // the lookups within the backoff were answered as fresh
    });

    it('after a failure, serves the stale copy at once while one background query per tenant asks the store again', async () => {
      const clock = manualClock();
      const { store } = observedStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }] });
      let hang = false;
      const pending: (() => void)[] = [];
      const state = { gets: 0, domainGets: 0 };
      const hanging: TenantStore = {
        ...store,
        get: (id) => {
          state.gets += 1;
          return hang ? new Promise((resolve) => pending.push(() => void store.get(id).then(resolve))) : store.get(id);
        },
        getByDomain: (host) => {
          state.domainGets += 1;
          return hang ? new Promise((resolve) => pending.push(() => void store.getByDomain(host).then(resolve))) : store.getByDomain(host);
        },
      };
      const cached = createCachedTenantStore(hanging, { ttlMs: 1000, errorBackoffMs: 100, timeoutMs: 20, subscribe: false, clock });
      await cached.get('acme');
      await cached.getByDomain('acme.example.com');
      hang = true;
      clock.advance(2000);
      // The first lookups wait for the time limit, then get the stale copy.
      expect((await cached.get('acme'))?.id).toBe('acme');
      expect((await cached.getByDomain('acme.example.com'))?.id).toBe('acme');
      const asked = state.gets + state.domainGets;
      clock.advance(500);
      // Later ones: the stale copy at once (no wait), and one background query for all of them.
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? cached.get('acme') : cached.getByDomain('acme.example.com'))));
      expect(many.every((t) => t?.id === 'acme')).toBe(true);
      expect(state.gets + state.domainGets).toBe(asked + 2);
      // The database answers: its late answers refresh the cache.
      hang = false;
      for (const release of pending.splice(0)) release();
      await new Promise((r) => setTimeout(r, 30));
      expect(cached.peek('acme')?.id).toBe('acme');
    });

    it('stops serving stale copies after staleIfErrorMs', async () => {
      const clock = manualClock();
      const { store, state } = observedStore({ tenants: [{ id: 'acme' }] });
      const cached = createCachedTenantStore(store, { ttlMs: 1000, staleIfErrorMs: 10_000, clock });
      await cached.get('acme');
      state.down = true;
      clock.advance(10_999);
      expect((await cached.get('acme'))?.id).toBe('acme');
      clock.advance(2);
      await expect(cached.get('acme')).rejects.toSatisfy(isStoreUnavailable);
    });

    it('bounds a hung store by timeoutMs: stale for known tenants, store_unavailable for others, the late answer cached', async () => {
      const clock = manualClock();
      const errors: unknown[] = [];
      const { store, inner } = observedStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'], plan: 'free' }, { id: 'beta' }] });
      let hung: (() => void)[] | undefined;
      let lateFailure: ((error: Error) => void)[] = [];
      const hanging: TenantStore = {
        ...store,
        get: (id) => (hung === undefined ? store.get(id) : new Promise((resolve, reject) => {
          hung!.push(() => void store.get(id).then(resolve, reject));
          lateFailure.push(reject);
        })),
        getByDomain: (host) => (hung === undefined ? store.getByDomain(host) : new Promise((resolve) => hung!.push(() => void store.getByDomain(host).then(resolve)))),
      };
      const cached = createCachedTenantStore(hanging, { ttlMs: 1000, timeoutMs: 30, subscribe: false, clock, onError: (e) => errors.push(e.error) });
      await cached.get('acme');
      await cached.getByDomain('acme.example.com');
      hung = [];
      clock.advance(5000);
      expect((await cached.get('acme'))?.plan).toBe('free');
      expect((await cached.getByDomain('acme.example.com'))?.id).toBe('acme');
      const unknown = await cached.get('beta').catch((e: unknown) => e);
      expect(isStoreUnavailable(unknown)).toBe(true);
      expect(((unknown as Error).cause as Error).message).toMatch(/no answer within 30 ms/);
      expect(cached.stats()).toMatchObject({ staleHits: 2, errors: 3 });
      expect(errors).toHaveLength(3);
      // The database wakes up: the answers that came too late are cached all the same.
      await inner.update('acme', { plan: 'pro' });
      const waiting = hung;
      hung = undefined;
      for (const release of waiting) release();
      await new Promise((r) => setTimeout(r, 10));
      expect(cached.peek('beta')?.id).toBe('beta');
      expect(cached.peek('acme')?.plan).toBe('pro');
      // A late failure of an abandoned query is dropped, never unhandled.
      hung = [];
      lateFailure = [];
      clock.advance(5000);
      await expect(cached.get('gamma')).rejects.toSatisfy(isStoreUnavailable);
      for (const fail of lateFailure) fail(new Error('connection terminated'));
      await new Promise((r) => setTimeout(r, 10));
      hung = undefined;
      expect(await cached.get('gamma')).toBeUndefined();
    });

    it('gives the pipeline a quick 503 for an unknown tenant while the store hangs, and serves the known one', async () => {
      const clock = manualClock();
      const { store } = observedStore({ tenants: [{ id: 'acme' }, { id: 'beta' }] });
      let hang = false;
      const hanging: TenantStore = { ...store, get: (id) => (hang ? new Promise<never>(() => undefined) : store.get(id)) };
      const cached = createCachedTenantStore(hanging, { ttlMs: 1, timeoutMs: 20, clock });
      const tenancy = createTenancy({ store: cached, resolve: fromHeader('x-tenant-id') });
      expect((await tenancy.handle(request('acme'))).ok).toBe(true);
      hang = true;
      clock.advance(60_000);
      expect((await tenancy.handle(request('acme'))).ok).toBe(true);
      const rejected = await tenancy.handle(request('beta'));
      expect(rejected).toMatchObject({ ok: false, status: 503, code: 'store_unavailable' });
      for (const timeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) expect(() => createCachedTenantStore(store, { timeoutMs })).toThrow(RangeError);
    });

    it('passes on TenantErrors that are the store answering', async () => {
      const { store } = observedStore();
      const answering = { ...store, get: () => Promise.reject(new TenantError('tenant_invalid', 'bad id')) };
      const cached = createCachedTenantStore(answering);
      await expect(cached.get('x')).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_invalid'));
    });

    it('gives the pipeline a 503 for unseen tenants and serves cached ones while the store is down', async () => {
      const clock = manualClock();
      const { store, state } = observedStore({ tenants: [{ id: 'acme' }, { id: 'beta' }] });
      const cached = createCachedTenantStore(store, { ttlMs: 1, clock });
      const tenancy = createTenancy({ store: cached, resolve: fromHeader('x-tenant-id') });
      expect((await tenancy.handle(request('acme'))).ok).toBe(true);
      state.down = true;
      clock.advance(60_000);
      expect((await tenancy.handle(request('acme'))).ok).toBe(true);
      const rejected = await tenancy.handle(request('beta'));
      expect(rejected.ok).toBe(false);
      expect(!rejected.ok && rejected.status).toBe(503);
      expect(!rejected.ok && rejected.code).toBe('store_unavailable');
    });
  });

  it('does not cache a load that an invalidation overtook', async () => {
    const { store, inner } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { ...store, get: async (id: string) => {
      const t = await inner.get(id);
      await gate;
      return t;
    } };
    const cached = createCachedTenantStore(slow, { subscribe: false });
    const old = cached.get('acme');
    await inner.update('acme', { plan: 'pro' });
    cached.invalidate('acme');
    release();
    expect((await old)?.plan).toBe('free'); // its callers get what it read
    expect(cached.peek('acme')).toBeUndefined(); // but it was not cached
    expect((await cached.get('acme'))?.plan).toBe('pro');
  });

  it('is bounded by max', async () => {
    const tenants = Array.from({ length: 20 }, (_, i) => ({ id: `t${i}` }));
    const { store } = observedStore({ tenants });
    const cached = createCachedTenantStore(store, { max: 5 });
    for (const t of tenants) await cached.get(t.id);
    expect(cached.stats().size).toBe(5);
    expect(cached.peek('t19')?.id).toBe('t19');
    expect(cached.peek('t0')).toBeUndefined();
  });

  it('warms active or all tenants from list, and clears', async () => {
    const tenants = Array.from({ length: 1200 }, (_, i) => ({ id: `t${String(i).padStart(4, '0')}`, status: i % 2 ? ('active' as const) : ('suspended' as const) }));
    const { store, inner, state } = observedStore({ tenants });
    await inner.delete('t0000');
    const cached = createCachedTenantStore(store, { max: 2000 });
    expect(await cached.warm()).toBe(600);
    expect(cached.peek('t0001')?.status).toBe('active');
    expect(cached.peek('t0002')).toBeUndefined();
    expect(await cached.warm({ tenants: 'all' })).toBe(1200);
    expect(cached.peek('t0000')?.status).toBe('deleted');
    expect(state.gets).toBe(0);
    cached.clear();
    expect(cached.peek('t0001')).toBeUndefined();
    await expect(cached.warm({ tenants: 'some' as 'all' })).rejects.toThrow(RangeError);
  });

  it('primes a config by hand', async () => {
    const { store, state } = observedStore();
    const cached = createCachedTenantStore(store);
    const tenant = { id: 'x', status: 'active', quota: {}, policy: {}, domains: ['x.example.com'], metadata: {}, createdAt: '', updatedAt: '', version: 1 } as TenantConfig;
    cached.prime(tenant);
    expect(await cached.getByDomain('x.example.com')).toBe(tenant);
    expect(state.gets + state.domainGets).toBe(0);
  });

  it('rejects bad options', () => {
    const { store } = observedStore();
    expect(() => createCachedTenantStore(store, { ttlMs: -1 })).toThrow(RangeError);
    expect(() => createCachedTenantStore(store, { max: 0 })).toThrow(RangeError);
    expect(() => createCachedTenantStore({} as never)).toThrow(TypeError);
  });
});
