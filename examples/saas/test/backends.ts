// The backends the end-to-end test runs on: SQLite with everything in memory
// (the default of `pnpm example:saas`), and PostgreSQL with Redis. A service
// that does not answer fails the run: nothing is skipped.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** The environment of one app under test, and how to clean up after it. */
export interface Backend {
  readonly env: Record<string, string>;
  teardown(): Promise<void>;
}

export interface BackendCase {
  readonly name: string;
  readonly dialect: 'sqlite' | 'postgres';
  /** Whether the app gets a `REDIS_URL` (shared cache and quotas). */
  readonly redis: boolean;
  setup(): Promise<Backend>;
}

const runId = () => `${process.pid}_${randomBytes(4).toString('hex')}`;

async function admin<R>(fn: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own, owned by a role of its own that is neither superuser
 * nor BYPASSRLS: so the app's tables are this run's alone, and the RLS
 * policies really apply to the app's connections.
 */
async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `saas_e2e_${runId()}`;
  const password = randomBytes(12).toString('hex');
  await admin(async (client) => {
    await client.query(`create role ${name} login nosuperuser nobypassrls password '${password}'`);
    await client.query(`create database ${name} owner ${name}`);
  });
  const url = new URL(POSTGRES_URL);
  url.username = name;
  url.password = password;
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin(async (client) => {
        await client.query(`drop database if exists ${name} with (force)`);
        await client.query(`drop role if exists ${name}`);
      }),
  };
}

/** Deletes every Redis key under `prefix`. */
async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export const BACKENDS: readonly BackendCase[] = [
  {
    name: 'sqlite, memory cache and quotas',
    dialect: 'sqlite',
    redis: false,
    setup: () => Promise.resolve({ env: { DATABASE_URL: ':memory:' }, teardown: () => Promise.resolve() }),
  },
  {
    name: 'postgresql (RLS) and redis',
    dialect: 'postgres',
    redis: true,
    async setup() {
      const database = await postgresDatabase();
      const prefix = `saas_e2e:${runId()}:`;
      return {
        env: { DATABASE_URL: database.url, REDIS_URL, REDIS_PREFIX: prefix },
        async teardown() {
          await deleteRedisKeys(prefix);
          await database.drop();
        },
      };
    },
  },
];
