import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import type * as Mysql2 from 'mysql2';
import type * as Pg from 'pg';
import { CliError, EXIT_CODES, usageError } from './errors.js';

// The CLI works on whatever schema it is pointed at.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKysely = Kysely<any>;

/** Where the tenant store lives, parsed from a URL or a path by {@link parseStoreUrl}. */
export type StoreTarget =
  | { readonly dialect: 'sqlite'; readonly file: string; readonly label: string }
  | { readonly dialect: 'postgres' | 'mysql'; readonly url: string; readonly label: string };

/** The store used when neither `--url` nor `TENANT_DATABASE_URL` is given: a SQLite file in the working directory. */
export const DEFAULT_DATABASE = './tenants.db';

/** A URL with its password replaced by `***`, for messages. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = '***';
    return url.toString();
  } catch {
    return raw;
  }
}

/**
 * Parses a store location: `postgres://…` / `postgresql://…`,
 * `mysql://…` / `mariadb://…`, `sqlite:<path>` / `file:<path>` /
 * `file:///abs/path`, or a plain file path (relative to `cwd`). Throws a
 * usage error (exit 2) for anything else.
 *
 * @example
 * ```ts
 * import { parseStoreUrl } from '@tenant/cli';
 *
 * parseStoreUrl('sqlite:./data/tenants.db', process.cwd()); // { dialect: 'sqlite', file: '/…/data/tenants.db', … }
 * ```
 */
export function parseStoreUrl(raw: string, cwd: string): StoreTarget {
  const value = raw.trim();
  if (value === '') throw usageError('the database URL is empty');
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value, label: redactUrl(value) };
  if (/^(mysql|mariadb):\/\//i.test(value)) {
    return { dialect: 'mysql', url: value.replace(/^mariadb:/i, 'mysql:'), label: redactUrl(value) };
  }
  let path: string;
  if (/^file:\/\//i.test(value)) {
    try {
      path = fileURLToPath(value);
    } catch (error) {
      throw usageError(`bad file URL ${value}: ${(error as Error).message}`);
    }
  } else if (/^(sqlite|file):/i.test(value)) {
    path = value.replace(/^(sqlite|file):/i, '').replace(/^\/\//, '');
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) {
    throw usageError(`unsupported database URL ${redactUrl(value)}: use postgres://, mysql://, mariadb://, sqlite:<path> or a file path`);
  } else {
    path = value;
  }
  if (path === '') throw usageError('the SQLite path is empty');
  const file = path === ':memory:' || isAbsolute(path) ? path : resolve(cwd, path);
  return { dialect: 'sqlite', file, label: `sqlite:${path}` };
}

/** Loads an optional driver, or explains how to install it. */
async function loadDriver<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError('driver_missing', `install ${name} to use ${purpose} (npm install ${name})`, EXIT_CODES.failure, { cause: error });
    }
    throw error;
  }
}

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** Create a missing SQLite file (only `migrate up` does). */
  readonly create: boolean;
  /** Connection timeout in milliseconds. */
  readonly timeoutMs: number;
}

/** Opens a Kysely instance on the target, loading its driver. The caller destroys it. */
export async function openDatabase(target: StoreTarget, options: OpenOptions): Promise<AnyKysely> {
  // Loaded on demand: kysely is most of the start-up time, and help or usage errors do not need it.
  const { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } = await import('kysely');
  if (target.dialect === 'sqlite') {
    if (!options.create && target.file !== ':memory:' && !existsSync(target.file)) {
      throw new CliError('unreachable', `no SQLite database at ${target.file}: create it with \`tenant migrate up\``, EXIT_CODES.unreachable);
    }
    const { default: Database } = await loadDriver<{ default: typeof BetterSqlite3 }>('better-sqlite3', 'SQLite files');
    let database: BetterSqlite3.Database;
    try {
      database = new Database(target.file, { timeout: options.timeoutMs });
      database.pragma('foreign_keys = ON');
    } catch (error) {
      throw new CliError('unreachable', `cannot open the SQLite database ${target.file}: ${(error as Error).message}`, EXIT_CODES.unreachable, { cause: error });
    }
    return new Kysely({ dialect: new SqliteDialect({ database }) });
  }
  if (target.dialect === 'postgres') {
    const { default: pg } = await loadDriver<{ default: typeof Pg }>('pg', 'postgres:// URLs');
    const pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: options.timeoutMs });
    // An idle client's error (server restart) must not crash the process: the next query reports it.
    pool.on('error', () => undefined);
    return new Kysely({ dialect: new PostgresDialect({ pool }) });
  }
  const mysql = await loadDriver<typeof Mysql2>('mysql2', 'mysql:// and mariadb:// URLs');
  const pool = mysql.createPool({ uri: target.url, connectionLimit: 4, connectTimeout: options.timeoutMs });
  return new Kysely({ dialect: new MysqlDialect({ pool }) });
}

/** Throws a usage error unless `url` is a redis:// or rediss:// URL. */
export function checkRedisUrl(url: string): void {
  if (!/^rediss?:\/\//i.test(url)) throw usageError(`unsupported Redis URL ${redactUrl(url)}: use redis:// or rediss://`);
}

/**
 * Connects a fail-fast ioredis client (no offline queue, no retries), or
 * throws an `unreachable` error (exit 3). The caller disconnects it.
 */
export async function openRedis(url: string, timeoutMs: number): Promise<Redis> {
  checkRedisUrl(url);
  const { Redis } = await loadDriver<typeof IORedis>('ioredis', 'Redis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  // Failures are reported by the commands that hit them; the first one says why a connect failed.
  let first: Error | undefined;
  client.on('error', (error: Error) => {
    first ??= error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = first ?? (error as Error);
    throw new CliError('unreachable', `cannot reach Redis at ${redactUrl(url)}: ${reason.message}`, EXIT_CODES.unreachable, { cause: reason });
  }
  return client;
}
