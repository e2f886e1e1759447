import { randomBytes } from 'node:crypto';
import { requireTenant, TenantError, type MaybePromise } from '@tenant/core';
import { checkKey, checkPrefix, checkTtl, escapeKeyPart } from './keys.js';
import { call, chain, recover, report, SingleFlight } from './single-flight.js';
import type { CacheBackend, CacheErrorListener, CacheSetOptions, ScopedCache, TenantCache } from './types.js';

/** Options of {@link createTenantCache} and {@link createGlobalCache}. */
export interface TenantCacheOptions {
  /** Where entries live: {@link createMemoryBackend} or {@link createRedisBackend}. */
  readonly backend: CacheBackend;
  /** Put before every key, to share a backend between applications. @default 'tc:' */
  readonly prefix?: string;
  /** The TTL of entries written without one. Set it on Redis, where cleared generations expire only by TTL. @default undefined (no expiry) */
  readonly defaultTtlMs?: number;
  /** Receives backend errors that were served from a fallback instead of thrown. @default undefined */
  readonly onError?: CacheErrorListener;
}

// Key layout (every variable part escaped by escapeKeyPart, so no `:`, `{`, `}`):
//   <prefix>n:{<tenant>}                  the tenant's current generation token
//   <prefix>t:{<tenant>}:<gen>:<key>      a tenant entry
//   <prefix>n:g  /  <prefix>g:<gen>:<key> the global namespace
// `{<tenant>}` is a Redis Cluster hash tag: one tenant's keys share a slot.
interface Namespace {
  readonly tenantId: string | undefined;
  readonly generationKey: string;
  readonly entryPrefix: string;
}

const newGeneration = (): string => randomBytes(9).toString('base64url');

function resolveOptions(options: TenantCacheOptions, fn: string) {
  if (typeof options !== 'object' || options === null || typeof options.backend?.get !== 'function') {
    throw new TypeError(`[@tenant/cache] ${fn} needs a backend (createMemoryBackend() or createRedisBackend(redis))`);
  }
  return {
    backend: options.backend,
    prefix: checkPrefix(options.prefix ?? 'tc:', fn),
    defaultTtlMs: checkTtl(options.defaultTtlMs, 'defaultTtlMs'),
    onError: options.onError,
    flights: new SingleFlight<unknown>(),
    generations: new SingleFlight<string>(),
  };
}

type Resolved = ReturnType<typeof resolveOptions>;

function checkTenantId(tenantId: unknown): string {
  if (typeof tenantId !== 'string' || tenantId.length === 0) {
    throw new TenantError('tenant_invalid', '[@tenant/cache] A tenant id must be a non-empty string');
  }
  return tenantId;
}

function tenantNamespace(prefix: string, tenantId: string): Namespace {
  const tag = `{${escapeKeyPart(tenantId)}}`;
  return { tenantId, generationKey: `${prefix}n:${tag}`, entryPrefix: `${prefix}t:${tag}:` };
}

/**
 * Builds the operations of one namespace. `namespace` is called once per
 * operation, so a context-bound cache follows the current tenant.
 */
function createScope(config: Resolved, namespace: () => Namespace): ScopedCache {
  const { backend, defaultTtlMs, onError, flights, generations } = config;
  const fail = (operation: string, ns: Namespace, error: unknown) => report(onError, { operation, error, tenantId: ns.tenantId });

  // Operations are chains of backend calls that stay synchronous on a
  // synchronous backend (memory), so a memory hit costs one promise, not one
  // per step; on Redis each step waits for its round trip.

  // The generation token; a missing one (never cleared, or evicted) is
  // replaced by a fresh token, so an evicted generation never revives old entries.
  const generation = (ns: Namespace): MaybePromise<string> =>
    chain(backend.get(ns.generationKey), (current) =>
      typeof current === 'string'
        ? current
        : generations.run(ns.generationKey, async () => {
            await backend.set(ns.generationKey, newGeneration());
            // Read back: when two processes create one at once, both use the last written.
            const created = await backend.get(ns.generationKey);
            if (typeof created !== 'string') throw new Error('[@tenant/cache] The backend lost a generation key just written');
            return created;
          }),
    );
  const entryKey = (ns: Namespace, key: string): MaybePromise<string> =>
    chain(generation(ns), (gen) => `${ns.entryPrefix}${gen}:${escapeKeyPart(key)}`);
  const ttlOf = (options: CacheSetOptions | undefined) => checkTtl(options?.ttlMs, 'ttlMs') ?? defaultTtlMs;
  // Reads with a fallback: a backend failure is reported and answered with `fallback`.
  const read = <T>(operation: string, ns: Namespace, run: () => MaybePromise<T>, fallback: T): MaybePromise<T> =>
    recover(run, (error) => {
      fail(operation, ns, error);
      return fallback;
    });

  const scope: ScopedCache = {
    get<T>(key: string) {
      return call(() => {
        checkKey(key);
        const ns = namespace();
        return read('get', ns, () => chain(entryKey(ns, key), (full) => backend.get(full)), undefined);
      }) as Promise<T | undefined>;
    },
    set(key, value, options) {
      return call(() => {
        checkKey(key);
        if (value === undefined) throw new TypeError('[@tenant/cache] A cache value can not be undefined');
        const ttlMs = ttlOf(options);
        const ns = namespace();
        return read('set', ns, () => chain(chain(entryKey(ns, key), (full) => backend.set(full, value, ttlMs)), () => true), false);
      });
    },
    delete(key) {
      return call(() => {
        checkKey(key);
        const ns = namespace();
        return chain(entryKey(ns, key), (full) => backend.delete(full));
      });
    },
    has(key) {
      return call(() => {
        checkKey(key);
        const ns = namespace();
        return read('has', ns, () => chain(entryKey(ns, key), (full) => backend.has(full)), false);
      });
    },
    getOrSet<T>(key: string, load: () => T | Promise<T>, options?: CacheSetOptions) {
      return call(() => {
        checkKey(key);
        if (typeof load !== 'function') throw new TypeError('[@tenant/cache] getOrSet needs a loader function');
        const ttlMs = ttlOf(options);
        const ns = namespace();
        const lookup = read(
          'getOrSet',
          ns,
          () => chain(entryKey(ns, key), (full) => chain(backend.get(full), (cached): [string | undefined, unknown] => [full, cached])),
          [undefined, undefined],
        );
        return chain(lookup, ([full, cached]): MaybePromise<T> => {
          if (cached !== undefined) return cached as T;
          // Without a generation (backend down) the key is unknown: load unshared, store nothing.
          if (full === undefined) return load();
          return flights.run(full, async () => {
            const value = await call(load);
            if (value !== undefined) await read('getOrSet', ns, () => backend.set(full, value, ttlMs), undefined);
            return value;
          }) as Promise<T>;
        });
      });
    },
    increment(key, by = 1, options) {
      return call(() => {
        checkKey(key);
        if (!Number.isSafeInteger(by)) throw new RangeError('[@tenant/cache] increment: by must be an integer');
        const ttlMs = ttlOf(options);
        const ns = namespace();
        return chain(entryKey(ns, key), (full) => backend.increment(full, by, ttlMs));
      });
    },
    clear() {
      return call(() => backend.set(namespace().generationKey, newGeneration()));
    },
  };
  return scope;
}

/**
 * Creates a tenant-scoped cache: every entry belongs to one tenant, keyed by
 * its immutable id. Methods act for the tenant of the current context
 * (`runWithTenant`, or a request admitted by an adapter) and reject with a
 * `tenant_context_missing` TenantError outside one; `forTenant(id)` names the
 * tenant explicitly. See {@link ScopedCache} for failure behaviour.
 *
 * @example
 * ```ts
 * import { createMemoryBackend, createTenantCache } from '@tenant/cache';
 *
 * const cache = createTenantCache({ backend: createMemoryBackend(), defaultTtlMs: 60_000 });
 *
 * // inside a request of tenant acme:
 * const report = await cache.getOrSet('report:2024', () => buildReport());
 *
 * // elsewhere, explicitly:
 * await cache.forTenant('acme').clear();
 * ```
 */
export function createTenantCache(options: TenantCacheOptions): TenantCache {
  const config = resolveOptions(options, 'createTenantCache');
  const current = createScope(config, () => tenantNamespace(config.prefix, requireTenant().id));
  return {
    ...current,
    forTenant(tenantId) {
      const ns = tenantNamespace(config.prefix, checkTenantId(tenantId));
      return createScope(config, () => ns);
    },
  };
}

/**
 * Creates the explicitly global cache, for data shared by every tenant
 * (plans, feature catalogues). Its keys never meet a tenant's, even on the
 * same backend and prefix.
 *
 * @example
 * ```ts
 * import { createGlobalCache, createMemoryBackend } from '@tenant/cache';
 *
 * const shared = createGlobalCache({ backend: createMemoryBackend() });
 * const plans = await shared.getOrSet('plans', () => loadPlans(), { ttlMs: 300_000 });
 * ```
 */
export function createGlobalCache(options: TenantCacheOptions): ScopedCache {
  const config = resolveOptions(options, 'createGlobalCache');
  const ns: Namespace = { tenantId: undefined, generationKey: `${config.prefix}n:g`, entryPrefix: `${config.prefix}g:` };
  return createScope(config, () => ns);
}
