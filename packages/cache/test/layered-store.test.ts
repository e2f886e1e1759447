import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryTenantStore, type TenantStore } from '@tenant/core';
import { createLayeredTenantStore, createRedisBackend, createTenantCache, type CacheErrorEvent, type LayeredTenantStore } from '../src/index.js';
import { connected, deleteKeys, eventually, fastRedis, isStoreUnavailable, observedStore, ownRedis, REDIS_URL, runPrefix, subscriberRedis } from './helpers.js';

// Another process would not see this one's change feed: hide it, so that
// only Redis pub/sub can carry the invalidation between the two instances.
const elsewhere = (store: TenantStore): TenantStore => ({ ...store, subscribe: () => () => undefined });

const opened: Redis[] = [];
const stores: LayeredTenantStore[] = [];
const client = async (url: string, subscriber = false) => {
  const redis = subscriber ? subscriberRedis(url) : fastRedis(url);
  opened.push(redis);
  return connected(redis);
};
const layered = async (source: TenantStore, url: string, prefix: string, extra: { onError?: (e: CacheErrorEvent) => void } = {}) => {
  const store = createLayeredTenantStore(source, { redis: await client(url), subscriber: await client(url, true), prefix, ...extra });
  stores.push(store);
  await store.ready();
  return store;
};

// Outages, restarts and freezes below must leave nothing unhandled.
const unhandledInFile: unknown[] = [];
const onUnhandledInFile = (reason: unknown) => void unhandledInFile.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandledInFile);
  process.on('uncaughtException', onUnhandledInFile);
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(async () => {
  for (const redis of opened) redis.disconnect();
  await new Promise((r) => setTimeout(r, 50));
  process.off('unhandledRejection', onUnhandledInFile);
  process.off('uncaughtException', onUnhandledInFile);
  expect(unhandledInFile).toEqual([]);
});

describe('layered store on the shared Redis', () => {
  let admin: Redis;
  const prefix = runPrefix('layered');
  beforeAll(async () => {
    admin = await connected(fastRedis());
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });

  it('carries invalidations to another instance over pub/sub', async () => {
    const { store, inner, state } = observedStore({ tenants: [{ id: 'acme', plan: 'free', domains: ['acme.example.com'] }] });
    const p = `${prefix}a:`;
    const a = await layered(store, REDIS_URL, p);
    const b = await layered(elsewhere(store), REDIS_URL, p);
    expect((await a.get('acme'))?.plan).toBe('free');
    expect(state.gets).toBe(1);
    expect((await b.get('acme'))?.plan).toBe('free'); // from Redis
    expect(state.gets).toBe(1);
    expect(await b.getByDomain('new.example.com')).toBeUndefined();
    expect(b.stats().redis.hits).toBe(1);

    await a.update('acme', { plan: 'pro', domains: ['new.example.com'] });
    await eventually(() => b.peek('acme') === undefined);
    expect((await b.get('acme'))?.plan).toBe('pro');
    expect((await b.getByDomain('new.example.com'))?.id).toBe('acme');
    expect(await b.getByDomain('acme.example.com')).toBeUndefined();
    expect(b.stats().pubsub.received).toBeGreaterThanOrEqual(1);
    expect(a.stats().pubsub.published).toBe(1);

    // A third instance finds host and config in Redis, without a store query.
    b.invalidate('acme'); // memory only: B reads the host through Redis and the store
    expect((await b.getByDomain('new.example.com'))?.id).toBe('acme');
    await eventually(async () => (await admin.get(`${p}domain:new.example.com`)) === '"acme"');
    const queries = state.gets + state.domainGets;
    const c = await layered(elsewhere(store), REDIS_URL, p);
    expect((await c.getByDomain('new.example.com'))?.plan).toBe('pro');
    expect(state.gets + state.domainGets).toBe(queries);
    expect(c.stats().redis.hits).toBe(2);

    // A tenant B was told does not exist appears once A creates it.
    expect(await b.get('newco')).toBeUndefined();
    expect(await b.get('newco')).toBeUndefined();
    await a.create({ id: 'newco' });
    await eventually(() => b.stats().pubsub.received >= 2);
    expect((await b.get('newco'))?.id).toBe('newco');

    // A write made elsewhere and seen only by A's change feed reaches B too.
    await inner.update('acme', { plan: 'team' });
    await eventually(() => b.peek('acme') === undefined);
    expect((await b.get('acme'))?.plan).toBe('team');
  });

  it('does not copy a read that a write overtook into Redis', async () => {
    const { store, inner } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: TenantStore = {
      ...elsewhere(store),
      async get(id) {
        const tenant = await inner.get(id);
        await gate;
        return tenant;
      },
    };
    const p = `${prefix}race:`;
    const a = await layered(store, REDIS_URL, p);
    const b = await layered(slow, REDIS_URL, p);
    const old = b.get('acme');
    await eventually(() => b.stats().store.loads === 1);
    await a.update('acme', { plan: 'pro' });
    await eventually(() => b.stats().pubsub.received === 1);
    release();
    expect((await old)?.plan).toBe('free');
    await new Promise((r) => setTimeout(r, 50));
    const inRedis = await admin.get(`${p}id:acme`);
    expect(inRedis === null || (JSON.parse(inRedis) as { plan: string }).plan === 'pro').toBe(true);
    expect((await b.get('acme'))?.plan).toBe('pro');
  });

  it('reports stats per layer and warms the memory layer', async () => {
    const { store, state } = observedStore({ tenants: [{ id: 'a1' }, { id: 'a2', status: 'suspended' }] });
    const p = `${prefix}b:`;
    const a = await layered(store, REDIS_URL, p);
    expect(await a.warm()).toBe(1);
    await a.get('a1');
    await a.get('a2');
    await a.get('nobody');
    await a.get('nobody');
    const stats = a.stats();
    expect(stats.memory).toMatchObject({ hits: 1, negativeHits: 1, misses: 2 });
    expect(stats.redis).toMatchObject({ hits: 0, misses: 2, errors: 0 });
    expect(stats.store).toEqual({ loads: 2, errors: 0 });
    expect(state.gets).toBe(2);
    await eventually(async () => (await admin.get(`${p}id:nobody`)) === '-');
  });

  it('warms Redis too, so another instance finds configs and hosts there without a store query', async () => {
    const { store, state } = observedStore({ tenants: [{ id: 'w1', domains: ['w1.example.com'] }, { id: 'w2', status: 'suspended' }] });
    const p = `${prefix}w:`;
    const a = await layered(store, REDIS_URL, p);
    expect(await a.warm({ tenants: 'all' })).toBe(2);
    expect(JSON.parse((await admin.get(`${p}id:w1`)) ?? 'null')).toMatchObject({ id: 'w1' });
    expect(await admin.get(`${p}domain:w1.example.com`)).toBe('"w1"');
    expect(await admin.pttl(`${p}id:w2`)).toBeGreaterThan(0);
    const b = await layered(elsewhere(store), REDIS_URL, p);
    expect((await b.getByDomain('w1.example.com'))?.id).toBe('w1');
    expect((await b.get('w2'))?.status).toBe('suspended');
    expect(state.gets + state.domainGets).toBe(0);
    await expect(a.warm({ tenants: 'none' as never })).rejects.toThrow(RangeError);
  });
});

describe('with a Redis of our own that goes down', () => {
  let server: Awaited<ReturnType<typeof ownRedis>>;
  beforeAll(async () => {
    server = await ownRedis();
  });
  afterAll(async () => {
    await server.dispose();
  });

  it('keeps serving from memory, reports errors instead of throwing, and flushes after a reconnect', async () => {
    const errors: CacheErrorEvent[] = [];
    const onError = (e: CacheErrorEvent) => errors.push(e);
    const { store, inner, state } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }, { id: 'beta' }, { id: 'gamma' }] });
    const p = runPrefix('outage');
    const a = await layered(store, server.url, p, { onError });
    const b = await layered(elsewhere(store), server.url, p, { onError });
    await a.get('acme');
    await b.get('acme');

    await server.stop();
    // Memory still serves; an uncached tenant falls through Redis to the store.
    expect((await b.get('acme'))?.plan).toBe('free');
    expect((await b.get('beta'))?.id).toBe('beta');
    expect(errors.some((e) => e.operation === 'redis.get')).toBe(true);
    expect(b.stats().redis.errors).toBeGreaterThan(0);

    // A write still succeeds; its invalidation can not reach Redis yet.
    await a.update('acme', { plan: 'pro' });
    expect((await a.get('acme'))?.plan).toBe('pro');
    expect(errors.some((e) => e.operation === 'invalidate' && e.tenantId === 'acme')).toBe(true);
    expect((await b.get('acme'))?.plan).toBe('free'); // B could not be told

    // Store down too: cached tenants are served, unseen ones get 503.
    state.down = true;
    expect((await b.get('acme'))?.id).toBe('acme');
    await expect(b.get('gamma')).rejects.toSatisfy(isStoreUnavailable);
    state.down = false;

    await server.start();
    await eventually(() => b.stats().flushes >= 1, 10_000);
    expect((await b.get('acme'))?.plan).toBe('pro');
    // A replays the invalidation it could not send.
    await eventually(() => a.stats().pubsub.published >= 1, 10_000);

    // And pub/sub works again after the reconnect.
    await inner.update('acme', { plan: 'team' });
    await eventually(async () => (await b.get('acme'))?.plan === 'team');
  }, 30_000);

  it('Redis frozen (SIGSTOP): lookups go to the store within the client timeout, skip the frozen node, and use Redis again once thawed', async () => {
    const errors: CacheErrorEvent[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    try {
      const { store } = observedStore({ tenants: Array.from({ length: 20 }, (_, i) => ({ id: `t${i}` })) });
      const redis = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 200, retryStrategy: () => 50 });
      redis.on('error', () => undefined);
      opened.push(redis);
      await connected(redis);
      const b = createLayeredTenantStore(store, {
        redis,
        subscriber: await client(server.url, true),
        prefix: runPrefix('frozen'),
        memory: { ttlMs: 60_000, timeoutMs: 2_000 },
        onError: (e) => errors.push(e),
      });
      stores.push(b);
      await b.ready();
      for (let i = 0; i < 20; i++) await b.get(`t${i}`); // now in memory and Redis
      server.pause();
      try {
        const before = b.stats();
        for (let i = 0; i < 20; i++) {
          b.invalidate(`t${i}`); // this process only: the next lookup asks Redis
          expect((await b.get(`t${i}`))?.id).toBe(`t${i}`);
        }
        const after = b.stats();
        // Each lookup was answered by the store; the frozen Redis was asked once (or twice, a second later), then skipped.
        expect(after.store.loads - before.store.loads).toBe(20);
        expect(after.redis.skips - before.redis.skips).toBeGreaterThan(15);
        expect(errors.some((e) => e.operation === 'redis.get')).toBe(true);
      } finally {
        server.resume();
      }
      await eventually(async () => {
        b.invalidate('t0');
        const hits = b.stats().redis.hits;
        await b.get('t0');
        return b.stats().redis.hits > hits;
      }, 10_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
    }
  }, 30_000);

  it('flushes memory when only the subscriber connection dropped', async () => {
    const { store, inner } = observedStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    const p = runPrefix('dropped');
    const a = await layered(store, server.url, p);
    const b = await layered(elsewhere(store), server.url, p);
    await b.get('acme');
    const admin = await client(server.url);
    // Redis stays up; B's subscription is cut, and the change below may be published while it is away.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await inner.update('acme', { plan: 'pro' });
    await eventually(() => b.stats().flushes >= 1);
    expect((await b.get('acme'))?.plan).toBe('pro');
    await a.close();
  });

  it('tenant cache: reads fall back and report, writes without a fallback throw', async () => {
    const redis = await client(server.url);
    const errors: CacheErrorEvent[] = [];
    const cache = createTenantCache({ backend: createRedisBackend(redis), prefix: runPrefix('down'), onError: (e) => errors.push(e) }).forTenant('acme');
    await cache.set('k', 'v');
    await server.stop();
    try {
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.has('k')).toBe(false);
      expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
      expect(await cache.set('k', 'v2')).toBe(false);
      await expect(cache.delete('k')).rejects.toThrow();
      await expect(cache.increment('n')).rejects.toThrow();
      await expect(cache.clear()).rejects.toThrow();
      expect(errors.map((e) => e.operation)).toEqual(['get', 'has', 'getOrSet', 'set']);
      expect(errors.every((e) => e.tenantId === 'acme')).toBe(true);
    } finally {
      await server.start();
    }
    await connected(redis);
    // The restarted server is empty: the cache works again from scratch.
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.set('k', 'v3')).toBe(true);
    expect(await cache.get('k')).toBe('v3');
  });
});

it('rejects bad options', () => {
  const store = createMemoryTenantStore();
  expect(() => createLayeredTenantStore(store, {} as never)).toThrow(TypeError);
});
