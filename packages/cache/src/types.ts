import type { MaybePromise, TenantConfig, TenantStore, Unsubscribe } from '@tenant/interfaces';

/**
 * Where a tenant-scoped cache keeps its entries: a small key/value contract,
 * implemented by {@link createMemoryBackend} (lru-cache) and
 * {@link createRedisBackend} (ioredis). Keys arrive already namespaced and
 * escaped; a backend stores them as they are.
 *
 * Values are JSON-serializable data. A backend may keep them by reference
 * (memory) or serialize them (Redis): treat cached values as immutable.
 *
 * A method may answer synchronously (the memory backend does: a hit then
 * costs no promise per step) or with a promise (Redis); it may throw or
 * reject on failure.
 */
export interface CacheBackend {
  /** A short name for errors and stats, such as `memory` or `redis`. */
  readonly name: string;
  /** The value under `key`, or `undefined` when absent or expired. */
  get(key: string): MaybePromise<unknown>;
  /** Stores `value` (never `undefined`) under `key`, expiring after `ttlMs` when given. */
  set(key: string, value: unknown, ttlMs?: number): MaybePromise<void>;
  /** Removes `key`; whether it was there. */
  delete(key: string): MaybePromise<boolean>;
  /** Whether `key` holds a value that has not expired. */
  has(key: string): MaybePromise<boolean>;
  /**
   * Adds the integer `by` to the integer under `key` (absent counts as 0) and
   * returns the result. `ttlMs` applies only when the key has no expiry yet
   * (a new counter), so a counter's window does not slide.
   */
  increment(key: string, by: number, ttlMs?: number): MaybePromise<number>;
}

/** Where a cache operation failed: reported through `onError`. */
export interface CacheErrorEvent {
  /**
   * What failed: `get`, `set`, `has`, `getOrSet` (tenant cache backend);
   * `store` (a tenant store read, served stale or turned into
   * `store_unavailable`); `onInvalidate` (a listener); `redis.get`,
   * `redis.set`, `invalidate`, `subscribe`, `unsubscribe` (layered store).
   */
  readonly operation: string;
  readonly error: unknown;
  /** The tenant involved, when known. */
  readonly tenantId?: string | undefined;
}

/** Receives errors that were handled (served from a fallback) instead of thrown. It must not throw. */
export type CacheErrorListener = (event: CacheErrorEvent) => void;

/** Per-call options of a cache write. */
export interface CacheSetOptions {
  /** Time to live in milliseconds. @default the cache's `defaultTtlMs` (none: kept until evicted) */
  readonly ttlMs?: number;
}

/**
 * A cache bound to one namespace: one tenant, or the explicit global
 * namespace. Keys are any strings; two namespaces never see each other's
 * entries, whatever characters ids and keys contain.
 *
 * Failure behaviour: `get`, `has` and `getOrSet` treat a backend error as a
 * miss (`getOrSet` then calls its loader) and report it through `onError`;
 * `set` reports it and resolves to `false`; `delete`, `increment` and `clear`
 * have no fallback and reject with the backend's error.
 */
export interface ScopedCache {
  /** The value under `key`, or `undefined`. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores a value (not `undefined`); resolves to `false` when the backend failed (reported). */
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<boolean>;
  /** Removes `key`; whether it was there. */
  delete(key: string): Promise<boolean>;
  /** Whether `key` holds a value. */
  has(key: string): Promise<boolean>;
  /**
   * The cached value, or the result of `load` stored under `key`. Concurrent
   * misses for one key in this process share one `load` call; a `load` that
   * throws (or returns `undefined`) stores nothing.
   */
  getOrSet<T>(key: string, load: () => T | Promise<T>, options?: CacheSetOptions): Promise<T>;
  /** Adds `by` (an integer, default 1) to a counter and returns the new count. */
  increment(key: string, by?: number, options?: CacheSetOptions): Promise<number>;
  /**
   * Forgets every entry of this namespace at once, by moving it to a new
   * generation: no key scan, no effect on any other namespace. Old entries
   * stay unreachable until their TTL or eviction removes them.
   */
  clear(): Promise<void>;
}

/**
 * A tenant-scoped cache: the methods of {@link ScopedCache} act for the
 * current tenant (from the tenant context), and {@link TenantCache.forTenant}
 * names one explicitly. Without a tenant in context the methods reject with a
 * `tenant_context_missing` TenantError: they fail closed.
 */
export interface TenantCache extends ScopedCache {
  /** The same cache for one named tenant (its immutable id), whatever the context. */
  forTenant(tenantId: string): ScopedCache;
}

/** Counters of a {@link CachedTenantStore}. */
export interface CachedTenantStoreStats {
  /** Lookups answered from a fresh entry (a tenant), by `get`, `getByDomain` or `peek`. */
  readonly hits: number;
  /** Lookups answered from a fresh negative entry (no such tenant or domain). */
  readonly negativeHits: number;
  /** Lookups that had to ask the store (shared ones count once each). */
  readonly misses: number;
  /** Queries sent to the store. */
  readonly loads: number;
  /** Store failures. */
  readonly errors: number;
  /** Lookups answered with an expired entry because the store failed. */
  readonly staleHits: number;
  /** Invalidations (one per id or flush). */
  readonly invalidations: number;
  /** Tenants (and negative id entries) held. */
  readonly size: number;
}

/** What to forget about a tenant: its id, and host names whose lookups may change. */
export interface Invalidation {
  readonly id: string;
  /** Host names to forget too (old and new ones), lower-case. */
  readonly domains: readonly string[];
}

/**
 * Called for each invalidation caused by a write through a cached store or
 * by an event of the inner store's change feed. Writes wait for the promise
 * it returns (errors are reported, not thrown).
 */
export type InvalidationListener = (invalidation: Invalidation) => void | Promise<void>;

/** Options of a warm-up. */
export interface WarmOptions {
  /** `active` loads active tenants only; `all` every tenant, soft-deleted ones included. @default 'active' */
  readonly tenants?: 'active' | 'all';
}

/**
 * A {@link TenantStore} that answers reads from memory: see
 * {@link createCachedTenantStore}.
 */
export interface CachedTenantStore extends TenantStore {
  /**
   * The cached, fresh config of a tenant, synchronously, or `undefined` on a
   * miss or a negative entry. A tenant found counts as a hit (the pipeline
   * asks `peek` first, so its hits are the cache's hits); a miss or a
   * negative entry counts nothing here, since the caller then asks
   * {@link TenantStore.get}, which counts it. For hot paths that can skip the
   * promise of `get`.
   */
  peek(id: string): TenantConfig | undefined;
  /** Forgets a tenant (and the given host names) in this process, and drops loads in flight for it. */
  invalidate(id: string, domains?: readonly string[]): void;
  /** Forgets everything in this process. */
  clear(): void;
  /** Caches a config as if just loaded (used by warm-up). */
  prime(tenant: TenantConfig): void;
  /** Loads tenants from the inner store's `list` into memory; resolves to how many. */
  warm(options?: WarmOptions): Promise<number>;
  /** Subscribes to the invalidations caused here (writes, change feed): the hook for cross-instance invalidation. */
  onInvalidate(listener: InvalidationListener): Unsubscribe;
  /** The counters. */
  stats(): CachedTenantStoreStats;
  /** Stops listening to the inner store's change feed. */
  close(): void;
}
