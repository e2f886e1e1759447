import { fileURLToPath } from 'node:url';

/** Where the app keeps its data: a SQLite file (or `:memory:`), or a PostgreSQL database. */
export type DatabaseConfig = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

/** Everything the app reads from its environment. */
export interface SaasConfig {
  readonly database: DatabaseConfig;
  /** Redis for the shared tenant cache and the quota counters; memory when absent. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and channel of this app. */
  readonly redisPrefix: string;
  readonly port: number;
  readonly host: string;
  /** The bearer token of the /admin routes. */
  readonly adminToken: string;
  /** Whether `adminToken` is the development default (printed at start-up). */
  readonly adminTokenIsDefault: boolean;
}

/** The admin token used when `ADMIN_TOKEN` is not set: for a laptop only. */
export const DEV_ADMIN_TOKEN = 'dev-admin-token';

/** The default SQLite file, under the example's own directory (git-ignored). */
export const DEFAULT_SQLITE_FILE = fileURLToPath(new URL('../.data/saas.sqlite', import.meta.url));

/**
 * Reads `DATABASE_URL`: `postgres://…` / `postgresql://…`, `sqlite:<path>`,
 * `file:<path>`, `:memory:`, or a plain path ending in `.sqlite` / `.db`.
 * Anything else is refused with a message that says what is accepted.
 */
export function parseDatabaseUrl(value: string | undefined): DatabaseConfig {
  if (value === undefined || value.trim() === '') return { kind: 'sqlite', file: DEFAULT_SQLITE_FILE };
  const url = value.trim();
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (url === ':memory:' || url === 'sqlite::memory:' || url === 'sqlite://:memory:') return { kind: 'sqlite', file: ':memory:' };
  const prefixed = /^(sqlite|file):(\/\/)?(.+)$/i.exec(url);
  if (prefixed) return { kind: 'sqlite', file: prefixed[3]! };
  if (/\.(sqlite3?|db)$/i.test(url) && !url.includes('://')) return { kind: 'sqlite', file: url };
  // only the scheme is echoed: the rest may hold credentials
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new Error(
    `[example-saas] DATABASE_URL is not supported: expected postgres://…, sqlite:<path>, file:<path>, :memory: or a *.sqlite/*.db path (got ${scheme ? `a "${scheme}:" URL` : 'a value without a scheme'})`,
  );
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`[example-saas] PORT must be an integer from 0 to 65535`);
  return port;
}

/** Reads the configuration from `env` (by default `process.env`); throws on a value it cannot use. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): SaasConfig {
  const adminToken = env['ADMIN_TOKEN'];
  if (adminToken !== undefined && adminToken.length > 0 && adminToken.length < 16) {
    throw new Error('[example-saas] ADMIN_TOKEN must be at least 16 characters');
  }
  const redisUrl = env['REDIS_URL']?.trim();
  return {
    database: parseDatabaseUrl(env['DATABASE_URL']),
    redisUrl: redisUrl ? redisUrl : undefined,
    redisPrefix: env['REDIS_PREFIX'] || 'saas:',
    port: parsePort(env['PORT']),
    host: env['HOST'] || '127.0.0.1',
    adminToken: adminToken ? adminToken : DEV_ADMIN_TOKEN,
    adminTokenIsDefault: !adminToken,
  };
}
