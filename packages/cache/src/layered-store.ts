import { randomBytes } from 'node:crypto';
import { deepFreeze, type TenantConfig, type TenantStore } from '@tenant/core';
import { createCachedTenantStore, type CachedTenantStoreOptions } from './cached-store.js';
import { checkPrefix, escapeKeyPart, nodeOfKey } from './keys.js';
import type { RedisCommandClient, RedisSubscriberClient } from './redis-client.js';
import { report } from './single-flight.js';
import { warmPages } from './warm.js';
import type { CacheErrorListener, CachedTenantStore, CachedTenantStoreStats, Invalidation, WarmOptions } from './types.js';

/** Options of {@link createLayeredTenantStore}. */
export interface LayeredTenantStoreOptions {
  /** The ioredis client for the Redis layer and for publishing (create it to fail fast: see {@link RedisCommandClient}). */
  readonly redis: RedisCommandClient;
  /** A second, dedicated ioredis connection that subscribes to invalidations. */
  readonly subscriber: RedisSubscriberClient;
  /** Put before every Redis key of this store. @default 'tenant:' */
  readonly prefix?: string;
  /** The pub/sub channel of invalidations. @default `${prefix}invalidate` */
  readonly channel?: string;
  /** How long a config stays in Redis. @default 300_000 */
  readonly redisTtlMs?: number;
  /** How long "no such tenant / domain" stays in Redis. @default 5_000 */
  readonly redisNegativeTtlMs?: number;
  /** Options of the memory layer (see {@link createCachedTenantStore}). @default {} */
  readonly memory?: Omit<CachedTenantStoreOptions, 'onError' | 'subscribe'>;
  /** Receives Redis and store failures that were handled instead of thrown. @default undefined */
  readonly onError?: CacheErrorListener;
}

/** Counters of a {@link LayeredTenantStore}, per layer. */
export interface LayeredTenantStoreStats {
  /** The memory layer (see {@link CachedTenantStoreStats}). */
  readonly memory: CachedTenantStoreStats;
  /**
   * The Redis layer: lookups answered there, missed there, Redis failures (of
   * any command), and lookups that skipped a Redis node that had just failed
   * (they went to the store).
   */
  readonly redis: { readonly hits: number; readonly misses: number; readonly errors: number; readonly skips: number };
  /** The store behind: queries sent, and failures. */
  readonly store: { readonly loads: number; readonly errors: number };
  /** Invalidations published, and received from other instances. */
  readonly pubsub: { readonly published: number; readonly received: number };
  /** Full flushes of the memory layer after the subscriber reconnected. */
  readonly flushes: number;
}

/** A TenantStore cached in memory and in Redis: see {@link createLayeredTenantStore}. */
export interface LayeredTenantStore extends Omit<CachedTenantStore, 'stats' | 'close'> {
  /** Resolves once the subscriber listens to the invalidation channel; rejects if it could not subscribe. */
  ready(): Promise<void>;
  /**
   * Loads tenants from the store's `list` into this process's memory **and
   * into Redis** (config and host keys, for `redisTtlMs`), so that every
   * instance finds them there; resolves to how many. Redis failures are
   * reported to `onError`, not thrown. A page read across an invalidation is
   * left to be loaded on demand.
   */
  warm(options?: WarmOptions): Promise<number>;
  /** Counters per layer. */
  stats(): LayeredTenantStoreStats;
  /** Stops listening (change feed, channel); leaves both Redis clients open: they are yours. */
  close(): Promise<void>;
}

const NONE = '-';
const RETRY_MS = 1000;

interface Message {
  readonly o: string;
  readonly id: string;
  readonly d: readonly string[];
}

function parseMessage(raw: string): Message | undefined {
  try {
    const m = JSON.parse(raw) as Partial<Message> | null;
    if (typeof m !== 'object' || m === null || typeof m.o !== 'string' || typeof m.id !== 'string' || !Array.isArray(m.d)) return undefined;
    return m.d.every((d) => typeof d === 'string') ? (m as Message) : undefined;
  } catch {
    return undefined;
  }
}

function ttl(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`[@tenant/cache] ${name} must be a positive integer of milliseconds`);
  return value;
}

/**
 * A TenantStore in three layers: this process's memory
 * ({@link createCachedTenantStore}), then Redis (shared by every instance),
 * then any TenantStore. Every change (a write through any instance, or an
 * event of the store's change feed) deletes the Redis copy and is published
 * on a Redis channel, so every instance drops its memory copy. After the
 * subscriber reconnects, the memory layer is flushed, since messages may
 * have been lost meanwhile.
 *
 * Failure behaviour: Redis errors are reported through `onError` and the
 * lookup falls through to the store; health is kept per Redis node, so after
 * a failed read the keys of that node (all keys, for a single Redis; one
 * master's slots, on a Cluster) skip Redis for a second before it is asked
 * again, and other nodes are not affected. A store failure serves the memory copy
 * (stale-if-error) or the Redis copy, and rejects with `store_unavailable`
 * only for a tenant cached nowhere. A write that succeeded in the store
 * resolves even when Redis is down; its invalidation is retried (every
 * second, and as soon as the subscriber is back) until Redis takes it.
 *
 * Races: a store read that overlaps a write elsewhere is copied into Redis
 * only if no invalidation arrived meanwhile, and every instance deletes the
 * Redis keys again when the message arrives, after any copy it made. What
 * is left: an instance that misses the message (its subscriber is down)
 * flushes its memory on reconnect, but an old copy it made in Redis stays
 * there until `redisTtlMs`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createLayeredTenantStore } from '@tenant/cache';
 *
 * const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
 * const store = createLayeredTenantStore(sqlStore, {
 *   redis: new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
 *   subscriber: new Redis(url),
 *   memory: { ttlMs: 30_000 },
 * });
 * await store.ready();
 * await store.warm({ tenants: 'active' });
 * ```
 */
export function createLayeredTenantStore(source: TenantStore, options: LayeredTenantStoreOptions): LayeredTenantStore {
  if (typeof source !== 'object' || source === null || typeof source.get !== 'function') {
    throw new TypeError('[@tenant/cache] createLayeredTenantStore needs a TenantStore');
  }
  const { redis, subscriber, onError } = options;
  if (typeof redis?.get !== 'function' || typeof subscriber?.subscribe !== 'function') {
    throw new TypeError('[@tenant/cache] createLayeredTenantStore needs two ioredis clients: redis and subscriber');
  }
  const prefix = checkPrefix(options.prefix ?? 'tenant:', 'createLayeredTenantStore');
  const channel = options.channel ?? `${prefix}invalidate`;
  const redisTtlMs = ttl(options.redisTtlMs, 'redisTtlMs', 300_000);
  const redisNegativeTtlMs = ttl(options.redisNegativeTtlMs, 'redisNegativeTtlMs', 5_000);
  const instance = randomBytes(8).toString('hex');
  const idKey = (id: string) => `${prefix}id:${escapeKeyPart(id)}`;
  const domainKey = (host: string) => `${prefix}domain:${escapeKeyPart(host)}`;

  const counts = { redisHits: 0, redisMisses: 0, redisErrors: 0, redisSkips: 0, storeLoads: 0, storeErrors: 0, published: 0, received: 0, flushes: 0 };
  const redisFailed = (operation: string, error: unknown, tenantId?: string) => {
    counts.redisErrors += 1;
    report(onError, { operation, error, tenantId });
  };

  // Reads Redis; `undefined` when Redis failed (reported) or was skipped, null on a miss.
  // Health per Redis node (one for a single Redis; the slot's master on a
  // Cluster): after a read fails on a node, reads of the keys it serves skip
  // Redis for RETRY_MS and go to the store, so a dead node costs its keys
  // one failure a second, not one per lookup, and costs the others nothing.
  const downUntil = new Map<string, number>();
  const redisGet = async (key: string): Promise<string | null | undefined> => {
    const node = nodeOfKey(redis, key);
    const until = downUntil.get(node);
    if (until !== undefined) {
      if (Date.now() < until) {
        counts.redisSkips += 1;
        return undefined;
      }
      downUntil.set(node, Date.now() + RETRY_MS); // this lookup probes; the others keep skipping
    }
    try {
      const raw = await redis.get(key);
      downUntil.delete(node);
      if (raw === null) counts.redisMisses += 1;
      else counts.redisHits += 1;
      return raw;
    } catch (error) {
      downUntil.set(node, Date.now() + RETRY_MS);
      redisFailed('redis.get', error);
      return undefined;
    }
  };
  const redisPut = (key: string, value: string, ms: number) => {
    redis.set(key, value, 'PX', ms).catch((error: unknown) => redisFailed('redis.set', error));
  };
  const fromStore = async <T>(load: () => Promise<T>): Promise<T> => {
    counts.storeLoads += 1;
    try {
      return await load();
    } catch (error) {
      counts.storeErrors += 1;
      throw error;
    }
  };
  const putTenant = (id: string, tenant: TenantConfig | undefined) => {
    if (tenant === undefined) redisPut(idKey(id), NONE, redisNegativeTtlMs);
    else redisPut(idKey(id), JSON.stringify(tenant), redisTtlMs);
  };
  const parseTenant = (raw: string, id: string): TenantConfig | undefined | null => {
    if (raw === NONE) return undefined;
    try {
      const tenant = JSON.parse(raw) as TenantConfig;
      if (tenant?.id === id) return deepFreeze(tenant);
    } catch {
      // Not ours, or damaged: read through.
    }
    return null;
  };

  // A host's owner is stored as a JSON string, which never equals NONE.
  const parseOwner = (raw: string): string | undefined => {
    try {
      const id = JSON.parse(raw) as unknown;
      return typeof id === 'string' ? id : undefined;
    } catch {
      return undefined;
    }
  };

  // Bumped by every invalidation this instance makes or hears of: a store read
  // that an invalidation overtook is not copied into Redis, where it could
  // outlive the change it predates.
  let changes = 0;

  // The Redis layer, as a TenantStore in front of the source.
  const viaRedis: TenantStore = {
    async get(id) {
      const raw = await redisGet(idKey(id));
      if (typeof raw === 'string') {
        const tenant = parseTenant(raw, id);
        if (tenant !== null) return tenant;
      }
      const seen = changes;
      const tenant = await fromStore(() => source.get(id));
      if (raw !== undefined && seen === changes) putTenant(id, tenant);
      return tenant;
    },
    async getByDomain(host) {
      const raw = await redisGet(domainKey(host));
      if (raw === NONE) return undefined;
      const owner = typeof raw === 'string' ? parseOwner(raw) : undefined;
      if (owner !== undefined) {
        const tenant = await viaRedis.get(owner);
        if (tenant?.domains.includes(host)) return tenant;
      }
      const seen = changes;
      const tenant = await fromStore(() => source.getByDomain(host));
      if (raw !== undefined && seen === changes) {
        if (tenant === undefined) redisPut(domainKey(host), NONE, redisNegativeTtlMs);
        else {
          redisPut(domainKey(host), JSON.stringify(tenant.id), redisTtlMs);
          putTenant(tenant.id, tenant);
        }
      }
      return tenant;
    },
    list: (query) => source.list(query),
    create: (input) => source.create(input),
    update: (id, patch, writeOptions) => source.update(id, patch, writeOptions),
    delete: (id, writeOptions) => source.delete(id, writeOptions),
    restore: (id, writeOptions) => source.restore(id, writeOptions),
    subscribe: (listener) => source.subscribe(listener),
  };

  const memory = createCachedTenantStore(viaRedis, { ...options.memory, ...(onError === undefined ? {} : { onError }) });

  // Invalidations not yet carried to Redis (Redis was down): retried after a reconnect.
  const pending = new Map<string, Invalidation>();

  // One key per command: the keys may sit in different Redis Cluster slots.
  const dropFromRedis = (id: string, domains: readonly string[]) =>
    Promise.all([redis.del(idKey(id)), ...domains.map((domain) => redis.del(domainKey(domain)))]);

  // Each key is deleted on its own and the message is published whatever the
  // deletes did: on a Cluster with one master down, the keys it holds cannot
  // be read by anyone either, and every other instance still hears of the
  // change. What failed is retried until Redis takes it.
  const spread = async (invalidation: Invalidation): Promise<void> => {
    const { id, domains } = invalidation;
    changes += 1;
    const deletes = await Promise.allSettled([redis.del(idKey(id)), ...domains.map((domain) => redis.del(domainKey(domain)))]);
    let failed = false;
    for (const result of deletes) {
      if (result.status === 'rejected') {
        failed = true;
        redisFailed('invalidate', result.reason, id);
        break;
      }
    }
    try {
      const message: Message = { o: instance, id, d: domains };
      await redis.publish(channel, JSON.stringify(message));
      counts.published += 1;
    } catch (error) {
      failed = true;
      redisFailed('invalidate', error, id);
    }
    if (failed) {
      const earlier = pending.get(id);
      pending.set(id, earlier === undefined ? invalidation : { id, domains: [...new Set([...earlier.domains, ...domains])] });
      scheduleRetry();
    } else pending.delete(id);
    // Anything reloaded from Redis before the delete landed is dropped again.
    memory.invalidate(id, domains);
  };
  const stopSpreading = memory.onInvalidate(spread);

  // Pending invalidations are retried after the subscriber reconnects, and
  // every RETRY_MS while they keep failing (the command connection may come
  // back later than the subscriber).
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const replay = () => {
    for (const invalidation of [...pending.values()]) void spread(invalidation);
  };
  function scheduleRetry() {
    if (retryTimer !== undefined || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      replay();
    }, RETRY_MS);
    retryTimer.unref();
  }
  let closed = false;

  const onMessage = (from: string, raw: string) => {
    if (from !== channel) return;
    const message = parseMessage(raw);
    if (message === undefined || message.o === instance) return;
    counts.received += 1;
    changes += 1;
    const domains = message.d;
    memory.invalidate(message.id, domains);
    // This instance may have copied an old read into Redis just before the
    // message came (its command connection keeps order): delete again, then
    // drop whatever memory reloaded meanwhile.
    dropFromRedis(message.id, domains).then(
      () => memory.invalidate(message.id, domains),
      (error: unknown) => redisFailed('invalidate', error, message.id),
    );
  };
  let disconnected = false;
  const onClose = () => {
    disconnected = true;
  };
  const onReady = () => {
    if (!disconnected) return;
    disconnected = false;
    counts.flushes += 1;
    changes += 1;
    memory.clear();
    replay();
  };
  subscriber.on('message', onMessage);
  subscriber.on('close', onClose);
  subscriber.on('ready', onReady);
  const subscribed = subscriber.subscribe(channel).then(() => undefined);
  subscribed.catch((error: unknown) => redisFailed('subscribe', error));

  const warm = (warmOptions: WarmOptions = {}): Promise<number> =>
    warmPages(
      (query) => source.list(query),
      warmOptions,
      () => changes,
      async (tenants) => {
        const writes: Promise<unknown>[] = [];
        for (const tenant of tenants) {
          memory.prime(tenant);
          writes.push(redis.set(idKey(tenant.id), JSON.stringify(tenant), 'PX', redisTtlMs));
          for (const domain of tenant.domains) writes.push(redis.set(domainKey(domain), JSON.stringify(tenant.id), 'PX', redisTtlMs));
        }
        for (const result of await Promise.allSettled(writes)) {
          if (result.status === 'rejected') redisFailed('warm', result.reason);
        }
      },
    );

  const { stats: _stats, close: closeMemory, warm: _warmMemory, ...rest } = memory;
  return {
    ...rest,
    warm,
    ready: () => subscribed,
    stats() {
      return {
        memory: memory.stats(),
        redis: { hits: counts.redisHits, misses: counts.redisMisses, errors: counts.redisErrors, skips: counts.redisSkips },
        store: { loads: counts.storeLoads, errors: counts.storeErrors },
        pubsub: { published: counts.published, received: counts.received },
        flushes: counts.flushes,
      };
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      closeMemory();
      stopSpreading();
      subscriber.off('message', onMessage);
      subscriber.off('close', onClose);
      subscriber.off('ready', onReady);
      try {
        await subscriber.unsubscribe(channel);
      } catch (error) {
        redisFailed('unsubscribe', error);
      }
    },
  };
}
