import { TenantError } from '@tenant/interfaces';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { checkIdentifier, detectDialect } from './dialect.js';
import { checkTenantSetting, runOwnedTransaction } from './pg-settings.js';
import { DEFAULT_TENANT_SETTING } from './rls.js';
import type { AnyKysely, AnyTransaction } from './dialect.js';

/** Options of {@link createSchemaPerTenant}. */
export interface SchemaPerTenantOptions {
  /** A PostgreSQL Kysely instance. */
  readonly db: AnyKysely;
  /** The tenant migrations, run into each tenant schema (their queries get the schema through `withSchema`). */
  readonly migrations: Record<string, Migration> | MigrationProvider;
  /**
   * Prepended to the slug to name a schema: lower-case letters, digits and
   * `_`, not starting with a digit, at most 40 characters, and never `pg_…`
   * (PostgreSQL reserves it; `p` and `pg` are refused too, as `p` + a slug
   * could spell it). @default 'tenant_'
   */
  readonly schemaPrefix?: string;
  /**
   * Schemas searched after the tenant's (for shared tables or extensions).
   * They must not start with `schemaPrefix`. **An unqualified name that the
   * tenant schema lacks resolves to a shared schema's table of that name**:
   * list your tenant tables in `tenantTables` so that a tenant schema missing
   * one is refused rather than read through.
   * @default [] (only the tenant schema)
   */
  readonly sharedSchemas?: readonly string[];
  /**
   * The tables (or views) every tenant schema must hold. `withTenantSchema`
   * refuses, with `isolation_violation`, to run in a tenant schema that lacks
   * one (checked in the same query that checks the schema exists), and
   * `provision`/`migrateAll` fail for a schema whose migrations left one out.
   * Strongly advised with `sharedSchemas`. @default [] (no check)
   */
  readonly tenantTables?: readonly string[];
  /**
   * Also set this setting to the slug in each tenant transaction (for RLS
   * policies or logs); `false` to skip. A custom `namespace.name` setting,
   * never a built-in parameter (`search_path`, `role`, …). @default 'app.tenant_id'
   */
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
   * (then `sharedSchemas`), set with `set_config('search_path', …, true)`,
   * with the tenant setting set to the slug the same way. Throws
   * `tenant_not_found` if the schema does not exist, and
   * `isolation_violation` if it lacks one of `tenantTables`.
   *
   * The wrapper owns `search_path` and the tenant setting: a change of either
   * by `fn` (`SET`, `SET SESSION`, `RESET`, `set_config`) that is still in
   * effect when `fn` returns is refused with `isolation_violation` (the
   * transaction rolls back); before the commit, `search_path`, `role` and
   * `session_authorization` get back their previous values and the tenant
   * setting is set to `''` at session level, so nothing `fn` set at session
   * level reaches the next user of the pooled connection (see
   * `withTenantTransaction` for the failure paths).
   */
  withTenantSchema<R>(slug: string, fn: (trx: AnyTransaction) => Promise<R>): Promise<R>;
}

const SLUG = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;
const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
// Schema names a tenant must never get, whatever prefix and slug spell them.
const RESERVED_SCHEMAS = new Set(['public', 'information_schema']);
// Relation kinds an unqualified name in a query can resolve to.
const RELATION_KINDS = ['r', 'p', 'v', 'm', 'f'];

function checkSchemaPrefix(value: unknown): string {
  const prefix = value === undefined ? 'tenant_' : value;
  if (typeof prefix !== 'string' || !SAFE_IDENTIFIER.test(prefix) || prefix.length > 40) {
    throw new TypeError(`[@tenant/store-sql] schemaPrefix must be lower-case letters, digits and _ (not starting with a digit), at most 40 characters, like tenant_; got ${typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 80)) : typeof prefix}`);
  }
  if (prefix.startsWith('pg_') || 'pg_'.startsWith(prefix)) {
    throw new TypeError(`[@tenant/store-sql] schemaPrefix must not start with pg_ (reserved for PostgreSQL's system schemas), nor be a start of it ("p", "pg"); got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

function checkSharedSchemas(value: unknown, prefix: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError('[@tenant/store-sql] sharedSchemas must be an array of schema names');
  return value.map((schema: unknown) => {
    const name = checkIdentifier(schema, 'a shared schema name');
    if (name.startsWith(prefix)) {
      throw new TypeError(`[@tenant/store-sql] The shared schema ${JSON.stringify(name)} starts with schemaPrefix ${JSON.stringify(prefix)}: it would be taken for a tenant's schema (list, migrateAll, a slug spelling it)`);
    }
    return name;
  });
}

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
  const prefix = checkSchemaPrefix(options.schemaPrefix);
  const shared = checkSharedSchemas(options.sharedSchemas, prefix);
  if (options.tenantTables !== undefined && !Array.isArray(options.tenantTables)) throw new TypeError('[@tenant/store-sql] tenantTables must be an array of table names');
  const tenantTables = [...new Set((options.tenantTables ?? []).map((t) => checkIdentifier(t, 'a tenant table name')))];
  const tenantSetting = options.tenantSetting === false ? false : checkTenantSetting(options.tenantSetting === undefined ? DEFAULT_TENANT_SETTING : options.tenantSetting, 'tenantSetting');
  const provider: MigrationProvider =
    typeof (options.migrations as MigrationProvider).getMigrations === 'function'
      ? (options.migrations as MigrationProvider)
      : { getMigrations: () => Promise.resolve(options.migrations as Record<string, Migration>) };

  const schemaName = (slug: string): string => {
    if (typeof slug !== 'string' || !SLUG.test(slug) || Buffer.byteLength(prefix + slug) > 63) {
      throw new TenantError('tenant_invalid', `[@tenant/store-sql] Invalid tenant schema slug: it must be lower-case letters, digits and inner - or _, and fit in ${63 - prefix.length} characters`);
    }
    const schema = prefix + slug;
    if (schema.startsWith('pg_') || RESERVED_SCHEMAS.has(schema) || shared.includes(schema)) {
      throw new TenantError('tenant_invalid', `[@tenant/store-sql] Invalid tenant schema slug: ${JSON.stringify(schema)} is a system or shared schema`, { tenantId: slug });
    }
    return schema;
  };

  const migrator = (schema: string) =>
    new Migrator({ db: db.withSchema(schema), provider, migrationTableSchema: schema });

  const exists = async (schema: string, q: AnyKysely = db) => {
    const row = await q.selectFrom('pg_catalog.pg_namespace').select('nspname').where('nspname', '=', schema).executeTakeFirst();
    return row !== undefined;
  };

  /** The tenant tables the schema lacks (none when `tenantTables` is empty), in one query with the existence check. */
  const inspect = async (schema: string, q: AnyKysely): Promise<{ exists: boolean; missing: string[] }> => {
    const row = (await q
      .selectFrom('pg_catalog.pg_namespace as n')
      .where('n.nspname', '=', schema)
      .select((eb) => [
        'n.nspname',
        tenantTables.length === 0
          ? sql<number>`0`.as('present')
          : eb
              .selectFrom('pg_catalog.pg_class as c')
              .whereRef('c.relnamespace', '=', 'n.oid')
              .where('c.relname', 'in', tenantTables)
              .where('c.relkind', 'in', RELATION_KINDS)
              .select((e) => e.fn.countAll<number>().as('n'))
              .as('present'),
      ])
      .executeTakeFirst()) as { nspname: string; present: number | string } | undefined;
    if (row === undefined) return { exists: false, missing: [] };
    if (Number(row.present) === tenantTables.length) return { exists: true, missing: [] };
    const present = (await q
      .selectFrom('pg_catalog.pg_class as c')
      .innerJoin('pg_catalog.pg_namespace as n', 'n.oid', 'c.relnamespace')
      .where('n.nspname', '=', schema)
      .where('c.relname', 'in', tenantTables)
      .where('c.relkind', 'in', RELATION_KINDS)
      .select('c.relname')
      .execute()) as { relname: string }[];
    const have = new Set(present.map((r) => r.relname));
    return { exists: true, missing: tenantTables.filter((t) => !have.has(t)) };
  };

  const missingTables = (schema: string, slug: string, missing: readonly string[]) =>
    new TenantError(
      'isolation_violation',
      `[@tenant/store-sql] The tenant schema ${JSON.stringify(schema)} lacks the tenant table(s) ${missing.map((t) => JSON.stringify(t)).join(', ')}${shared.length > 0 ? ', so an unqualified name would reach a shared schema' : ''}: migrate it (provision or migrateAll) first`,
      { tenantId: slug },
    );

  const migrate = async (schema: string, slug: string): Promise<MigrationResultSet> => {
    const result = await migrator(schema).migrateToLatest();
    if (result.error !== undefined) throw result.error;
    if (tenantTables.length > 0) {
      const { missing } = await inspect(schema, db);
      if (missing.length > 0) throw missingTables(schema, slug, missing);
    }
    return result;
  };

  return {
    schemaName,
    async provision(slug) {
      const schema = schemaName(slug);
      await db.schema.createSchema(schema).ifNotExists().execute();
      return migrate(schema, slug);
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
          const result = await migrate(schema, slug);
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
      // The schema name is prefix + slug, both checked, so quoting it in the value is safe.
      // pg_temp last: otherwise the session's temporary tables come first and
      // would shadow the tenant's tables of the same name.
      const searchPath = [...[schema, ...shared].map((s) => `"${s}"`), 'pg_temp'].join(', ');
      return runOwnedTransaction(
        db,
        {
          what: 'withTenantSchema',
          tenantId: slug,
          locals: tenantSetting === false ? [['search_path', searchPath]] : [['search_path', searchPath], [tenantSetting, slug]],
          tenantSetting,
          before: async (trx) => {
            const found = await inspect(schema, trx);
            if (!found.exists) {
              throw new TenantError('tenant_not_found', '[@tenant/store-sql] The tenant schema does not exist: provision it first', { tenantId: slug });
            }
            if (found.missing.length > 0) throw missingTables(schema, slug, found.missing);
          },
        },
        fn,
      );
    },
  };
}
