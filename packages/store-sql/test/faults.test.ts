// Faults on a PostgreSQL of our own (never the shared server): restarted
// under load, and frozen (SIGSTOP) under load, behind the cached store as the
// README sets it up (a pg pool with an `error` listener and driver timeouts,
// `createCachedTenantStore` with `timeoutMs`). The process survives (nothing
// unhandled, nothing uncaught), known tenants are served stale, unknown ones
// get a quick 503 `store_unavailable`, and everything recovers by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createTenancy, fromHeader, type TenantDecision, type TenantRequest } from '@tenant/core';
import { createCachedTenantStore } from '@tenant/cache';
import { createSqlTenantStore, migrateTenantStore } from '../src/index.js';
import { startPostgres, type OwnPostgres } from './own-postgres.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let server: OwnPostgres;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  server?.thaw();
  await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  await server?.destroy();
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const request = (id: string): TenantRequest => ({ method: 'GET', path: '/', query: '', host: 'api.example.com', header: (n) => (n === 'x-tenant-id' ? id : undefined) });
const outcome = (d: TenantDecision) => (d.ok ? 'ok' : `${d.status} ${d.code}`);

/** The setup the README shows: a pool that survives restarts, with driver timeouts, behind a cached store. */
async function setUp(poolErrors: Error[], timeouts: { query?: number } = {}) {
  const pool = new pg.Pool({
    connectionString: server.url,
    max: 4,
    connectionTimeoutMillis: 1_000,
    ...(timeouts.query === undefined ? {} : { query_timeout: timeouts.query }),
  });
  // Without this listener, an idle client's error (the server restarting) would crash the process.
  pool.on('error', (error) => void poolErrors.push(error));
  // ... and a checked-out client's error has no pool listener: the README gives every client one.
  pool.on('connect', (client) => client.on('error', (error) => void poolErrors.push(error)));
  pools.push(pool);
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  await migrateTenantStore(db);
  const sqlStore = createSqlTenantStore({ db });
  const storeErrors: unknown[] = [];
  // A time limit well above what a busy CI machine needs for a healthy database.
  const store = createCachedTenantStore(sqlStore, { ttlMs: 50, timeoutMs: 1_000, errorBackoffMs: 50, onError: (e) => void storeErrors.push(e.error) });
  const tenancy = createTenancy({ store, resolve: fromHeader('x-tenant-id') });
  // The SQL store alone, with a time limit of its own (no cache in front).
  const bare = createSqlTenantStore({ db, timeoutMs: 1_000 });
  const bareTenancy = createTenancy({ store: bare, resolve: fromHeader('x-tenant-id') });
  return { pool, db, sqlStore, store, tenancy, storeErrors, bare, bareTenancy };
}

/** Sends requests for `ids` every few ms until `stop()`; resolves with every outcome, per id. */
function load(tenancy: { handle(r: TenantRequest): TenantDecision | Promise<TenantDecision> }, ids: readonly string[]) {
  let running = true;
  const seen = new Map<string, string[]>(ids.map((id) => [id, []]));
  const done = (async () => {
    while (running) {
      await Promise.all(ids.map(async (id) => seen.get(id)!.push(outcome(await tenancy.handle(request(id))))));
      await sleep(5);
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await done;
      return seen;
    },
  };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('PostgreSQL restarted under load', () => {
  it('the process survives (the pool reports idle-client errors), cached tenants are served, unknown ones get 503, and it recovers', async () => {
    const poolErrors: Error[] = [];
    const { pool, sqlStore, store, tenancy } = await setUp(poolErrors);
    await sqlStore.create({ id: 'known' });
    await sqlStore.create({ id: 'unseen' });
    expect(outcome(await tenancy.handle(request('known')))).toBe('ok');
    // Fill the pool with idle clients: the ones a restart kills.
    await Promise.all(Array.from({ length: 4 }, () => pool.query('select pg_sleep(0.05)')));
    expect(pool.idleCount).toBeGreaterThan(0);

    const traffic = load(tenancy, ['known']);
    await sleep(100);
    await server.stop('fast');
    await sleep(200);
    // While it is down: the known tenant from the cache, the unseen one refused at once.
    const down = await Promise.all([tenancy.handle(request('known')), tenancy.handle(request('unseen'))]);
    expect(down.map(outcome)).toEqual(['ok', '503 store_unavailable']);
    await server.start();
    await until(async () => outcome(await tenancy.handle(request('unseen'))) === 'ok', 'the unseen tenant to load');
    const seen = await traffic.stop();

    // The restart reached the pool as errors (handled by its listener), not as a crash.
    expect(unhandled).toEqual([]);
    expect(poolErrors.length).toBeGreaterThan(0);
    expect(seen.get('known')!.length).toBeGreaterThan(10);
    expect(seen.get('known')!.every((o) => o === 'ok')).toBe(true);
    expect(store.stats().errors).toBeGreaterThan(0);
    expect(store.stats().staleHits).toBeGreaterThan(0);
    // The store works again through the same pool: reads and writes.
    await sqlStore.update('known', { plan: 'pro' });
    expect((await sqlStore.get('known'))?.plan).toBe('pro');
    expect(unhandled).toEqual([]);
  }, 90_000);
});

describe('PostgreSQL frozen (SIGSTOP) under load', () => {
  it('requests never hang: stale for known tenants, a quick 503 for unknown ones, and recovery once thawed', async () => {
    const poolErrors: Error[] = [];
    const { db, sqlStore, store, tenancy, bare, bareTenancy } = await setUp(poolErrors, { query: 2_000 });
    await sqlStore.create({ id: 'warm' });
    await sqlStore.create({ id: 'cold' });
    expect(outcome(await tenancy.handle(request('warm')))).toBe('ok');

    const traffic = load(tenancy, ['warm']);
    await sleep(100);
    server.freeze();
    try {
      // Well past the TTL: every lookup of `warm` needs the store, which does not answer.
      await sleep(1_000);
      // All at once: the cached store's limit, and the SQL store's own timeoutMs (reads give up
      // with store_unavailable, and the pipeline answers 503).
      const [cold, bareGet, bareList, bareDecision] = await Promise.all([
        Promise.all(Array.from({ length: 5 }, () => tenancy.handle(request('cold')))),
        bare.get('warm').catch((error: unknown) => error),
        bare.list().catch((error: unknown) => error),
        bareTenancy.handle(request('warm')),
      ]);
      expect(cold.map(outcome)).toEqual(Array.from({ length: 5 }, () => '503 store_unavailable'));
      expect(bareGet).toMatchObject({ code: 'store_unavailable', status: 503 });
      expect(bareList).toMatchObject({ code: 'store_unavailable' });
      expect(outcome(bareDecision)).toBe('503 store_unavailable');
    } finally {
      server.thaw();
    }
    await until(async () => outcome(await tenancy.handle(request('cold'))) === 'ok', 'the cold tenant to load');
    const seen = await traffic.stop();
    // The load loop went on during the freeze (no request waited on the frozen database for good).
    expect(seen.get('warm')!.length).toBeGreaterThan(10);
    expect(seen.get('warm')!.every((o) => o === 'ok')).toBe(true);
    expect(store.stats().staleHits).toBeGreaterThan(0);
    expect(store.stats().errors).toBeGreaterThan(0);
    await sqlStore.update('warm', { plan: 'pro' });
    expect((await sqlStore.get('warm'))?.plan).toBe('pro');
    expect((await bare.get('warm'))?.plan).toBe('pro');
    for (const timeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) expect(() => createSqlTenantStore({ db, timeoutMs })).toThrow(RangeError);
    expect(unhandled).toEqual([]);
  }, 90_000);
});
