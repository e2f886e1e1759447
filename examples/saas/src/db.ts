import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type ColumnDefinitionBuilder, type ColumnType, type Generated, type Migration, type Transaction } from 'kysely';
import pg from 'pg';
import { enableRowLevelSecurity, migrateTenantStore, withTenantScope, withTenantTransaction } from '@tenant/store-sql';
import type { DatabaseConfig } from './config.js';

/**
 * `tenant_id` is written by `tenantScopePlugin` on insert (from the tenant in
 * context) and never changed: the application code neither sets nor updates it.
 */
type TenantColumn = ColumnType<string, string | undefined, never>;

/** The app's own tenant-scoped tables. */
export interface AppTables {
  projects: {
    id: Generated<number>;
    tenant_id: TenantColumn;
    name: string;
    created_at: ColumnType<string, string, never>;
  };
  tasks: {
    id: Generated<number>;
    tenant_id: TenantColumn;
    project_id: ColumnType<number, number, never>;
    title: string;
    status: 'open' | 'done';
    created_at: ColumnType<string, string, never>;
  };
  /** Landlord data, not a tenant table: one row per write through the admin API. */
  audit_log: {
    id: Generated<number>;
    at: string;
    actor: string;
    action: string;
    target_tenant: string;
    before_version: number | null;
    after_version: number;
  };
}

/** The tables that belong to a tenant: every query on them is scoped by the plugin. */
export const TENANT_TABLES = ['projects', 'tasks'] as const;

/** The database of the app: the raw handle (migrations, tenant store) and the tenant-scoped one (routes). */
export interface AppDatabase {
  readonly dialect: 'sqlite' | 'postgres';
  /** Unscoped: for the tenant store and migrations only. */
  readonly db: Kysely<AppTables>;
  /**
   * Runs `fn` with the tenant-scoped database of the tenant in context. On
   * PostgreSQL it is a transaction with `app.tenant_id` set, so the RLS
   * policies hold too (defence in depth under the plugin).
   */
  inTenant<R>(fn: (db: Kysely<AppTables> | Transaction<AppTables>) => Promise<R>): Promise<R>;
  /** Whether PostgreSQL enforces the RLS policies for this connection's role (false for superusers and BYPASSRLS roles). */
  rlsEnforced(): Promise<boolean>;
  close(): Promise<void>;
}

function appMigrations(dialect: AppDatabase['dialect']): Record<string, Migration> {
  // integer ids from one sequence per table, shared by every tenant (easy to guess, on purpose: isolation must not rely on ids)
  const idColumn = dialect === 'postgres' ? 'serial' : 'integer';
  const primaryKey = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
  return {
    '2026_11_23_000_projects_and_tasks': {
      async up(db) {
        await db.schema
          .createTable('projects')
          .addColumn('id', idColumn, primaryKey)
          .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('name', 'varchar(200)', (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          // the target of the tasks' composite key: a task can only point at a project of its own tenant
          .addUniqueConstraint('projects_tenant_id_id_unique', ['tenant_id', 'id'])
          .execute();
        await db.schema
          .createTable('tasks')
          .addColumn('id', idColumn, primaryKey)
          .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('project_id', 'integer', (c) => c.notNull())
          .addColumn('title', 'varchar(500)', (c) => c.notNull())
          .addColumn('status', 'varchar(8)', (c) => c.notNull().defaultTo('open'))
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addForeignKeyConstraint('tasks_project_fk', ['tenant_id', 'project_id'], 'projects', ['tenant_id', 'id'], (c) => c.onDelete('cascade'))
          .execute();
        await db.schema.createIndex('tasks_tenant_project_idx').on('tasks').columns(['tenant_id', 'project_id']).execute();
      },
      async down(db) {
        await db.schema.dropTable('tasks').execute();
        await db.schema.dropTable('projects').execute();
      },
    },
    '2026_11_23_001_audit_log': {
      async up(db) {
        await db.schema
          .createTable('audit_log')
          .addColumn('id', idColumn, primaryKey)
          .addColumn('at', 'varchar(32)', (c) => c.notNull())
          .addColumn('actor', 'varchar(64)', (c) => c.notNull())
          .addColumn('action', 'varchar(40)', (c) => c.notNull())
          .addColumn('target_tenant', 'varchar(64)', (c) => c.notNull())
          .addColumn('before_version', 'integer')
          .addColumn('after_version', 'integer', (c) => c.notNull())
          .execute();
      },
      async down(db) {
        await db.schema.dropTable('audit_log').execute();
      },
    },
  };
}

/** Creates the tenant store's tables and the app's tables, and on PostgreSQL their RLS policies (idempotent). */
async function migrate(db: Kysely<AppTables>, dialect: AppDatabase['dialect']): Promise<void> {
  await migrateTenantStore(db);
  const migrations = appMigrations(dialect);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'saas_migrations',
    migrationLockTableName: 'saas_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`[example-saas] migration ${failed ?? ''} failed`, { cause: error });
  }
  // Enables and forces RLS with a tenant_isolation policy on the tenant
  // tables. Idempotent, and in a transaction of its own: so not a migration
  // (kysely runs PostgreSQL migrations inside one transaction).
  if (dialect === 'postgres') await enableRowLevelSecurity(db, { tables: [...TENANT_TABLES] });
}

/** Opens the database named by the config and brings its schema up to date. */
export async function openDatabase(config: DatabaseConfig): Promise<AppDatabase> {
  let db: Kysely<AppTables>;
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      // A hung or unreachable database fails a query instead of holding it forever.
      connectionTimeoutMillis: 2_000,
      query_timeout: 5_000,
      statement_timeout: 5_000,
    });
    // An idle client's error (PostgreSQL restarting, a connection cut) is
    // emitted on the pool: without a listener it would crash the process.
    // The pool drops that client; the next query opens a new connection.
    pool.on('error', (error) => console.error('[example-saas] idle PostgreSQL connection lost:', error.message));
    // A client that is checked out has no pool listener: give every client its own.
    pool.on('connect', (client) => client.on('error', (error) => console.error('[example-saas] PostgreSQL connection lost:', error.message)));
    db = new Kysely<AppTables>({ dialect: new PostgresDialect({ pool }) });
  } else {
    if (config.file !== ':memory:') mkdirSync(dirname(config.file), { recursive: true });
    const database = new Database(config.file);
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    db = new Kysely<AppTables>({ dialect: new SqliteDialect({ database }) });
  }
  try {
    await migrate(db, config.kind);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const scoped = withTenantScope(db, { tables: [...TENANT_TABLES] });
  return {
    dialect: config.kind,
    db,
    inTenant: config.kind === 'postgres' ? (fn) => withTenantTransaction(scoped, undefined, fn) : (fn) => fn(scoped),
    async rlsEnforced() {
      if (config.kind !== 'postgres') return false;
      const { rows } = await sql<{ bypass: boolean }>`select (rolsuper or rolbypassrls) as bypass from pg_roles where rolname = current_user`.execute(db);
      return rows[0]?.bypass === false;
    },
    close: () => db.destroy(),
  };
}
