// Cache operations per second, in memory and on Redis, and TenantStore
// lookups with and without the cache, side by side in one run.
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); keys are removed at the end.
import { afterAll, bench, describe } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryTenantStore } from '@tenant/core';
import { createCachedTenantStore, createMemoryBackend, createRedisBackend, createTenantCache } from '../src/index.js';

const TENANTS = 1_000;
const KEYS = 100;
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
const keys = Array.from({ length: KEYS }, (_, i) => `report:${i}`);
const prefix = `bench:cache:${process.pid}:`;

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
const memoryCache = createTenantCache({ backend: createMemoryBackend({ max: 200_000 }), prefix });
const redisCache = createTenantCache({ backend: createRedisBackend(redis), prefix, defaultTtlMs: 120_000 });
const memoryScopes = ids.map((id) => memoryCache.forTenant(id));
const redisScopes = ids.slice(0, 50).map((id) => redisCache.forTenant(id));
for (const scope of memoryScopes) for (const key of keys.slice(0, 10)) await scope.set(key, { total: 42, key });
for (const scope of redisScopes) for (const key of keys.slice(0, 10)) await scope.set(key, { total: 42, key });

const store = createMemoryTenantStore({ tenants: ids.map((id) => ({ id, plan: 'pro', domains: [`${id}.example.com`] })) });
const cached = createCachedTenantStore(store, { max: TENANTS * 2 });
await cached.warm();

let i = 0;
afterAll(async () => {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
  redis.disconnect();
});

describe('tenant cache: get (hit) and set', () => {
  bench('memory get', async () => {
    await memoryScopes[i++ % TENANTS]!.get(keys[i % 10]!);
  }, { time: 1000 });
  bench('memory set', async () => {
    await memoryScopes[i++ % TENANTS]!.set(keys[i % KEYS]!, { total: i });
  }, { time: 1000 });
  bench('redis get (one client, awaited one by one)', async () => {
    await redisScopes[i++ % 50]!.get(keys[i % 10]!);
  }, { time: 1000 });
  bench('redis set (one client, awaited one by one)', async () => {
    await redisScopes[i++ % 50]!.set(keys[i % KEYS]!, { total: i });
  }, { time: 1000 });
  bench('redis get x100 concurrent (pipelined by ioredis), per batch', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, j) => redisScopes[(i + j) % 50]!.get(keys[j % 10]!)));
    i += 100;
  }, { time: 1000 });
});

describe('TenantStore lookup: memory store alone vs behind the cache', () => {
  bench('uncached: memory store get', async () => {
    await store.get(ids[i++ % TENANTS]!);
  }, { time: 1000 });
  bench('cached: get (hit)', async () => {
    await cached.get(ids[i++ % TENANTS]!);
  }, { time: 1000 });
  bench('cached: peek (hit, synchronous)', () => {
    if (cached.peek(ids[i++ % TENANTS]!) === undefined) throw new Error('miss');
  }, { time: 1000 });
  bench('uncached: memory store getByDomain', async () => {
    await store.getByDomain(`${ids[i++ % TENANTS]!}.example.com`);
  }, { time: 1000 });
  bench('cached: getByDomain (hit)', async () => {
    await cached.getByDomain(`${ids[i++ % TENANTS]!}.example.com`);
  }, { time: 1000 });
});
