import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { createMemoryTenantStore, type TenantStore } from '@tenant/core';
import { createSqlTenantStore, migrateTenantStore } from '@tenant/store-sql';
import { createTenantAdmin, type AdminAuditEntry, type AdminErrorEvent, type AdminRequest, type TenantAdminOptions } from '../src/index.js';

export interface Actor {
  readonly id: string;
  readonly role: 'admin' | 'viewer';
}

/** Bearer tokens the test authorize() knows. */
export const TOKENS: Record<string, Actor> = {
  'admin-token': { id: 'alice', role: 'admin' },
  'viewer-token': { id: 'victor', role: 'viewer' },
};

export const ADMIN = { authorization: 'Bearer admin-token' } as const;
export const VIEWER = { authorization: 'Bearer viewer-token' } as const;
export const JSON_CT = { 'content-type': 'application/json' } as const;

/** Role-based: viewers only read. Unknown tokens are unauthenticated (401). */
export const authorize: TenantAdminOptions<Actor>['authorize'] = ({ header, action }) => {
  const token = /^Bearer (.+)$/.exec(header('authorization') ?? '')?.[1];
  const actor = token === undefined ? undefined : TOKENS[token];
  if (actor === undefined) return undefined;
  if (actor.role === 'viewer' && !['tenant.list', 'tenant.get', 'tenant.domains.list'].includes(action)) return false;
  return actor;
};

/** Like the store-sql tests: the shared server, which must answer (no silent skip). */
export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

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
];

/** An admin over `store` with the test authorize, collecting audits and errors. */
export function makeAdmin(store: TenantStore, options: Partial<TenantAdminOptions<Actor>> = {}) {
  const audits: AdminAuditEntry<Actor>[] = [];
  const errors: AdminErrorEvent[] = [];
  const admin = createTenantAdmin<Actor>({
    store,
    authorize,
    audit: (entry) => {
      audits.push(entry);
    },
    onError: (event) => {
      errors.push(event);
    },
    ...options,
  });
  /** Calls the admin as the admin actor, with a JSON body when given. */
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const request: AdminRequest = {
      method,
      path,
      headers: { ...ADMIN, ...(body === undefined ? {} : JSON_CT), ...headers },
      ...(body === undefined ? {} : { rawBody: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
    return admin.handle(request);
  };
  return { admin, audits, errors, call };
}
