import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { runWithTenant, runWithoutTenant, TenantError, type TenantConfig } from '@tenant/core';
import { createGlobalCache, createMemoryBackend, createRedisBackend, createTenantCache, type CacheBackend } from '../src/index.js';
import { connected, deleteKeys, fastRedis, runPrefix } from './helpers.js';

// Context needs only a config with an id: hostile ids are allowed here on purpose.
const asTenant = (id: string) => ({ id, status: 'active' }) as TenantConfig;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HOSTILE = [
  ':', '::', '{', '}', '{x}', '%', '%003a', '%25', 'a:b', 'a', 'A', 'n:', 'g:', 't:', 'tc:', '*', '?', '[a]', ' ', '\n', '\t', '\0',
  '\ud800', '\udfff', '\ufffd', '😀', 'é', 'e\u0301', 'İ', 'ß', 'SS', '..', '/', '\\', '"', "'", '-', '_', 'x'.repeat(300), '💩:{%}',
];

let redis: Redis;
const prefix = runPrefix('tenant-cache');

beforeAll(async () => {
  redis = await connected(fastRedis());
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const backends: [string, () => CacheBackend][] = [
  ['memory', () => createMemoryBackend({ max: 100_000 })],
  ['redis', () => createRedisBackend(redis)],
];

describe.each(backends)('tenant cache on the %s backend', (_name, makeBackend) => {
  const make = (extra: { defaultTtlMs?: number } = {}) => createTenantCache({ backend: makeBackend(), prefix: `${prefix}${_name}:${Math.random()}:`, ...extra });

  it('gets, sets, has and deletes for the tenant in context', async () => {
    const cache = make();
    await runWithTenant(asTenant('acme'), async () => {
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.has('k')).toBe(false);
      expect(await cache.set('k', { a: [1, 'two', null] })).toBe(true);
      expect(await cache.get('k')).toEqual({ a: [1, 'two', null] });
      expect(await cache.has('k')).toBe(true);
      await cache.set('null', null);
      expect(await cache.get('null')).toBeNull();
      expect(await cache.delete('k')).toBe(true);
      expect(await cache.delete('k')).toBe(false);
      expect(await cache.get('k')).toBeUndefined();
    });
    expect(await cache.forTenant('acme').get('null')).toBeNull();
    expect(await cache.forTenant('beta').get('null')).toBeUndefined();
  });

  it('follows the tenant context across interleaved async work', async () => {
    const cache = make();
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    const seen = await Promise.all(
      ids.map((id, i) =>
        runWithTenant(asTenant(id), async () => {
          await sleep(i % 3);
          await cache.set('who', id);
          await sleep((i * 7) % 5);
          return cache.getOrSet('who', () => 'loaded');
        }),
      ),
    );
    expect(seen).toEqual(ids);
    for (const id of ids) expect(await cache.forTenant(id).get('who')).toBe(id);
  });

  it('fails closed without a tenant', async () => {
    const cache = make();
    const missing = (e: unknown) => TenantError.is(e, 'tenant_context_missing');
    await expect(cache.get('k')).rejects.toSatisfy(missing);
    await expect(cache.set('k', 1)).rejects.toSatisfy(missing);
    await expect(runWithoutTenant(() => cache.getOrSet('k', () => 1))).rejects.toSatisfy(missing);
    await expect(cache.increment('k')).rejects.toSatisfy(missing);
    await expect(cache.clear()).rejects.toSatisfy(missing);
    expect(() => cache.forTenant('')).toThrow(TenantError);
    await expect(cache.forTenant('a').set('k', undefined)).rejects.toThrow(TypeError);
    await expect(cache.forTenant('a').get(1 as unknown as string)).rejects.toThrow(TypeError);
  });

  it('keeps the global cache apart from every tenant', async () => {
    const backend = makeBackend();
    const p = `${prefix}${_name}:global:`;
    const tenants = createTenantCache({ backend, prefix: p });
    const global = createGlobalCache({ backend, prefix: p });
    await global.set('plans', 'global');
    for (const id of ['g', 'n', 'n:g', '{g}', 'global']) {
      expect(await tenants.forTenant(id).get('plans')).toBeUndefined();
      await tenants.forTenant(id).set('plans', id);
    }
    expect(await global.get('plans')).toBe('global');
    await global.clear();
    expect(await global.get('plans')).toBeUndefined();
    expect(await tenants.forTenant('g').get('plans')).toBe('g');
  });

  it('calls the loader once for concurrent misses, and not at all on a hit', async () => {
    const cache = make().forTenant('acme');
    let calls = 0;
    const load = async () => {
      calls += 1;
      await sleep(20);
      return { n: calls };
    };
    const values = await Promise.all(Array.from({ length: 25 }, () => cache.getOrSet('report', load)));
    expect(calls).toBe(1);
    expect(values.every((v) => v.n === 1)).toBe(true);
    expect(await cache.getOrSet('report', load)).toEqual({ n: 1 });
    expect(calls).toBe(1);
  });

  it('stores nothing when the loader throws, and tries again next time', async () => {
    const cache = make().forTenant('acme');
    const boom = new Error('boom');
    const all = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getOrSet('k', () => Promise.reject(boom))));
    expect(all.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('increments counters, per tenant', async () => {
    const cache = make();
    expect(await cache.forTenant('a').increment('hits')).toBe(1);
    expect(await cache.forTenant('a').increment('hits')).toBe(2);
    expect(await cache.forTenant('a').increment('hits', 5)).toBe(7);
    expect(await cache.forTenant('a').increment('hits', -7)).toBe(0);
    expect(await cache.forTenant('b').increment('hits')).toBe(1);
    expect(await cache.forTenant('a').get('hits')).toBe(0);
    await expect(cache.forTenant('a').increment('hits', 1.5)).rejects.toThrow(RangeError);
    await cache.forTenant('a').set('text', 'abc');
    await expect(cache.forTenant('a').increment('text')).rejects.toThrow();
  });

  it('expires entries and new counters after their TTL', async () => {
    const cache = make({ defaultTtlMs: 60_000 }).forTenant('acme');
    await cache.set('short', 1, { ttlMs: 30 });
    await cache.set('default', 1);
    await cache.increment('window', 1, { ttlMs: 30 });
    await cache.getOrSet('loaded', () => 1, { ttlMs: 30 });
    await sleep(80);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('loaded')).toBeUndefined();
    expect(await cache.increment('window')).toBe(1);
    expect(await cache.get('default')).toBe(1);
    await expect(cache.set('x', 1, { ttlMs: 0 })).rejects.toThrow(RangeError);
  });

  it('clears one tenant without touching another', async () => {
    const cache = make();
    await cache.forTenant('a').set('k', 'a');
    await cache.forTenant('ab').set('k', 'ab');
    await cache.forTenant('a').increment('n');
    await runWithTenant(asTenant('a'), () => cache.clear());
    expect(await cache.forTenant('a').get('k')).toBeUndefined();
    expect(await cache.forTenant('a').increment('n')).toBe(1);
    expect(await cache.forTenant('ab').get('k')).toBe('ab');
    await cache.forTenant('a').set('k', 'again');
    expect(await cache.forTenant('a').get('k')).toBe('again');
  });

  it('never lets one tenant read another tenant’s value (randomized, hostile ids and keys)', async () => {
    const seed = Number(process.env['CACHE_TEST_SEED'] ?? Date.now() % 1_000_000);
    let state = seed;
    const random = () => {
      // mulberry32
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const part = () => (random() < 0.6 ? pick(HOSTILE) : '') + (random() < 0.5 ? pick(HOSTILE) : String(Math.floor(random() * 5)));
    const tenantIds = [...new Set([...HOSTILE, ...Array.from({ length: 40 }, part)])].filter((id) => id.length > 0);
    const keys = [...new Set(['', ...HOSTILE, ...Array.from({ length: 60 }, part)])];
    const cache = make();
    const model = new Map<string, Map<string, string>>();
    const expected = (t: string, k: string) => model.get(t)?.get(k);
    let n = 0;
    for (let step = 0; step < 1200; step += 1) {
      const tenant = pick(tenantIds);
      const key = pick(keys);
      const scoped = random() < 0.5 ? cache.forTenant(tenant) : undefined;
      const run = <R>(fn: (c: typeof cache) => Promise<R>) => (scoped ? fn(scoped as typeof cache) : runWithTenant(asTenant(tenant), () => fn(cache)));
      const roll = random();
      if (roll < 0.45) {
        const value = `${tenant}\u0001${key}\u0001${(n += 1)}`;
        await run((c) => c.set(key, value));
        if (!model.has(tenant)) model.set(tenant, new Map());
        model.get(tenant)!.set(key, value);
      } else if (roll < 0.9) {
        const got = await run((c) => c.get<string>(key));
        expect({ seed, tenant, key, got }).toEqual({ seed, tenant, key, got: expected(tenant, key) });
      } else if (roll < 0.97) {
        await run((c) => c.delete(key));
        model.get(tenant)?.delete(key);
      } else {
        await run((c) => c.clear());
        model.delete(tenant);
      }
    }
    // A full sweep at the end: every pair reads exactly its own value.
    for (const tenant of tenantIds) {
      const scoped = cache.forTenant(tenant);
      const got = await Promise.all(keys.map((key) => scoped.get<string>(key)));
      expect(got).toEqual(keys.map((key) => expected(tenant, key)));
    }
  }, 30_000);
});

describe('key layout on Redis', () => {
  it('escapes to ASCII, under one hash tag per tenant', async () => {
    const p = runPrefix('layout');
    const cache = createTenantCache({ backend: createRedisBackend(redis), prefix: p });
    await cache.forTenant('a:{b}\ud800').set('k:%\udfff', 1);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${p}*`);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    await deleteKeys(redis, p);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key.slice(p.length)).toMatch(/^(n|t):\{a%003a%007bb%007d%d800\}(:[A-Za-z0-9_-]+:k%003a%0025%dfff)?$/);
    }
  });
});
