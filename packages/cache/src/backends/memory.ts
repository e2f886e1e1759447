import { LRUCache } from 'lru-cache';
import { checkPositiveInt } from '../keys.js';
import type { CacheBackend } from '../types.js';

/** Options of {@link createMemoryBackend}. */
export interface MemoryBackendOptions {
  /** The most entries kept; the least recently used go first. @default 10_000 */
  readonly max?: number;
}

// lru-cache refuses null and undefined values: null is stored as this marker.
const NULL = Symbol('null');

/**
 * A {@link CacheBackend} in this process's memory, on lru-cache: bounded by
 * entry count, with per-entry TTL. Values are kept by reference. It answers
 * synchronously.
 *
 * @example
 * ```ts
 * import { createMemoryBackend, createTenantCache } from '@tenant/cache';
 *
 * const cache = createTenantCache({ backend: createMemoryBackend({ max: 50_000 }) });
 * ```
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): CacheBackend {
  const max = checkPositiveInt(options.max, 'max') ?? 10_000;
  const lru = new LRUCache<string, NonNullable<unknown>>({ max });
  const read = (key: string): unknown => {
    const value = lru.get(key);
    return value === NULL ? null : value;
  };
  return {
    name: 'memory',
    get: read,
    set(key, value, ttlMs) {
      if (value === undefined) throw new TypeError('[@tenant/cache] A cache value can not be undefined');
      lru.set(key, value ?? NULL, ttlMs === undefined ? undefined : { ttl: ttlMs });
    },
    delete: (key) => lru.delete(key),
    has: (key) => lru.has(key),
    increment(key, by, ttlMs) {
      const current = read(key);
      if (current !== undefined && !Number.isSafeInteger(current)) {
        throw new TypeError('[@tenant/cache] increment: the value under this key is not an integer');
      }
      const next = ((current as number | undefined) ?? 0) + by;
      if (current === undefined) lru.set(key, next, ttlMs === undefined ? undefined : { ttl: ttlMs });
      else lru.set(key, next, { noUpdateTTL: true });
      return next;
    },
  };
}
