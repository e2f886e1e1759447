import { LRUCache } from 'lru-cache';
import {
  normalizeHost,
  systemClock,
  withinTime,
  TenantError,
  type Clock,
  type TenantChangeEvent,
  type TenantConfig,
  type TenantStore,
  type Unsubscribe,
} from '@tenant/core';
import { checkPositiveInt } from './keys.js';
import { call, report, SingleFlight } from './single-flight.js';
import { warmPages } from './warm.js';
import type { CacheErrorListener, CachedTenantStore, CachedTenantStoreStats, Invalidation, InvalidationListener, WarmOptions } from './types.js';

/** Options of {@link createCachedTenantStore}. */
export interface CachedTenantStoreOptions {
  /** The most tenants kept (and, separately, the most host names); least recently used go first. @default 10_000 */
  readonly max?: number;
  /** How long a loaded tenant is served without asking the store. @default 60_000 */
  readonly ttlMs?: number;
  /** How long "no such tenant / domain" is remembered. `0` disables negative caching. @default 5_000 */
  readonly negativeTtlMs?: number;
  /**
   * How long past its TTL an entry may still be served while the store
   * fails (stale-if-error). `0` disables it. @default 86_400_000 (one day)
   */
  readonly staleIfErrorMs?: number;
  /**
   * After a failed load served stale, how long that stale entry is served
   * without asking the store again, so a store that is down (and perhaps
   * slow to fail) is not queried by every request. After that, lookups still
   * get the stale entry at once while one query asks the store again in the
   * background (until it answers, or `staleIfErrorMs` runs out). @default 1_000
   */
  readonly errorBackoffMs?: number;
  /**
   * How long a lookup waits for the store, in milliseconds, before it is
   * treated as a store failure: a known tenant is then served stale (see
   * `staleIfErrorMs`), a tenant never seen rejects with `store_unavailable`
   * (HTTP 503). A hung database (frozen, or behind a dead connection) thus
   * costs a request at most this long. The query itself is not cancelled:
   * when it answers later, its result is cached (unless an invalidation came
   * meanwhile); set the driver's own timeouts too (see the README) so that
   * it ends and frees its connection. `0` waits as long as the store does.
   * @default 1_000
   */
  readonly timeoutMs?: number;
  /** Subscribe to the inner store's change feed and invalidate on its events. @default true */
  readonly subscribe?: boolean;
  /** Receives store failures that were served stale, and listener failures. @default undefined */
  readonly onError?: CacheErrorListener;
  /** The clock for expiry. @default systemClock */
  readonly clock?: Clock;
}

interface Entry<V> {
  readonly value: V;
  readonly freshUntil: number;
  readonly staleUntil: number;
  /** Served stale because the store failed: past `freshUntil`, lookups still get it while the store is asked again in the background. */
  readonly erred?: true;
  // Built once, on the first hit: hits then hand out the same settled promise.
  promise?: Promise<V>;
}

type IdEntry = Entry<TenantConfig | undefined>;
type DomainEntry = Entry<string | undefined>;

const RESOLVED_UNDEFINED: Promise<undefined> = Promise.resolve(undefined);
const ignore = () => undefined;

// TenantErrors that are a store's answer (a bad id), not its failure.
const isAnswer = (error: unknown) => TenantError.is(error) && !TenantError.is(error, 'store_unavailable', 'internal_error');

function duration(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`[@tenant/cache] ${name} must be a number of milliseconds, 0 or more`);
  }
  return value;
}

/**
 * Wraps any {@link TenantStore} in a read-through, in-process cache
 * (lru-cache): bounded size, TTL, negative caching of unknown ids and
 * domains, one store query for N concurrent misses of one tenant,
 * invalidation on every write made through it and on every event of the
 * inner store's change feed, and stale-if-error: while the store fails (or
 * gives no answer within `timeoutMs`), an expired entry is still served (and
 * the failure reported); a tenant never seen rejects with a
 * `store_unavailable` TenantError (HTTP 503).
 *
 * A hit costs one map lookup and returns an already settled promise; `peek()`
 * answers synchronously. For several processes, see {@link createLayeredTenantStore}.
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore, createTenancy, fromHeader } from '@tenant/core';
 * import { createCachedTenantStore } from '@tenant/cache';
 *
 * const store = createCachedTenantStore(createMemoryTenantStore({ tenants: [{ id: 'acme' }] }), { ttlMs: 30_000 });
 * const tenancy = createTenancy({ store, resolve: fromHeader('x-tenant-id') });
 * await store.update('acme', { plan: 'pro' }); // goes through, and invalidates
 * console.log(store.stats()); // { hits, misses, ... }
 * ```
 */
export function createCachedTenantStore(store: TenantStore, options: CachedTenantStoreOptions = {}): CachedTenantStore {
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function' || typeof store.getByDomain !== 'function') {
    throw new TypeError('[@tenant/cache] createCachedTenantStore needs a TenantStore');
  }
  const max = checkPositiveInt(options.max, 'max') ?? 10_000;
  const ttlMs = duration(options.ttlMs, 'ttlMs', 60_000);
  const negativeTtlMs = duration(options.negativeTtlMs, 'negativeTtlMs', 5_000);
  const staleIfErrorMs = duration(options.staleIfErrorMs, 'staleIfErrorMs', 86_400_000);
  const errorBackoffMs = duration(options.errorBackoffMs, 'errorBackoffMs', 1_000);
  const timeoutMs = duration(options.timeoutMs, 'timeoutMs', 1_000);
  // Node fires a timer longer than this at once.
  if (timeoutMs > 2_147_483_647) throw new RangeError('[@tenant/cache] timeoutMs must be at most 2147483647 (about 24 days)');
  const clock = options.clock ?? systemClock;
  const onError = options.onError;

  const byId = new LRUCache<string, IdEntry>({ max });
  const byDomain = new LRUCache<string, DomainEntry>({ max });
  const idFlights = new SingleFlight<TenantConfig | undefined>();
  const domainFlights = new SingleFlight<TenantConfig | undefined>();
  const listeners = new Set<InvalidationListener>();
  // Bumped by every invalidation: a load that started before one is returned
  // to its callers but not cached, since it may predate the change.
  let epoch = 0;
  let lastChange = '';
  let lastAnnounced: Promise<void> = Promise.resolve();
  let hits = 0;
  let negativeHits = 0;
  let misses = 0;
  let loads = 0;
  let errors = 0;
  let staleHits = 0;
  let invalidations = 0;

  const entry = <V>(value: V, now: number): Entry<V> => {
    const life = value === undefined ? negativeTtlMs : ttlMs;
    return { value, freshUntil: now + life, staleUntil: now + life + staleIfErrorMs };
  };
  const settled = <V>(e: Entry<V>): Promise<V> => (e.promise ??= Promise.resolve(e.value));

  const remember = (tenant: TenantConfig, now: number) => {
    byId.set(tenant.id, entry(tenant, now));
    for (const domain of tenant.domains) byDomain.set(domain, entry<string | undefined>(tenant.id, now));
  };

  const failure = (error: unknown, tenantId: string | undefined): TenantError => {
    errors += 1;
    report(onError, { operation: 'store', error, tenantId });
    return new TenantError('store_unavailable', '[@tenant/cache] The tenant store could not answer and nothing is cached', {
      cause: error,
      ...(tenantId === undefined ? {} : { tenantId }),
    });
  };

  // After a failed load, a stale entry is served and kept fresh for
  // errorBackoffMs (never past its stale limit) before the store is asked again.
  const backOff = <V>(cache: LRUCache<string, Entry<V>>, key: string, e: Entry<V>, now: number): V => {
    cache.set(key, { value: e.value, freshUntil: Math.min(now + errorBackoffMs, e.staleUntil), staleUntil: e.staleUntil, erred: true });
    return e.value;
  };

  // The store's answer, or a rejection once timeoutMs has passed. The query
  // goes on: its late answer still reaches `settle` (to be cached), and its
  // late failure is dropped, never left unhandled.
  const limited = <T>(load: () => Promise<T>, settle: (value: T) => void): Promise<T> => {
    const pending = call(load).then((value) => {
      settle(value);
      return value;
    });
    if (timeoutMs === 0) return pending;
    return withinTime(pending, timeoutMs, () => new Error(`[@tenant/cache] The tenant store gave no answer within ${timeoutMs} ms`));
  };

  // `background`: a retry after a failure, whose callers were already served the stale copy.
  const loadId = (id: string, background = false): Promise<TenantConfig | undefined> =>
    idFlights.run(id, async () => {
      const started = epoch;
      loads += 1;
      let tenant: TenantConfig | undefined;
      try {
        tenant = await limited(
          () => store.get(id),
          (loaded) => {
            if (started !== epoch) return;
            if (loaded !== undefined) remember(loaded, clock.now());
            else if (negativeTtlMs > 0) byId.set(id, entry(undefined, clock.now()));
          },
        );
      } catch (error) {
        if (isAnswer(error)) throw error;
        const stale = byId.get(id);
        const err = failure(error, id);
        const now = clock.now();
        // An entry still here was not invalidated: the stale copy is the latest known.
        if (stale !== undefined && stale.staleUntil > now) {
          if (!background) staleHits += 1;
          return backOff(byId, id, stale, now);
        }
        throw err;
      }
      return tenant;
    });

  const loadDomain = (host: string, background = false): Promise<TenantConfig | undefined> =>
    domainFlights.run(host, async () => {
      const started = epoch;
      loads += 1;
      let tenant: TenantConfig | undefined;
      try {
        tenant = await limited(
          () => store.getByDomain(host),
          (loaded) => {
            if (started !== epoch) return;
            const now = clock.now();
            if (loaded !== undefined) remember(loaded, now);
            if (loaded === undefined || !loaded.domains.includes(host)) {
              if (negativeTtlMs > 0) byDomain.set(host, entry<string | undefined>(undefined, now));
            }
          },
        );
      } catch (error) {
        if (isAnswer(error)) throw error;
        const err = failure(error, undefined);
        const now = clock.now();
        const pointer = byDomain.get(host);
        if (pointer !== undefined && pointer.staleUntil > now) {
          const target = pointer.value === undefined ? undefined : byId.get(pointer.value);
          const served = pointer.value === undefined || (target?.value !== undefined && target.staleUntil > now && target.value.domains.includes(host));
          if (served) {
            if (!background) staleHits += 1;
            backOff(byDomain, host, pointer, now);
            return target === undefined ? undefined : backOff(byId, pointer.value as string, target, now);
          }
        }
        throw err;
      }
      return tenant;
    });

  const invalidate = (id: string, domains: readonly string[] = []) => {
    epoch += 1;
    invalidations += 1;
    const cached = byId.peek(id)?.value;
    byId.delete(id);
    idFlights.forget(id);
    for (const list of [domains, cached?.domains ?? []]) {
      for (const domain of list) {
        byDomain.delete(domain);
        domainFlights.forget(domain);
      }
    }
  };

  // One change, seen by a write here and again through the change feed, is
  // announced once (by id and version).
  const changed = (tenant: TenantConfig, previous: TenantConfig | undefined): Promise<void> => {
    const key = `${tenant.version}:${tenant.id}`;
    const domains = previous === undefined ? tenant.domains : [...new Set([...tenant.domains, ...previous.domains])];
    invalidate(tenant.id, domains);
    if (key === lastChange) return lastAnnounced;
    lastChange = key;
    const invalidation: Invalidation = { id: tenant.id, domains };
    const pending: Promise<void>[] = [];
    for (const listener of listeners) {
      pending.push(
        call(() => listener(invalidation)).catch((error: unknown) => report(onError, { operation: 'onInvalidate', error, tenantId: tenant.id })),
      );
    }
    lastAnnounced = Promise.all(pending).then(() => undefined);
    return lastAnnounced;
  };

  const onFeed = (event: TenantChangeEvent) => {
    void changed(event.tenant, event.previous);
  };
  let unsubscribeFeed: Unsubscribe | undefined = options.subscribe === false ? undefined : store.subscribe(onFeed);

  const write = async (id: string | undefined, run: () => Promise<TenantConfig>): Promise<TenantConfig> => {
    const previous = id === undefined ? undefined : byId.peek(id)?.value;
    let tenant: TenantConfig;
    try {
      tenant = await run();
    } catch (error) {
      // Our copy is behind the store's: forget it.
      if (id !== undefined && TenantError.is(error, 'version_conflict')) invalidate(id);
      throw error;
    }
    await changed(tenant, previous);
    return tenant;
  };

  const cached: CachedTenantStore = {
    get(id) {
      if (typeof id !== 'string') return RESOLVED_UNDEFINED;
      const e = byId.get(id);
      const now = clock.now();
      if (e !== undefined && e.freshUntil > now) {
        if (e.value === undefined) negativeHits += 1;
        else hits += 1;
        return settled(e);
      }
      // The store failed last time: serve the stale copy at once and ask the
      // store again in the background (one query per tenant), so a hung store
      // costs a request its wait once, not once per errorBackoffMs.
      if (e?.erred === true && e.staleUntil > now) {
        staleHits += 1;
        loadId(id, true).catch(ignore);
        return settled(e);
      }
      misses += 1;
      return loadId(id);
    },
    getByDomain(domain) {
      const host = normalizeHost(domain);
      if (host === undefined) return RESOLVED_UNDEFINED;
      const pointer = byDomain.get(host);
      const now = clock.now();
      if (pointer !== undefined && pointer.freshUntil > now) {
        if (pointer.value === undefined) {
          negativeHits += 1;
          return RESOLVED_UNDEFINED;
        }
        const e = byId.get(pointer.value);
        // The pointer is trusted only while the tenant it names still claims the host.
        if (e?.value !== undefined && e.freshUntil > now && e.value.domains.includes(host)) {
          hits += 1;
          return settled(e);
        }
      }
      // As in get(): after a failure, the stale answer at once, the store asked in the background.
      if (pointer?.erred === true && pointer.staleUntil > now) {
        const target = pointer.value === undefined ? undefined : byId.get(pointer.value);
        if (pointer.value === undefined || (target?.value !== undefined && target.staleUntil > now && target.value.domains.includes(host))) {
          staleHits += 1;
          loadDomain(host, true).catch(ignore);
          return target === undefined ? RESOLVED_UNDEFINED : settled(target);
        }
      }
      misses += 1;
      return loadDomain(host);
    },
    list: (query) => store.list(query),
    create: (input) => write(undefined, () => store.create(input)),
    update: (id, patch, writeOptions) => write(id, () => store.update(id, patch, writeOptions)),
    delete: (id, writeOptions) => write(id, () => store.delete(id, writeOptions)),
    restore: (id, writeOptions) => write(id, () => store.restore(id, writeOptions)),
    subscribe: (listener) => store.subscribe(listener),
    peek(id) {
      const e = byId.get(id);
      if (e === undefined || e.value === undefined || e.freshUntil <= clock.now()) return undefined;
      // A hit on the hot path (the pipeline asks peek first): counted, and kept recent in the LRU.
      hits += 1;
      return e.value;
    },
    invalidate(id, domains = []) {
      invalidate(id, domains.map((domain) => normalizeHost(domain) ?? domain));
    },
    clear() {
      epoch += 1;
      invalidations += 1;
      byId.clear();
      byDomain.clear();
      idFlights.clear();
      domainFlights.clear();
    },
    prime(tenant) {
      remember(tenant, clock.now());
    },
    warm(warmOptions: WarmOptions = {}) {
      return warmPages(
        (query) => store.list(query),
        warmOptions,
        () => epoch,
        (tenants) => {
          const now = clock.now();
          for (const tenant of tenants) remember(tenant, now);
        },
      );
    },
    onInvalidate(listener) {
      if (typeof listener !== 'function') throw new TypeError('[@tenant/cache] onInvalidate needs a function');
      const own: InvalidationListener = (invalidation) => listener(invalidation);
      listeners.add(own);
      return () => {
        listeners.delete(own);
      };
    },
    stats(): CachedTenantStoreStats {
      return { hits, negativeHits, misses, loads, errors, staleHits, invalidations, size: byId.size };
    },
    close() {
      unsubscribeFeed?.();
      unsubscribeFeed = undefined;
    },
  };
  return cached;
}
