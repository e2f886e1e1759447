// The stores the handler suite runs over. Kept apart from fixtures.ts so that
// the suites without SQL do not load native drivers.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { createMemoryTenantStore, type TenantStore } from '@tenant/core';
import { createSqlTenantStore, migrateTenantStore } from '@tenant/store-sql';

/** Like the store-sql tests: the shared server, which must answer (no silent skip). */
export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

/** SQL tables of our own, unique to this run, so concurrent runs never collide. */
const uniquePrefix = () => `admin_${process.pid}_${randomBytes(3).toString('hex')}_`;

/** A SQL store on `db`, migrated into tables of its own; `close` drops them and closes `db`. */
async function sqlStore(db: Kysely<any>) {
  const tablePrefix = uniquePrefix();
  await migrateTenantStore(db, { tablePrefix });
  return {
    store: createSqlTenantStore({ db, tablePrefix }),
    close: async () => {
      await migrateTenantStore(db, { tablePrefix, to: 'none' });
      await db.destroy();
    },
  };
}

export interface StoreKind {
  readonly name: string;
  create(): Promise<{ store: TenantStore; close(): Promise<void> }>;
}

export const STORES: readonly StoreKind[] = [
  { name: 'memory', create: async () => ({ store: createMemoryTenantStore(), close: async () => {} }) },
  { name: 'sqlite', create: () => sqlStore(new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })) },
  {
    name: 'postgres',
    create: () => sqlStore(new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: POSTGRES_URL, max: 4 }) }) })),
  },
  {
    name: 'mariadb',
    create: () => sqlStore(new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: MYSQL_URL, connectionLimit: 4 }) }) })),
  },
];

