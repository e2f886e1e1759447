import { Migrator, NO_MIGRATIONS, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { checkIdentifier, detectDialect, type SqlDialectName } from './dialect.js';
import type { AnyKysely } from './dialect.js';

/** Options shared by the store and its migrations. */
export interface TableOptions {
  /**
   * Prepended to every table and index name this package creates, so that
   * several stores (or test runs) share one database. Letters, digits and `_`.
   * @default ''
   */
  readonly tablePrefix?: string;
}

/** The table names of a store. */
export interface TenantStoreTables {
  readonly tenants: string;
  readonly domains: string;
  readonly migrations: string;
  readonly migrationLock: string;
}

/** The table names for a prefix (checked). */
export function tenantStoreTables(options: TableOptions = {}): TenantStoreTables {
  const prefix = checkIdentifier(options.tablePrefix ?? '', 'tablePrefix', { allowEmpty: true, max: 40 });
  return Object.freeze({
    tenants: `${prefix}tenants`,
    domains: `${prefix}tenant_domains`,
    migrations: `${prefix}tenant_store_migrations`,
    migrationLock: `${prefix}tenant_store_migration_lock`,
  });
}

// Ids sort and compare byte-wise on every dialect, as in the memory store:
// MySQL and MariaDB would otherwise compare case- and accent-insensitively,
// and a PostgreSQL locale collation would order `a-b`, `a_b` and `ab` differently.
function idType(dialect: SqlDialectName) {
  if (dialect === 'postgres') return sql`varchar(255) collate "C"`;
  if (dialect === 'mysql') return sql`varchar(255) character set utf8mb4 collate utf8mb4_bin`;
  return sql`text`;
}

// PostgreSQL `json`, not `jsonb`: configs must come back exactly as the
// memory store keeps them (key order, and strings holding \u0000, which jsonb
// rejects). Add an expression index if you query metadata.
function jsonType(dialect: SqlDialectName) {
  if (dialect === 'postgres') return sql`json`;
  if (dialect === 'mysql') return sql`json`;
  return sql`text`;
}

/**
 * The store's migrations, by name, for kysely's `Migrator`. Names sort after
 * each other and are namespaced (`tenant_store_…`), so they can be merged
 * into your own migration set:
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely';
 * import { createTenantStoreMigrations } from '@tenant/store-sql';
 *
 * const migrator = new Migrator({
 *   db,
 *   provider: { getMigrations: async () => ({ ...myMigrations, ...createTenantStoreMigrations() }) },
 * });
 * await migrator.migrateToLatest();
 * ```
 */
export function createTenantStoreMigrations(options: TableOptions = {}): Record<string, Migration> {
  const t = tenantStoreTables(options);
  const prefix = options.tablePrefix ?? '';
  return {
    '2026_11_01_000_tenant_store_initial': {
      async up(db: AnyKysely) {
        const dialect = detectDialect(db);
        // Timestamps are ISO 8601 UTC text: sortable, identical on all three
        // dialects, and independent of driver and session time zone settings.
        await db.schema
          .createTable(t.tenants)
          .addColumn('id', idType(dialect), (c) => c.primaryKey())
          .addColumn('name', 'varchar(200)')
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('plan', 'varchar(64)')
          .addColumn('quota', jsonType(dialect), (c) => c.notNull())
          .addColumn('policy', jsonType(dialect), (c) => c.notNull())
          .addColumn('metadata', jsonType(dialect), (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('deleted_at', 'varchar(32)')
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex(`${prefix}tenants_status_idx`).on(t.tenants).columns(['status', 'id']).execute();
        await db.schema
          .createTable(t.domains)
          .addColumn('domain', 'varchar(253)', (c) => c.primaryKey())
          .addColumn('tenant_id', idType(dialect), (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('is_primary', 'boolean', (c) => c.notNull())
          .addColumn('verified_at', 'varchar(32)')
          // A table constraint: MySQL ignores an inline column REFERENCES.
          .addForeignKeyConstraint(`${prefix}tenant_domains_tenant_fk`, ['tenant_id'], t.tenants, ['id'], (c) => c.onDelete('cascade'))
          .execute();
        await db.schema.createIndex(`${prefix}tenant_domains_tenant_idx`).on(t.domains).columns(['tenant_id', 'position']).execute();
      },
      async down(db: AnyKysely) {
        await db.schema.dropTable(t.domains).execute();
        await db.schema.dropTable(t.tenants).execute();
      },
    },
  };
}

/** A migration provider over {@link createTenantStoreMigrations}. */
export function tenantStoreMigrationProvider(options: TableOptions = {}): MigrationProvider {
  const migrations = createTenantStoreMigrations(options);
  return { getMigrations: () => Promise.resolve(migrations) };
}

/** Options of {@link migrateTenantStore}. */
export interface MigrateTenantStoreOptions extends TableOptions {
  /** `latest` runs every pending migration; `none` reverts them all (drops the tables). @default 'latest' */
  readonly to?: 'latest' | 'none';
}

/**
 * Runs the store's migrations with kysely's `Migrator`, in their own history
 * table (`<prefix>tenant_store_migrations`). Throws the migration error, if
 * any, after kysely has rolled back what it could.
 *
 * @example
 * ```ts
 * import { migrateTenantStore } from '@tenant/store-sql';
 *
 * await migrateTenantStore(db);                 // create or upgrade the tables
 * await migrateTenantStore(db, { to: 'none' }); // drop them
 * ```
 */
export async function migrateTenantStore(db: AnyKysely, options: MigrateTenantStoreOptions = {}): Promise<MigrationResultSet> {
  const t = tenantStoreTables(options);
  const migrator = new Migrator({
    db,
    provider: tenantStoreMigrationProvider(options),
    migrationTableName: t.migrations,
    migrationLockTableName: t.migrationLock,
  });
  const result = options.to === 'none' ? await migrator.migrateTo(NO_MIGRATIONS) : await migrator.migrateToLatest();
  if (result.error !== undefined) throw result.error;
  if (options.to === 'none') {
    await db.schema.dropTable(t.migrations).ifExists().execute();
    await db.schema.dropTable(t.migrationLock).ifExists().execute();
  }
  return result;
}
