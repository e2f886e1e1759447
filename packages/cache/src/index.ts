/**
 * Tenant-isolated caching (memory and Redis) and a layered, cross-instance
 * TenantStore cache.
 *
 * - {@link createTenantCache} / {@link createGlobalCache}: a cache whose
 *   entries belong to one tenant (or, explicitly, to nobody), over
 *   {@link createMemoryBackend} or {@link createRedisBackend}.
 * - {@link createCachedTenantStore}: a read-through, in-process cache in front
 *   of any TenantStore.
 * - {@link createLayeredTenantStore}: memory -> Redis -> any TenantStore, with
 *   invalidation carried to every instance over Redis pub/sub.
 *
 * @packageDocumentation
 */
export type {
  CacheBackend,
  CacheErrorEvent,
  CacheErrorListener,
  CacheSetOptions,
  ScopedCache,
  TenantCache,
  CachedTenantStore,
  CachedTenantStoreStats,
  Invalidation,
  InvalidationListener,
  WarmOptions,
} from './types.js';
export type { RedisCommandClient, RedisSubscriberClient } from './redis-client.js';
export { createMemoryBackend } from './backends/memory.js';
export type { MemoryBackendOptions } from './backends/memory.js';
export { createRedisBackend } from './backends/redis.js';
export { createTenantCache, createGlobalCache } from './tenant-cache.js';
export type { TenantCacheOptions } from './tenant-cache.js';
export { createCachedTenantStore } from './cached-store.js';
export type { CachedTenantStoreOptions } from './cached-store.js';
export { createLayeredTenantStore } from './layered-store.js';
export type { LayeredTenantStore, LayeredTenantStoreOptions, LayeredTenantStoreStats } from './layered-store.js';
