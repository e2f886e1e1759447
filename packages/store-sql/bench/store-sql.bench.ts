// @tenant/store-sql figures, side by side in one run:
//  1. the row-level plugin's cost per compiled query (compile with and without it);
//  2. uncached tenant lookups per second on each dialect (PostgreSQL, MariaDB, SQLite);
//  and a shard lookup, for scale.
// Each lookup runs uncached and behind @tenant/cache's read-through cache (a dev dependency of the
// benchmark only: store-sql itself never imports another feature package).
import { afterAll, bench, describe } from 'vitest';
import { CamelCasePlugin, DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { TenantStore } from '@tenant/interfaces';
import { createCachedTenantStore } from '@tenant/cache';
import { runWithTenant } from '@tenant/core';
import { createTestTenant } from '@tenant/core/testing';
import { createShardRouter, createSqlTenantStore, migrateTenantStore, withTenantScope } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { DIALECTS, uniquePrefix } from '../test/dialects.js';

const TIME = 1500;
const WARMUP = { warmupTime: 500, warmupIterations: 200 };

// 1. Plugin cost per compiled query.
const compileOnly: AnyKysely = new Kysely({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});
const scoped = withTenantScope(compileOnly, { tables: ['orders', 'items'] });
const camel = compileOnly.withPlugin(new CamelCasePlugin());
const acme = createTestTenant({ id: 'acme' });
const joinQuery = (db: AnyKysely) =>
  db.selectFrom('orders as o').leftJoin('items as i', 'i.order_id', 'o.id').select(['o.id', 'i.sku']).where('o.total', '>', 10).orderBy('o.id').limit(50);
const insertQuery = (db: AnyKysely) => db.insertInto('orders').values({ id: 1, total: 5 });

describe('compile a select with a join', () => {
  bench('no plugin', () => runWithTenant(acme, () => void joinQuery(compileOnly).compile()), { time: TIME, ...WARMUP });
  bench("kysely's CamelCasePlugin (for scale)", () => runWithTenant(acme, () => void joinQuery(camel).compile()), { time: TIME, ...WARMUP });
  bench('tenantScopePlugin', () => runWithTenant(acme, () => void joinQuery(scoped).compile()), { time: TIME, ...WARMUP });
});

describe('compile an insert', () => {
  bench('no plugin', () => runWithTenant(acme, () => void insertQuery(compileOnly).compile()), { time: TIME, ...WARMUP });
  bench('tenantScopePlugin', () => runWithTenant(acme, () => void insertQuery(scoped).compile()), { time: TIME, ...WARMUP });
});

describe('shard routing', () => {
  const router = createShardRouter({ shards: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`s${i}`, i])) });
  let i = 0;
  bench('createShardRouter(8 shards × 160 points).shardFor()', () => void router.shardFor(`tenant-${i++ % 100_000}`), { time: TIME, ...WARMUP });
});

// 2. Tenant lookups per second, one describe per dialect.
interface LookupVariant {
  readonly label: string;
  readonly wrap: (store: TenantStore) => TenantStore;
}
const LOOKUP_VARIANTS: LookupVariant[] = [
  { label: 'uncached SqlTenantStore.get()', wrap: (store) => store },
  { label: 'cached (@tenant/cache createCachedTenantStore)', wrap: (store) => createCachedTenantStore(store) },
];

const TENANTS = 1000;
const CONCURRENT = 50;
const ids = Array.from({ length: TENANTS }, (_, i) => `bench-${i}`);
const cleanups: (() => Promise<void>)[] = [];

for (const dialect of DIALECTS) {
  const db = dialect.create(8);
  const tablePrefix = uniquePrefix('bench');
  await migrateTenantStore(db, { tablePrefix });
  const store = createSqlTenantStore({ db, tablePrefix });
  for (let i = 0; i < TENANTS; i += 100) {
    await Promise.all(ids.slice(i, i + 100).map((id) => store.create({ id, plan: 'pro', domains: [`${id}.example.com`], quota: { requests: { limit: 100, windowMs: 1000 } } })));
  }
  cleanups.push(async () => {
    await migrateTenantStore(db, { tablePrefix, to: 'none' });
    await db.destroy();
  });
  describe(`tenant lookup by id on ${dialect.name}`, () => {
    for (const variant of LOOKUP_VARIANTS) {
      const target = variant.wrap(store);
      let i = 0;
      bench(`${variant.label}, awaited one by one`, async () => {
        await target.get(ids[i++ % TENANTS] as string);
      }, { time: TIME, ...WARMUP });
      bench(`${variant.label}, ${CONCURRENT} concurrent (one batch = ${CONCURRENT} lookups)`, async () => {
        await Promise.all(Array.from({ length: CONCURRENT }, () => target.get(ids[i++ % TENANTS] as string)));
      }, { time: TIME, ...WARMUP });
    }
  });
}

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});
