import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { chain, fromHeader, fromSubdomain, type QuotaManager, type RoutedRequest, type TenantHooks, type TenantStore } from '@tenant/core';
import { createCachedTenantStore, createLayeredTenantStore, type CacheErrorEvent } from '@tenant/cache';
import { fastifyTenancy } from '@tenant/fastify';
import { createTenantMetrics, metricsResponse } from '@tenant/metrics';
import { createMemorySlidingQuota, createRedisSlidingQuota } from '@tenant/quota-sliding';
import { createSqlTenantStore } from '@tenant/store-sql';
import { registerAdmin } from './admin.js';
import type { SaasConfig } from './config.js';
import { openDatabase, type AppDatabase } from './db.js';
import { registerResources } from './resources.js';

/** The running parts of the app, for main.ts and the tests. */
export interface SaasApp {
  readonly app: FastifyInstance;
  readonly database: AppDatabase;
  /** The tenant store the pipeline and the admin API use: cached (memory, or memory + Redis). */
  readonly store: TenantStore;
  readonly registry: Registry;
  /** Whether PostgreSQL row-level security is enforced under the plugin (false on SQLite, and for superuser roles). */
  readonly rlsEnforced: boolean;
  /** Closes the server, the store's listeners, Redis and the database. */
  close(): Promise<void>;
}

/** A tenant's export is a feature its policy must allow (`policy.features`). */
// The export route, as fastify names the route it matched (`request.route`):
// every spelling of the path that fastify sends there (`/projects/2/%65xport`)
// is keyed on it, never on the raw path.
const EXPORT_ROUTE = '/projects/:id/export';

/** Connects a fail-fast ioredis client (no offline queue: a Redis outage fails quickly, into the fallback policies). */
async function connectRedis(url: string, role: 'commands' | 'subscriber', onError: (error: Error) => void): Promise<Redis> {
  const client =
    role === 'commands'
      ? new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 })
      : new Redis(url, { lazyConnect: true });
  client.on('error', onError);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`[example-saas] cannot connect to Redis (REDIS_URL)`, { cause: error });
  }
  return client;
}

/** Builds the app (not listening yet): database, tenant store, cache, quota, metrics, routes. */
export async function createSaasApp(config: SaasConfig): Promise<SaasApp> {
  const database = await openDatabase(config.database);
  const closers: (() => Promise<unknown> | void)[] = [() => database.close()];
  let closing: Promise<void> | undefined;
  // in reverse order of opening, once, however often it is called
  const close = () =>
    (closing ??= (async () => {
      for (const fn of closers.reverse()) await fn();
    })());
  try {
    const rlsEnforced = await database.rlsEnforced();
    const registry = new Registry();
    // Bounded tenant label: the 100 busiest tenants get their own series, the rest are "__other__".
    const metrics = createTenantMetrics({ registry, tenantLabel: { top: 100 } });
    const onCacheError = (event: CacheErrorEvent) => metrics.recordStoreError(`cache:${event.operation}`);
    // Failures the pipeline handled (a store or quota backend down, a throwing hook): counted by the metrics, and logged.
    const hooks: TenantHooks[] = [metrics.hooks, { onError: ({ phase, error, tenantId }) => console.error(`[example-saas] ${phase} failure${tenantId ? ` (tenant ${tenantId})` : ''}:`, error) }];

    // Tenant configs: SQL is the source of truth; a read-through cache in front.
    // timeoutMs: a read the database does not answer in time is a store failure (stale copy or 503), never a hung request.
    const sqlStore = createSqlTenantStore({ db: database.db, timeoutMs: 2_000 });
    let store: TenantStore;
    let quota: QuotaManager;
    if (config.redisUrl) {
      const warn = (error: Error) => console.warn(`[example-saas] redis: ${error.message}`);
      const redis = await connectRedis(config.redisUrl, 'commands', warn);
      closers.push(() => redis.disconnect());
      const subscriber = await connectRedis(config.redisUrl, 'subscriber', warn);
      closers.push(() => subscriber.disconnect());
      // memory -> Redis -> SQL, invalidated on every instance by pub/sub
      const layered = createLayeredTenantStore(sqlStore, { redis, subscriber, prefix: `${config.redisPrefix}tenant:`, memory: { ttlMs: 30_000, timeoutMs: 1_000 }, onError: onCacheError });
      closers.push(() => layered.close());
      await layered.ready();
      metrics.trackCacheStats(() => {
        const stats = layered.stats();
        return { memory: stats.memory, redis: stats.redis };
      });
      store = layered;
      // exact sliding windows shared by every instance; Redis down -> 503 (fail closed)
      quota = createRedisSlidingQuota({ client: redis, prefix: `${config.redisPrefix}quota:`, onFailure: 'closed', hooks });
    } else {
      const cached = createCachedTenantStore(sqlStore, { ttlMs: 30_000, timeoutMs: 1_000, onError: onCacheError });
      closers.push(() => cached.close());
      metrics.trackCacheStats(() => ({ memory: cached.stats() }));
      store = cached;
      quota = createMemorySlidingQuota();
    }
    closers.push(metrics.watchStore(store));

    const app = Fastify({ bodyLimit: 64 * 1024 });
    closers.push(() => app.close()); // closed first: no request runs while the rest closes

    app.addHook('onResponse', async (request, reply) => {
      metrics.observeRequest({
        tenantId: request.tenant?.id,
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        durationSeconds: reply.elapsedTime / 1000,
      });
    });

    app.get('/health', async () => ({ status: 'ok', database: database.dialect, redis: config.redisUrl !== undefined, rls: rlsEnforced }));
    app.get('/metrics', async (request, reply) => {
      const { status, headers, body } = await metricsResponse(registry, request.method);
      return reply.code(status).headers(headers).send(body);
    });

    // The tenant API, in its own scope: the tenancy hook runs for these routes only.
    await app.register(async (scope) => {
      await scope.register(fastifyTenancy, {
        store,
        quota,
        hooks,
        // acme.localhost:3000, or an X-Tenant-Id header (put a verified claim first in production: see README)
        resolve: chain(fromSubdomain({ baseDomains: ['localhost'] }), fromHeader('x-tenant-id')),
        policyRequest: (request: RoutedRequest) => (request.route === EXPORT_ROUTE ? { features: 'export' } : undefined),
      });
      registerResources(scope, database);
    });

    // The admin API, in a scope without the tenancy hook: registration,
    // suspension, quota and policy changes, behind the admin token.
    await registerAdmin(app, { store, database, token: config.adminToken });

    return { app, database, store, registry, rlsEnforced, close };
  } catch (error) {
    await close();
    throw error;
  }
}
