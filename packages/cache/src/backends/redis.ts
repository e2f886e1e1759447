import type { RedisCommandClient } from '../redis-client.js';
import type { CacheBackend } from '../types.js';

// INCRBY, and an expiry only for a counter that has none (a new one), in one
// atomic step. One key: safe on Redis Cluster.
const INCREMENT = `local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

/**
 * A {@link CacheBackend} on an ioredis client you provide (see
 * {@link RedisCommandClient} for fail-fast settings). Values are stored as
 * JSON; counters as Redis integers. Keys are used as given (the tenant cache
 * namespaces them, with a `{tenant}` hash tag for Redis Cluster).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisBackend, createTenantCache } from '@tenant/cache';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * const cache = createTenantCache({ backend: createRedisBackend(redis), prefix: 'myapp:', defaultTtlMs: 300_000 });
 * ```
 */
export function createRedisBackend(client: RedisCommandClient): CacheBackend {
  if (typeof client !== 'object' || client === null || typeof client.get !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('[@tenant/cache] createRedisBackend needs an ioredis client');
  }
  return {
    name: 'redis',
    async get(key) {
      const raw = await client.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as unknown);
    },
    async set(key, value, ttlMs) {
      const json = JSON.stringify(value);
      if (json === undefined) throw new TypeError('[@tenant/cache] A cache value must be JSON-serializable (not undefined)');
      await (ttlMs === undefined ? client.set(key, json) : client.set(key, json, 'PX', ttlMs));
    },
    async delete(key) {
      return (await client.del(key)) > 0;
    },
    async has(key) {
      return (await client.exists(key)) > 0;
    },
    async increment(key, by, ttlMs) {
      return Number(await client.eval(INCREMENT, 1, key, by, ttlMs ?? ''));
    },
  };
}
