import { existsSync, statSync } from 'node:fs';
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

/** A URL with its password replaced by `***`, for messages (also when it does not parse). */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = '***';
    return url.toString();
  } catch {
    // A malformed URL can still carry a password: hide whatever follows the
    // first ':' of the user part (up to the authority's last '@').
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (whole, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1 ? whole : `${scheme}${userinfo.slice(0, colon)}:***@`;
    });
  }
}

/** Why a `scheme://…` URL is malformed, in words (the WHATWG parser only says "Invalid URL"). */
function whyMalformed(raw: string): string {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(raw)?.[1] ?? '';
  const at = authority.lastIndexOf('@');
  const hostPort = authority.slice(at + 1);
  if (at !== -1 && hostPort === '') return 'a user or password but no host';
  if (hostPort.startsWith('[') && !hostPort.includes(']')) return 'an IPv6 address without its closing ]';
  if (hostPort.startsWith('[')) {
    const port = hostPort.slice(hostPort.indexOf(']') + 1);
    if (port === '' || port.startsWith(':')) {
      if (port.length > 1 && !validPort(port.slice(1))) return `the port ${JSON.stringify(port.slice(1))} is not a number from 1 to 65535`;
      return `${hostPort.slice(0, hostPort.indexOf(']') + 1)} is not an IPv6 address`;
    }
  }
  const colon = hostPort.indexOf(':');
  if (colon !== -1 && !hostPort.startsWith('[') && !validPort(hostPort.slice(colon + 1))) return `the port ${JSON.stringify(hostPort.slice(colon + 1))} is not a number from 1 to 65535`;
  if (/[\s<>"^`{|}\\]/.test(hostPort)) return 'a space or a character that a host name cannot hold';
  return 'it does not parse as a URL';
}

const validPort = (port: string): boolean => port === '' || (/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);

/**
 * Parses `raw` as a `scheme://` URL, or throws a usage error that names where
 * it came from (`source`: the flag or the environment variable). Checks what
 * the drivers would otherwise fail on later, with Node's codes: the URL
 * syntax, the port (1 to 65535) and the percent-encoding of the user,
 * password, host, path and query.
 */
function checkUrl(raw: string, source: string, what: string): URL {
  const shown = redactUrl(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${source} is not a valid ${what} URL (${whyMalformed(raw)}): ${shown}`);
  }
  if (url.port === '0') throw usageError(`${source} is not a valid ${what} URL (the port "0" is not a number from 1 to 65535): ${shown}`);
  const parts: [string, string][] = [
    ['user', url.username],
    ['password', url.password],
    ['host', url.hostname],
    ['path', url.pathname],
    ...url.search.slice(1).split('&').map((pair): [string, string] => ['query', pair]),
  ];
  for (const [part, value] of parts) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      throw usageError(`${source} is not a valid ${what} URL (bad percent-encoding in the ${part}: write % as %25): ${shown}`);
    }
    // A host is an [IPv6] address (the URL parser checked it) or a name: letters, digits, '.', '-', '_' and '~'.
    if (part === 'host' && !value.startsWith('[') && !/^[\p{L}\p{N}._~-]*$/u.test(decoded)) {
      throw usageError(`${source} is not a valid ${what} URL (the host ${JSON.stringify(decoded)} is not a host name): ${shown}`);
    }
  }
  return url;
}

/**
 * Parses a store location: `postgres://…` / `postgresql://…`,
 * `mysql://…` / `mariadb://…`, `sqlite:<path>` / `file:<path>` /
 * `file:///abs/path`, or a plain file path (relative to `cwd`). Throws a
 * usage error (exit 2), naming `source` (the flag or environment variable the
 * value came from), for anything else: another scheme, a URL that does not
 * parse (bad port, bad percent-encoding, …), an empty path, a path with a NUL
 * byte, or a path to a directory.
 *
 * @example
 * ```ts
 * import { parseStoreUrl } from '@tenant/cli';
 *
 * parseStoreUrl('sqlite:./data/tenants.db', process.cwd()); // { dialect: 'sqlite', file: '/…/data/tenants.db', … }
 * ```
 */
export function parseStoreUrl(raw: string, cwd: string, source = '--url'): StoreTarget {
  const value = raw.trim();
  if (value === '') throw usageError(`${source} is empty: give a database URL or a SQLite file path`);
  if (/^postgres(ql)?:\/\//i.test(value)) {
    checkUrl(value, source, 'PostgreSQL');
    return { dialect: 'postgres', url: value, label: redactUrl(value) };
  }
  if (/^(mysql|mariadb):\/\//i.test(value)) {
    checkUrl(value, source, 'MySQL/MariaDB');
    return { dialect: 'mysql', url: value.replace(/^mariadb:/i, 'mysql:'), label: redactUrl(value) };
  }
  let path: string;
  if (/^file:\/\//i.test(value)) {
    try {
      path = fileURLToPath(value);
    } catch (error) {
      throw usageError(`${source} is not a valid file URL (${(error as Error).message}): ${redactUrl(value)}`);
    }
  } else if (/^(sqlite|file):/i.test(value)) {
    path = value.replace(/^(sqlite|file):/i, '').replace(/^\/\//, '');
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) {
    throw usageError(`${source}: unsupported database URL ${redactUrl(value)}: use postgres://, mysql://, mariadb://, sqlite:<path> or a file path`);
  } else {
    path = value;
  }
  if (path === '') throw usageError(`${source}: the SQLite path is empty`);
  if (path.includes('\0')) throw usageError(`${source}: the SQLite path contains a NUL byte`);
  const file = path === ':memory:' || isAbsolute(path) ? path : resolve(cwd, path);
  if (file !== ':memory:' && isDirectory(file)) throw usageError(`${source}: ${file} is a directory, not a SQLite file`);
  return { dialect: 'sqlite', file, label: `sqlite:${path}` };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
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
  /** Where the URL came from, for errors: the flag or the environment variable. @default '--url' */
  readonly source?: string;
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
  const source = options.source ?? '--url';
  if (target.dialect === 'postgres') {
    const { default: pg } = await loadDriver<{ default: typeof Pg }>('pg', 'postgres:// URLs');
    // pg reads the connection string when a client is made (query parameters
    // such as sslmode, sslcert included): a throwaway client, never connected,
    // turns what it rejects into a usage error now rather than a failure later.
    try {
      new pg.Client({ connectionString: target.url });
    } catch (error) {
      throw usageError(`${source}: pg rejects the PostgreSQL URL ${target.label}: ${(error as Error).message}`);
    }
    const pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: options.timeoutMs });
    // An idle client's error (server restart) must not crash the process: the next query reports it.
    pool.on('error', () => undefined);
    // ... nor a checked-out client's (the pool listens only to idle ones).
    pool.on('connect', (client) => client.on('error', () => undefined));
    return new Kysely({ dialect: new PostgresDialect({ pool }) });
  }
  const mysql = await loadDriver<typeof Mysql2>('mysql2', 'mysql:// and mariadb:// URLs');
  let pool: Mysql2.Pool;
  try {
    // mysql2 reads the URL, its query options included, here.
    pool = mysql.createPool({ uri: target.url, connectionLimit: 4, connectTimeout: options.timeoutMs });
  } catch (error) {
    throw usageError(`${source}: mysql2 rejects the MySQL/MariaDB URL ${target.label}: ${(error as Error).message}`);
  }
  return new Kysely({ dialect: new MysqlDialect({ pool }) });
}

/**
 * Throws a usage error, naming `source` (the flag or environment variable),
 * unless `url` is a well-formed redis:// or rediss:// URL: it parses, its port
 * is from 1 to 65535, its percent-encoding is valid and its path is empty or
 * a database number.
 */
export function checkRedisUrl(url: string, source = '--redis'): void {
  if (!/^rediss?:\/\//i.test(url)) throw usageError(`${source}: unsupported Redis URL ${redactUrl(url)}: use redis:// or rediss://`);
  const parsed = checkUrl(url, source, 'Redis');
  if (!/^\/?(?:[0-9]{1,9})?$/.test(parsed.pathname)) throw usageError(`${source} is not a valid Redis URL (the path must be empty or a database number, not ${JSON.stringify(parsed.pathname)}): ${redactUrl(url)}`);
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
