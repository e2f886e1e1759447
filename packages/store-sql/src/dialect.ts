import { MysqlAdapter, PostgresAdapter, SqliteAdapter, type Kysely, type Transaction } from 'kysely';

/** The SQL dialects this package supports. */
export type SqlDialectName = 'postgres' | 'mysql' | 'sqlite';

const NAMES: Readonly<Record<string, SqlDialectName>> = {
  PostgresAdapter: 'postgres',
  MysqlAdapter: 'mysql',
  SqliteAdapter: 'sqlite',
};

/**
 * The dialect of a Kysely instance, read from its adapter
 * (`db.getExecutor().adapter`): kysely's own `PostgresAdapter`,
 * `MysqlAdapter` and `SqliteAdapter`, or a subclass of one (by class name, so
 * a second copy of kysely still works). Throws a TypeError for anything else:
 * pass the `dialect` option then.
 *
 * @example
 * ```ts
 * import { detectDialect } from '@tenant/store-sql';
 *
 * detectDialect(db); // 'postgres'
 * ```
 */
export function detectDialect(db: AnyKysely): SqlDialectName {
  const adapter: unknown = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  for (let proto = Object.getPrototypeOf(adapter) as { constructor?: { name?: string } } | null; proto; proto = Object.getPrototypeOf(proto) as typeof proto) {
    const name = proto.constructor?.name;
    if (name !== undefined && NAMES[name] !== undefined) return NAMES[name];
  }
  throw new TypeError('[@tenant/store-sql] Cannot tell the SQL dialect from the Kysely adapter: pass the dialect option (postgres, mysql or sqlite)');
}

/** Checks an explicit dialect option, or detects it. */
export function resolveDialect(db: AnyKysely, dialect: SqlDialectName | undefined): SqlDialectName {
  if (dialect === undefined) return detectDialect(db);
  if (dialect !== 'postgres' && dialect !== 'mysql' && dialect !== 'sqlite') {
    throw new TypeError('[@tenant/store-sql] dialect must be postgres, mysql or sqlite');
  }
  return dialect;
}

/** Whether a driver error is a unique (or primary key) violation, on any of the three drivers. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return (
    code === '23505' || // PostgreSQL unique_violation
    code === 'ER_DUP_ENTRY' ||
    errno === 1062 || // MySQL / MariaDB
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a name that this package turns into an SQL identifier (table prefix,
 * table, column, schema prefix): plain ASCII letters, digits and `_`, at most
 * `max` characters. Identifiers are quoted by kysely anyway; this check makes
 * sure a hostile or mistaken value is refused before it gets there.
 */
export function checkIdentifier(value: unknown, what: string, options: { readonly allowEmpty?: boolean; readonly max?: number } = {}): string {
  const max = options.max ?? 63;
  if (typeof value !== 'string' || (value === '' ? !options.allowEmpty : !IDENTIFIER.test(value)) || value.length > max) {
    throw new TypeError(`[@tenant/store-sql] ${what} must be ${options.allowEmpty ? 'empty or ' : ''}letters, digits and _ (not starting with a digit), at most ${max} characters`);
  }
  return value;
}

/**
 * A Kysely instance over any schema. This package builds queries on tables
 * whose names it only knows at run time, as kysely's own `Migration` does
 * (`up(db: Kysely<any>)`); a `Kysely<YourDatabase>` is assignable to it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKysely = Kysely<any>;
/** A transaction over any schema (see {@link AnyKysely}). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTransaction = Transaction<any>;
