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
  /**
   * Gives each tenant a PostgreSQL role of its own, and runs
   * `withTenantSchema`'s callback as that role (`set_config('role', …, true)`),
   * so that the database itself refuses (`permission denied`) what a
   * search-path wall cannot: a query naming another tenant's schema
   * (`tenant_globex.orders`, `withSchema(...)`, raw SQL, a name built in SQL).
   *
   * `provision` creates the role (named like the schema, with `rolePrefix`:
   * `NOLOGIN`, member of the group role `<rolePrefix>_shared`), grants it to
   * the connecting role, and grants it `USAGE` on its schema and
   * `SELECT, INSERT, UPDATE, DELETE` on its tables and sequences (default
   * privileges for tables your migrations add later; not the migration
   * tables). Grant what tenants share (tables of `sharedSchemas`) to
   * `<rolePrefix>_shared`. The connecting role needs `CREATEROLE` (or create
   * the roles beforehand, `NOLOGIN`, marked with
   * `COMMENT ON ROLE … IS '@tenant/store-sql tenant role'`); an existing role
   * without that mark, or one that can log in or has superuser, bypassrls,
   * createrole or createdb, is never used for a tenant (`isolation_violation`).
   * Roles are per cluster, not per database.
   *
   * The role confines queries, not code: a callback that runs
   * `RESET ROLE` / `SET ROLE` can leave it (and is refused when it has not set
   * it back by the end, as with every setting the wrapper owns).
   * @default false
   */
  readonly tenantRoles?: boolean;
  /**
   * Prepended to the slug to name a tenant's role when `tenantRoles` is on
   * (same rules as `schemaPrefix`). Roles are shared by every database of a
   * PostgreSQL cluster: give each application its own prefix.
   * @default schemaPrefix
   */
  readonly rolePrefix?: string;
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
  /**
   * Drops the tenant schema and everything in it (`drop schema … cascade`),
   * and with `tenantRoles` its role (kept when it still holds privileges in
   * another database of the cluster). Never called implicitly.
   */
  drop(slug: string): Promise<void>;
  /** The role of a slug when `tenantRoles` is on, else `undefined`. */
  roleName(slug: string): string | undefined;
  /** The group role every tenant role belongs to (`<rolePrefix>_shared`) when `tenantRoles` is on: grant shared tables to it. */
  readonly sharedRole: string | undefined;
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
/** The comment that marks a role made by createSchemaPerTenant for a tenant (or its group). */
const ROLE_MARK = '@tenant/store-sql tenant role';
// Relation kinds an unqualified name in a query can resolve to.
const RELATION_KINDS = ['r', 'p', 'v', 'm', 'f'];

/** Checks `schemaPrefix` (or `rolePrefix`, named by `what`): PostgreSQL reserves `pg_` for schemas and roles alike. */
function checkSchemaPrefix(value: unknown, what = 'schemaPrefix'): string {
  const prefix = value === undefined ? 'tenant_' : value;
  if (typeof prefix !== 'string' || !SAFE_IDENTIFIER.test(prefix) || prefix.length > 40) {
    throw new TypeError(`[@tenant/store-sql] ${what} must be lower-case letters, digits and _ (not starting with a digit), at most 40 characters, like tenant_; got ${typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 80)) : typeof prefix}`);
  }
  if (prefix.startsWith('pg_') || 'pg_'.startsWith(prefix)) {
    throw new TypeError(`[@tenant/store-sql] ${what} must not start with pg_ (reserved by PostgreSQL), nor be a start of it ("p", "pg"); got ${JSON.stringify(prefix)}`);
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
  if (options.tenantRoles !== undefined && typeof options.tenantRoles !== 'boolean') throw new TypeError('[@tenant/store-sql] tenantRoles must be true or false');
  const roles = options.tenantRoles === true;
  const rolePrefix = options.rolePrefix === undefined ? prefix : checkSchemaPrefix(options.rolePrefix, 'rolePrefix');
  // A slug cannot start with _, so no tenant's role can be named like the group.
  const sharedRole = roles ? `${rolePrefix}_shared` : undefined;
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

  const roleName = (slug: string): string | undefined => {
    if (!roles) return undefined;
    schemaName(slug);
    const role = rolePrefix + slug;
    if (Buffer.byteLength(role) > 63) throw new TenantError('tenant_invalid', `[@tenant/store-sql] Invalid tenant slug: the role ${JSON.stringify(role)} would not fit in 63 bytes`, { tenantId: slug });
    return role;
  };

  /**
   * Whether a role of this name exists, and whether it is one made for a
   * tenant: marked with {@link ROLE_MARK} and without power (login,
   * superuser, bypassrls, createrole, createdb). A prefix and a slug that
   * happen to spell `postgres`, the application's own role or a group of the
   * organisation must never be taken for a tenant's role, nor dropped as one.
   */
  const roleState = async (role: string): Promise<'absent' | 'ours' | 'foreign'> => {
    const found = (await db
      .selectFrom('pg_catalog.pg_roles as r')
      .leftJoin('pg_catalog.pg_shdescription as d', (join) => join.onRef('d.objoid', '=', 'r.oid').on('d.classoid', '=', sql<number>`'pg_catalog.pg_authid'::regclass`))
      .where('r.rolname', '=', role)
      .select(['d.description', sql<boolean>`r.rolsuper or r.rolcanlogin or r.rolbypassrls or r.rolcreaterole or r.rolcreatedb`.as('powerful')])
      .executeTakeFirst()) as { description: string | null; powerful: boolean } | undefined;
    if (found === undefined) return 'absent';
    return found.description === ROLE_MARK && !found.powerful ? 'ours' : 'foreign';
  };

  const foreignRole = (role: string, doing: string) =>
    new TenantError(
      'isolation_violation',
      `[@tenant/store-sql] The role ${JSON.stringify(role)} already exists and is not a tenant role made by @tenant/store-sql (or it can log in, or has superuser, bypassrls, createrole or createdb): it is not ${doing}. Choose another rolePrefix, or make it NOLOGIN with no such attribute and mark it: COMMENT ON ROLE ... IS '${ROLE_MARK}'`,
    );

  /** Creates a role, marked, unless it exists (a concurrent creation is not an error); refuses a role not made for a tenant. */
  const createRole = async (role: string): Promise<void> => {
    const state = await roleState(role);
    if (state === 'ours') return;
    if (state === 'foreign') throw foreignRole(role, 'used for a tenant');
    // The role and its mark in one transaction: a concurrent provision (the group role is
    // everyone's) waits for it, then finds the role marked.
    const make = async (q: AnyKysely) => {
      await sql`create role ${sql.id(role)} nologin`.execute(q);
      await sql`comment on role ${sql.id(role)} is ${sql.lit(ROLE_MARK)}`.execute(q);
    };
    const created = await (db.isTransaction ? make(db) : db.transaction().execute((trx) => make(trx as AnyKysely))).then(
      () => true,
      (error: unknown) => {
        if ((error as { code?: unknown }).code !== '42710') throw error; // duplicate_object: made meanwhile
        return false;
      },
    );
    if (!created) await createRole(role);
  };

  /** Before migrating: the roles, the membership, usage of the schema, and default privileges for the tables the migrations make. */
  const prepareRole = async (schema: string, role: string) => {
    const group = sharedRole as string;
    await createRole(group);
    await createRole(role);
    await sql`grant ${sql.id(role)} to current_user`.execute(db);
    await sql`grant ${sql.id(group)} to ${sql.id(role)}`.execute(db);
    await sql`grant usage on schema ${sql.id(schema)} to ${sql.id(role)}`.execute(db);
    await sql`alter default privileges in schema ${sql.id(schema)} grant select, insert, update, delete on tables to ${sql.id(role)}`.execute(db);
    await sql`alter default privileges in schema ${sql.id(schema)} grant usage, select, update on sequences to ${sql.id(role)}`.execute(db);
  };

  /** After migrating: the tables and sequences there are (also those made by another role), never the migration tables. */
  const grantTables = async (schema: string, role: string) => {
    await sql`grant select, insert, update, delete on all tables in schema ${sql.id(schema)} to ${sql.id(role)}`.execute(db);
    await sql`grant usage, select, update on all sequences in schema ${sql.id(schema)} to ${sql.id(role)}`.execute(db);
    for (const table of ['kysely_migration', 'kysely_migration_lock']) {
      await sql`revoke all on table ${sql.id(schema, table)} from ${sql.id(role)}`.execute(db).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== '42P01') throw error; // undefined_table: no migrations yet
      });
    }
  };

  const migrator = (schema: string) =>
    new Migrator({ db: db.withSchema(schema), provider, migrationTableSchema: schema });

  const exists = async (schema: string, q: AnyKysely = db) => {
    const row = await q.selectFrom('pg_catalog.pg_namespace').select('nspname').where('nspname', '=', schema).executeTakeFirst();
    return row !== undefined;
  };

  /**
   * The tenant tables the schema lacks (none when `tenantTables` is empty), in
   * one query with the existence check; with `role`, also whether that role
   * exists and the connecting role may take it.
   */
  const inspect = async (schema: string, q: AnyKysely, role?: string): Promise<{ exists: boolean; missing: string[]; roleReady: boolean }> => {
    const row = (await q
      .selectFrom('pg_catalog.pg_namespace as n')
      .where('n.nspname', '=', schema)
      .select((eb) => [
        'n.nspname',
        role === undefined
          ? sql<boolean>`true`.as('role_ready')
          : eb
              .selectFrom('pg_catalog.pg_roles as r')
              .where('r.rolname', '=', role)
              .select(sql<boolean>`pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER') and not (r.rolsuper or r.rolbypassrls or r.rolcanlogin)`.as('m'))
              .as('role_ready'),
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
      .executeTakeFirst()) as { nspname: string; present: number | string; role_ready: boolean | null } | undefined;
    if (row === undefined) return { exists: false, missing: [], roleReady: false };
    const roleReady = row.role_ready === true;
    if (Number(row.present) === tenantTables.length) return { exists: true, missing: [], roleReady };
    const present = (await q
      .selectFrom('pg_catalog.pg_class as c')
      .innerJoin('pg_catalog.pg_namespace as n', 'n.oid', 'c.relnamespace')
      .where('n.nspname', '=', schema)
      .where('c.relname', 'in', tenantTables)
      .where('c.relkind', 'in', RELATION_KINDS)
      .select('c.relname')
      .execute()) as { relname: string }[];
    const have = new Set(present.map((r) => r.relname));
    return { exists: true, missing: tenantTables.filter((t) => !have.has(t)), roleReady };
  };

  const missingTables = (schema: string, slug: string, missing: readonly string[]) =>
    new TenantError(
      'isolation_violation',
      `[@tenant/store-sql] The tenant schema ${JSON.stringify(schema)} lacks the tenant table(s) ${missing.map((t) => JSON.stringify(t)).join(', ')}${shared.length > 0 ? ', so an unqualified name would reach a shared schema' : ''}: migrate it (provision or migrateAll) first`,
      { tenantId: slug },
    );

  const migrate = async (schema: string, slug: string): Promise<MigrationResultSet> => {
    const role = roleName(slug);
    if (role !== undefined) await prepareRole(schema, role);
    const result = await migrator(schema).migrateToLatest();
    if (result.error !== undefined) throw result.error;
    if (role !== undefined) await grantTables(schema, role);
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
      const schema = schemaName(slug);
      const role = roleName(slug);
      // checked before anything is dropped: `drop owned by` a role that is not a tenant's
      // (the application's own, spelled by prefix and slug) would drop everything it owns
      const state = role === undefined ? 'absent' : await roleState(role);
      if (state === 'foreign') throw foreignRole(role as string, 'dropped');
      await db.schema.dropSchema(schema).ifExists().cascade().execute();
      if (role === undefined || state === 'absent') return;
      await sql`drop owned by ${sql.id(role)}`.execute(db);
      await sql`drop role ${sql.id(role)}`.execute(db).catch((error: unknown) => {
        // dependent_objects_still_exist: privileges in another database of the cluster
        if ((error as { code?: unknown }).code !== '2BP01') throw error;
      });
    },
    roleName,
    sharedRole,
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
      const role = roleName(slug);
      // The schema name is prefix + slug, both checked, so quoting it in the value is safe.
      // pg_temp last: otherwise the session's temporary tables come first and
      // would shadow the tenant's tables of the same name.
      const searchPath = [...[schema, ...shared].map((s) => `"${s}"`), 'pg_temp'].join(', ');
      return runOwnedTransaction(
        db,
        {
          what: 'withTenantSchema',
          tenantId: slug,
          locals: [['search_path', searchPath], ...(tenantSetting === false ? [] : [[tenantSetting, slug] as const]), ...(role === undefined ? [] : [['role', role] as const])],
          tenantSetting,
          before: async (trx) => {
            const found = await inspect(schema, trx, role);
            if (!found.exists) {
              throw new TenantError('tenant_not_found', '[@tenant/store-sql] The tenant schema does not exist: provision it first', { tenantId: slug });
            }
            if (found.missing.length > 0) throw missingTables(schema, slug, found.missing);
            if (!found.roleReady) {
              throw new TenantError(
                'isolation_violation',
                `[@tenant/store-sql] The tenant role ${JSON.stringify(role)} does not exist or is not granted to the connecting role: run provision (or migrateAll) with tenantRoles first`,
                { tenantId: slug },
              );
            }
          },
        },
        fn,
      );
    },
  };
}
