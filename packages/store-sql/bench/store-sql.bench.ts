// @tenant/store-sql figures, side by side in one run:
//  1. the row-level plugin's cost per compiled query (compile with and without it);
//  2. uncached tenant lookups per second on each dialect (PostgreSQL, MariaDB, SQLite), beside the raw driver;
//  and a shard lookup, for scale.
// Each lookup runs uncached and behind @tenant/cache's read-through cache (a dev dependency of the
// benchmark only: store-sql itself never imports another feature package).
import { afterAll, bench, describe } from 'vitest';
import Database from 'better-sqlite3';
import { CamelCasePlugin, DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import type { TenantStore } from '@tenant/interfaces';
import { createCachedTenantStore } from '@tenant/cache';
import { runWithTenant } from '@tenant/core';
import { createTestTenant } from '@tenant/core/testing';
import { createShardRouter, createSqlTenantStore, migrateTenantStore, withTenantScope } from '../src/index.js';
import type { AnyKysely, SqlDialectName } from '../src/dialect.js';
import { DIALECTS, MYSQL_URL, POSTGRES_URL, uniquePrefix } from '../test/dialects.js';

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

// 2. Tenant lookups per second, one describe per dialect: the store (uncached and cached) beside the
// raw driver in the same run, with vitest's summary printing the ratio between the rows.
//  - raw driver, prepared: a prepared/parameterised single-row select of the tenant row (pg with a named
//    statement, mysql2 `execute`, a better-sqlite3 statement prepared once): the issue 14 reference.
//  - raw driver, the store's SQL as kysely sends it: the same join the store runs, sent the way kysely's
//    dialects send every query (pg: unnamed statement on a checked-out client; mysql2: `query`;
//    better-sqlite3: `prepare` on every call). This is the floor for any store reading through kysely.
interface LookupVariant {
  readonly label: string;
  readonly wrap: (store: TenantStore) => TenantStore;
}
const LOOKUP_VARIANTS: LookupVariant[] = [
  { label: 'uncached SqlTenantStore.get()', wrap: (store) => store },
  { label: 'cached (@tenant/cache createCachedTenantStore)', wrap: (store) => createCachedTenantStore(store) },
];

interface RawDriver {
  /** A prepared single-row select of the tenant row. */
  readonly prepared: (id: string) => Promise<unknown>;
  /** The store's own SQL, sent the way kysely sends it. */
  readonly asKysely: (id: string) => Promise<unknown>;
  readonly close: () => Promise<void>;
}

// The store's lookup, compiled by kysely for the dialect (the same builder calls as src/sql-store.ts).
function lookupSql(db: AnyKysely, tablePrefix: string): string {
  const columns = ['id', 'name', 'status', 'plan', 'quota', 'policy', 'metadata', 'created_at', 'updated_at', 'deleted_at', 'version'];
  return db
    .selectFrom(`${tablePrefix}tenants as t`)
    .leftJoin(`${tablePrefix}tenant_domains as d`, 'd.tenant_id', 't.id')
    .select([...columns.map((c) => `t.${c}`), 'd.domain as domain'])
    .where('t.id', '=', 'x')
    .orderBy('d.position')
    .compile().sql;
}

function rawDriver(name: SqlDialectName, db: AnyKysely, tablePrefix: string, sqliteDb: Database.Database | undefined): RawDriver {
  const storeSql = lookupSql(db, tablePrefix);
  if (name === 'postgres') {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 8 });
    const text = `select * from "${tablePrefix}tenants" where id = $1`;
    return {
      prepared: async (id) => (await pool.query({ name: `${tablePrefix}get`, text, values: [id] })).rows[0],
      asKysely: async (id) => {
        const client = await pool.connect();
        try {
          return (await client.query(storeSql, [id])).rows;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  if (name === 'mysql') {
    const pool = createPool({ uri: MYSQL_URL, connectionLimit: 8 }).promise();
    const text = `select * from \`${tablePrefix}tenants\` where id = ?`;
    return {
      prepared: async (id) => ((await pool.execute(text, [id]))[0] as unknown[])[0],
      asKysely: async (id) => (await pool.query(storeSql, [id]))[0],
      close: () => pool.end(),
    };
  }
  const database = sqliteDb as Database.Database;
  const statement = database.prepare(`select * from "${tablePrefix}tenants" where id = ?`);
  return {
    prepared: (id) => Promise.resolve(statement.get(id)),
    asKysely: (id) => Promise.resolve(database.prepare(storeSql).all(id)),
    close: () => Promise.resolve(),
  };
}

const TENANTS = 1000;
const CONCURRENT = 50;
const ids = Array.from({ length: TENANTS }, (_, i) => `bench-${i}`);
const cleanups: (() => Promise<void>)[] = [];

for (const dialect of DIALECTS) {
  // SQLite in memory: the raw rows need the same database handle as the store.
  const sqliteDb = dialect.name === 'sqlite' ? new Database(':memory:') : undefined;
  const db = sqliteDb === undefined ? dialect.create(8) : new Kysely<any>({ dialect: new SqliteDialect({ database: sqliteDb }) });
  const tablePrefix = uniquePrefix('bench');
  await migrateTenantStore(db, { tablePrefix });
  const store = createSqlTenantStore({ db, tablePrefix });
  for (let i = 0; i < TENANTS; i += 100) {
    await Promise.all(ids.slice(i, i + 100).map((id) => store.create({ id, plan: 'pro', domains: [`${id}.example.com`], quota: { requests: { limit: 100, windowMs: 1000 } } })));
  }
  const raw = rawDriver(dialect.name, db, tablePrefix, sqliteDb);
  cleanups.push(async () => {
    await raw.close();
    await migrateTenantStore(db, { tablePrefix, to: 'none' });
    await db.destroy();
  });
  describe(`tenant lookup by id on ${dialect.name}, store vs raw driver`, () => {
    let i = 0;
    bench('uncached SqlTenantStore.get(), awaited one by one', async () => {
      await store.get(ids[i++ % TENANTS] as string);
    }, { time: TIME, ...WARMUP });
    bench(`raw ${dialect.name} driver, prepared single-row select, awaited one by one`, async () => {
      await raw.prepared(ids[i++ % TENANTS] as string);
    }, { time: TIME, ...WARMUP });
    bench(`raw ${dialect.name} driver, the store's SQL sent as kysely sends it, awaited one by one`, async () => {
      await raw.asKysely(ids[i++ % TENANTS] as string);
    }, { time: TIME, ...WARMUP });
  });
  describe(`tenant lookup by id on ${dialect.name}, ${CONCURRENT} concurrent (one batch = ${CONCURRENT} lookups)`, () => {
    let i = 0;
    bench('uncached SqlTenantStore.get()', async () => {
      await Promise.all(Array.from({ length: CONCURRENT }, () => store.get(ids[i++ % TENANTS] as string)));
    }, { time: TIME, ...WARMUP });
    bench(`raw ${dialect.name} driver, prepared single-row select`, async () => {
      await Promise.all(Array.from({ length: CONCURRENT }, () => raw.prepared(ids[i++ % TENANTS] as string)));
    }, { time: TIME, ...WARMUP });
  });
  describe(`tenant lookup by id on ${dialect.name}, cached vs uncached`, () => {
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
