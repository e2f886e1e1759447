// The dialect matrix: one Kysely factory per real database, in the style of
// kysely's own test suite. A database that cannot be reached fails the tests.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type ExpressionBuilder, type KyselyPlugin } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import type { AnyKysely, SqlDialectName } from '../src/dialect.js';

export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

export interface DialectCase {
  readonly name: SqlDialectName;
  /** A new Kysely instance; `poolSize` bounds the pool (SQLite has one connection). */
  create(poolSize?: number): AnyKysely;
}

export function postgres(poolSize = 4): AnyKysely {
  return new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: POSTGRES_URL, max: poolSize }) }) });
}

/**
 * A pool of ONE PostgreSQL connection as `user` (a role a test made), so that
 * whatever a query leaves in the session is seen by the next one.
 */
export function postgresAs(user: string, password: string, plugins: readonly KyselyPlugin[] = []): AnyKysely {
  const url = new URL(POSTGRES_URL);
  url.username = user;
  url.password = password;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  // As node-postgres advises: a connection that closes (a terminated backend) emits `error`.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db: AnyKysely = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return plugins.reduce((d, p) => d.withPlugin(p), db);
}

export function mysql(poolSize = 4): AnyKysely {
  return new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: MYSQL_URL, connectionLimit: poolSize }) }) });
}

export function sqlite(): AnyKysely {
  return new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
}

export const DIALECTS: readonly DialectCase[] = [
  { name: 'postgres', create: postgres },
  { name: 'mysql', create: mysql },
  { name: 'sqlite', create: () => sqlite() },
];

/** A prefix unique to this run, so concurrent runs on the shared servers never collide. */
export function uniquePrefix(tag: string): string {
  return `t${process.pid}_${randomBytes(3).toString('hex')}_${tag}_`;
}

/** An expression builder over any schema, for callbacks in tests on dynamic table names. */
export type AnyExpressionBuilder = ExpressionBuilder<any, any>;
