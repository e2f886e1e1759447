import { TenantError } from '@tenant/interfaces';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { checkIdentifier, detectDialect } from './dialect.js';
import { setLocal } from './pg-settings.js';
import { DEFAULT_TENANT_SETTING } from './rls.js';
import type { AnyKysely, AnyTransaction } from './dialect.js';

/** Options of {@link createSchemaPerTenant}. */
export interface SchemaPerTenantOptions {
  /** A PostgreSQL Kysely instance. */
  readonly db: AnyKysely;
  /** The tenant migrations, run into each tenant schema (their queries get the schema through `withSchema`). */
  readonly migrations: Record<string, Migration> | MigrationProvider;
  /** Prepended to the slug to name a schema. Letters, digits and `_`. @default 'tenant_' */
  readonly schemaPrefix?: string;
  /** Schemas searched after the tenant's (for shared tables or extensions). @default [] (only the tenant schema) */
  readonly sharedSchemas?: readonly string[];
  /** Also set this setting to the slug in each tenant transaction (for RLS policies or logs); `false` to skip. @default 'app.tenant_id' */
  readonly tenantSetting?: string | false;
}

/** Progress of {@link SchemaPerTenant.migrateAll}. */
export interface SchemaMigrationProgress {
  readonly slug: string;
  readonly schema: string;
  /** 1-based position of this schema. */
  readonly index: number;
  readonly total: number;
  /** The migrations run (empty when the schema was up to date). */
  readonly results: MigrationResultSet['results'];
  /** Present when this schema's migration failed (the next schemas still run). */
  readonly error?: unknown;
}

/** Tenant schemas on PostgreSQL, made by {@link createSchemaPerTenant}. */
export interface SchemaPerTenant {
  /** The schema name of a slug (validated: the default tenant id format, fitting in 63 bytes). */
  schemaName(slug: string): string;
  /** Creates the schema if needed and runs the tenant migrations into it. Idempotent. */
  provision(slug: string): Promise<MigrationResultSet>;
  /** Whether the tenant schema exists. */
  exists(slug: string): Promise<boolean>;
  /** The slugs of every tenant schema, sorted. */
  list(): Promise<string[]>;
  /** Drops the tenant schema and everything in it (`drop schema … cascade`). Never called implicitly. */
  drop(slug: string): Promise<void>;
  /** Migrates every tenant schema in turn (kysely's migration lock is one advisory lock), reporting each. */
  migrateAll(options?: { readonly onProgress?: (progress: SchemaMigrationProgress) => void }): Promise<SchemaMigrationProgress[]>;
  /**
   * Runs `fn` in a transaction whose `search_path` is the tenant schema
   * (then `sharedSchemas`), set with `set_config('search_path', …, true)`:
   * it ends with the transaction, so nothing leaks to the next user of the
   * pooled connection. Throws `tenant_not_found` if the schema does not exist.
   */
  withTenantSchema<R>(slug: string, fn: (trx: AnyTransaction) => Promise<R>): Promise<R>;
}

const SLUG = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;

/**
 * Schema-per-tenant isolation on PostgreSQL: each tenant gets a schema
 * `<prefix><slug>` holding its own copy of the tenant tables, migrated with
 * kysely's `Migrator`.
 *
 * @example
 * ```ts
 * import { createSchemaPerTenant } from '@tenant/store-sql';
 *
 * const schemas = createSchemaPerTenant({ db, migrations: { '001_orders': { up: (db) => db.schema.createTable('orders').addColumn('id', 'serial', (c) => c.primaryKey()).execute() } } });
 * await schemas.provision('acme');
 * const orders = await schemas.withTenantSchema('acme', (trx) => trx.selectFrom('orders').selectAll().execute());
 * ```
 */
export function createSchemaPerTenant(options: SchemaPerTenantOptions): SchemaPerTenant {
  const db = options.db;
  if (detectDialect(db) !== 'postgres') throw new TypeError('[@tenant/store-sql] schema per tenant needs PostgreSQL');
  const prefix = checkIdentifier(options.schemaPrefix ?? 'tenant_', 'schemaPrefix', { max: 40 });
  const shared = (options.sharedSchemas ?? []).map((s) => checkIdentifier(s, 'a shared schema name'));
  const tenantSetting = options.tenantSetting === undefined ? DEFAULT_TENANT_SETTING : options.tenantSetting;
  const provider: MigrationProvider =
    typeof (options.migrations as MigrationProvider).getMigrations === 'function'
      ? (options.migrations as MigrationProvider)
      : { getMigrations: () => Promise.resolve(options.migrations as Record<string, Migration>) };

  const schemaName = (slug: string): string => {
    if (typeof slug !== 'string' || !SLUG.test(slug) || Buffer.byteLength(prefix + slug) > 63) {
      throw new TenantError('tenant_invalid', `[@tenant/store-sql] Invalid tenant schema slug: it must be lower-case letters, digits and inner - or _, and fit in ${63 - prefix.length} characters`);
    }
    return prefix + slug;
  };

  const migrator = (schema: string) =>
    new Migrator({ db: db.withSchema(schema), provider, migrationTableSchema: schema });

  const exists = async (schema: string, q: AnyKysely = db) => {
    const row = await q.selectFrom('pg_catalog.pg_namespace').select('nspname').where('nspname', '=', schema).executeTakeFirst();
    return row !== undefined;
  };

  const migrate = async (schema: string): Promise<MigrationResultSet> => {
    const result = await migrator(schema).migrateToLatest();
    if (result.error !== undefined) throw result.error;
    return result;
  };

  return {
    schemaName,
    async provision(slug) {
      const schema = schemaName(slug);
      await db.schema.createSchema(schema).ifNotExists().execute();
      return migrate(schema);
    },
    exists: (slug) => exists(schemaName(slug)),
    async list() {
      const rows = (await db
        .selectFrom('pg_catalog.pg_namespace')
        .select('nspname')
        .where(sql`left(nspname, ${prefix.length})`, '=', prefix)
        .orderBy('nspname')
        .execute()) as { nspname: string }[];
      return rows.map((row) => row.nspname.slice(prefix.length)).filter((slug) => SLUG.test(slug));
    },
    async drop(slug) {
      await db.schema.dropSchema(schemaName(slug)).ifExists().cascade().execute();
    },
    async migrateAll(migrateOptions = {}) {
      const slugs = await this.list();
      const report: SchemaMigrationProgress[] = [];
      for (const [i, slug] of slugs.entries()) {
        const schema = prefix + slug;
        let progress: SchemaMigrationProgress;
        try {
          const result = await migrate(schema);
          progress = { slug, schema, index: i + 1, total: slugs.length, results: result.results };
        } catch (error) {
          progress = { slug, schema, index: i + 1, total: slugs.length, results: undefined, error };
        }
        report.push(progress);
        migrateOptions.onProgress?.(progress);
      }
      return report;
    },
    async withTenantSchema(slug, fn) {
      const schema = schemaName(slug);
      return db.transaction().execute(async (trx) => {
        if (!(await exists(schema, trx))) {
          throw new TenantError('tenant_not_found', '[@tenant/store-sql] The tenant schema does not exist: provision it first', { tenantId: slug });
        }
        // The slug matches SLUG, so quoting it in the value is safe.
        await setLocal(trx, 'search_path', [schema, ...shared].map((s) => `"${s}"`).join(', '));
        if (tenantSetting !== false) await setLocal(trx, tenantSetting, slug);
        return fn(trx);
      });
    },
  };
}
