import {
  TENANT_STATUSES,
  TenantError,
  type TenantChangeEvent,
  type TenantChangeListener,
  type TenantConfig,
  type TenantInput,
  type TenantListQuery,
  type TenantPage,
  type TenantPatch,
  type TenantStatus,
  type TenantStore,
  type Unsubscribe,
  type WriteOptions,
} from '@tenant/interfaces';
import {
  applyTenantPatch,
  createTenantConfig,
  decodeCursor,
  deepFreeze,
  encodeCursor,
  normalizeHost,
  pageLimit,
  parseTenantConfig,
  systemClock,
  validateTenantId,
  withinTime,
  type Clock,
  type TenantIdValidator,
} from '@tenant/core';
import { isUniqueViolation, resolveDialect, type SqlDialectName } from './dialect.js';
import { tenantStoreTables, type TableOptions } from './migrations.js';
import type { AnyKysely, AnyTransaction } from './dialect.js';
import type { CompiledQuery } from 'kysely';

/** Options of {@link createSqlTenantStore}. */
export interface SqlTenantStoreOptions extends TableOptions {
  /**
   * Your Kysely instance (PostgreSQL with `pg`, MySQL/MariaDB with `mysql2`, SQLite with `better-sqlite3`). Not closed by the store.
   * A `Transaction` works too: the writes then join it (all or nothing with your other work), and the change feed
   * fires as each write returns, before your commit; after a failed write, roll the transaction back.
   */
  readonly db: AnyKysely;
  /** The dialect. @default detected from `db.getExecutor().adapter` */
  readonly dialect?: SqlDialectName;
  /** The tenant id check. @default validateTenantId from `@tenant/core` (the default format) */
  readonly validateId?: TenantIdValidator;
  /** The clock for timestamps. @default systemClock */
  readonly clock?: Clock;
  /**
   * How long a read (`get`, `getByDomain`, `list`) may wait for the
   * database, in milliseconds, before it rejects with a `store_unavailable`
   * TenantError (HTTP 503; a cached store in front serves its stale copy
   * instead), the same error as a read the database fails. The query is
   * not cancelled: set the driver's own timeouts too
   * (see the README). Writes are not bounded here, since a write given up on
   * could still commit. `0` waits as long as the driver does.
   * @default 0
   */
  readonly timeoutMs?: number;
}

/** A {@link TenantStore} over SQL tables, made by {@link createSqlTenantStore}. */
export interface SqlTenantStore extends TenantStore {
  /** The dialect in use. */
  readonly dialect: SqlDialectName;
  /** The table names in use. */
  readonly tables: { readonly tenants: string; readonly domains: string };
  /** Marks a domain of a tenant as verified (or not, with `null`), without changing the tenant's version. */
  setDomainVerified(domain: string, verifiedAt: Date | null): Promise<boolean>;
}

interface TenantRow {
  id: string;
  name: string | null;
  status: string;
  plan: string | null;
  quota: unknown;
  policy: unknown;
  metadata: unknown;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  version: number | string;
}

const TENANT_COLUMNS = ['id', 'name', 'status', 'plan', 'quota', 'policy', 'metadata', 'created_at', 'updated_at', 'deleted_at', 'version'] as const;

function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

function statusFilter(status: TenantListQuery['status']): TenantStatus[] {
  if (status === undefined) return TENANT_STATUSES.filter((s) => s !== 'deleted');
  const list = typeof status === 'string' ? [status] : [...status];
  for (const s of list) {
    if (!TENANT_STATUSES.includes(s)) {
      throw new TenantError('config_invalid', '[@tenant/store-sql] Unknown tenant status filter', { details: { fields: { status: 'must be a tenant status' } } });
    }
  }
  return list;
}

/**
 * Creates a {@link TenantStore} that keeps tenant configs in two tables
 * (`<prefix>tenants` and `<prefix>tenant_domains`) of your database. It
 * behaves exactly like the memory store of `@tenant/core`: same validation,
 * same errors (`tenant_exists`, `domain_taken`, `version_conflict`,
 * `tenant_not_found`, `tenant_deleted`, `config_invalid`), same paging and
 * cursors, and a change feed of the writes made through this instance.
 * Every write runs in one transaction; updates lock the row (`FOR UPDATE` on
 * PostgreSQL and MySQL; SQLite serializes transactions).
 *
 * Run {@link migrateTenantStore} (or merge {@link createTenantStoreMigrations}
 * into your migrations) first.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * import { createSqlTenantStore, migrateTenantStore } from '@tenant/store-sql';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2_000, query_timeout: 5_000 });
 * // Without both listeners a PostgreSQL restart crashes the process (idle and checked-out clients).
 * pool.on('error', (error) => console.error('idle PostgreSQL client:', error.message));
 * pool.on('connect', (client) => client.on('error', (error) => console.error('PostgreSQL client:', error.message)));
 * const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
 * await migrateTenantStore(db);
 * const store = createSqlTenantStore({ db, timeoutMs: 1_000 });
 * await store.create({ id: 'acme', plan: 'pro', domains: ['acme.example.com'] });
 * const acme = await store.getByDomain('acme.example.com');
 * ```
 */
export function createSqlTenantStore(options: SqlTenantStoreOptions): SqlTenantStore {
  if (typeof options !== 'object' || options === null || typeof options.db !== 'object' || options.db === null) {
    throw new TypeError('[@tenant/store-sql] createSqlTenantStore needs { db: Kysely }');
  }
  const db = options.db;
  const dialect = resolveDialect(db, options.dialect);
  const tables = tenantStoreTables(options);
  const validateId = options.validateId ?? validateTenantId;
  const clock = options.clock ?? systemClock;
  const listeners = new Set<TenantChangeListener>();
  const lockRows = dialect !== 'sqlite';
  const timeoutMs = options.timeoutMs ?? 0;
  // Node fires a timer longer than 2^31 - 1 ms at once.
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= 2_147_483_647)) {
    throw new RangeError('[@tenant/store-sql] timeoutMs must be a number of milliseconds, from 0 to 2147483647');
  }

  // A read, or a store_unavailable rejection: when the database fails (the
  // driver's error is kept as `cause`) or once timeoutMs has passed. Whichever
  // comes first (the driver's own connection or query timeout, or ours), the
  // caller sees one code. A late answer or failure of the query is dropped,
  // never left unhandled.
  const bounded = <T>(read: () => Promise<T>, tenantId?: string): Promise<T> => {
    const context = tenantId === undefined ? {} : { tenantId };
    const pending = read().catch((cause: unknown) => {
      if (TenantError.is(cause)) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new TenantError('store_unavailable', `[@tenant/store-sql] The database could not answer: ${reason}`, { ...context, cause });
    });
    if (timeoutMs === 0) return pending;
    return withinTime(
      pending,
      timeoutMs,
      () => new TenantError('store_unavailable', `[@tenant/store-sql] The database gave no answer within ${timeoutMs} ms`, context),
    );
  };

  // A store made on a transaction (`createSqlTenantStore({ db: trx })`) runs its
  // writes in that transaction, so a caller can make many writes all or nothing.
  const inTransaction = <T>(fn: (trx: AnyTransaction) => Promise<T>): Promise<T> =>
    db.isTransaction ? fn(db as AnyTransaction) : db.transaction().execute(fn);

  const now = () => new Date(clock.now());
  const json = (value: unknown) => JSON.stringify(value);

  const emit = (event: TenantChangeEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A listener must not break writes or other listeners.
      }
    }
  };

  // An invalid id names no stored tenant: it is answered without reaching SQL.
  const checkedId = (id: unknown): string | undefined => {
    try {
      return validateId(id);
    } catch {
      return undefined;
    }
  };

  const toConfig = (row: TenantRow, domains: readonly string[]): TenantConfig => {
    const raw: Record<string, unknown> = {
      id: row.id,
      status: row.status,
      quota: fromJson(row.quota),
      policy: fromJson(row.policy),
      metadata: fromJson(row.metadata),
      domains,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      version: Number(row.version),
    };
    if (row.name !== null) raw['name'] = row.name;
    if (row.plan !== null) raw['plan'] = row.plan;
    if (row.deleted_at !== null) raw['deletedAt'] = row.deleted_at;
    return parseTenantConfig(raw, { validateId });
  };

  const toRow = (tenant: TenantConfig): TenantRow => ({
    id: tenant.id,
    name: tenant.name ?? null,
    status: tenant.status,
    plan: tenant.plan ?? null,
    quota: json(tenant.quota),
    policy: json(tenant.policy),
    metadata: json(tenant.metadata),
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
    deleted_at: tenant.deletedAt ?? null,
    version: tenant.version,
  });

  const domainsOf = async (q: AnyKysely, ids: readonly string[]): Promise<Map<string, string[]>> => {
    const byTenant = new Map<string, string[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byTenant;
    const rows = (await q
      .selectFrom(tables.domains)
      .select(['tenant_id', 'domain'])
      .where('tenant_id', 'in', ids)
      .orderBy('tenant_id')
      .orderBy('position')
      .execute()) as { tenant_id: string; domain: string }[];
    for (const row of rows) byTenant.get(row.tenant_id)?.push(row.domain);
    return byTenant;
  };

  // Locks the row for a write (PostgreSQL and MySQL cannot lock the nullable side of an outer join: two queries).
  const loadForUpdate = async (trx: AnyTransaction, id: string): Promise<TenantConfig | undefined> => {
    let query = trx.selectFrom(tables.tenants).select(TENANT_COLUMNS).where('id', '=', id);
    if (lockRows) query = query.forUpdate();
    const row = (await query.executeTakeFirst()) as TenantRow | undefined;
    if (row === undefined) return undefined;
    return toConfig(row, (await domainsOf(trx, [id])).get(id) ?? []);
  };

  // A read in one round trip: the tenant row once per domain (or once with no domain), in domain order.
  const lookupQuery = (where: 'id' | 'domain', value: string) => {
    const query = db
      .selectFrom(`${tables.tenants} as t`)
      .leftJoin(`${tables.domains} as d`, 'd.tenant_id', 't.id')
      .select([...TENANT_COLUMNS.map((c) => `t.${c}` as const), 'd.domain as domain']);
    return (
      where === 'id'
        ? query.where('t.id', '=', value)
        : query.where('t.id', '=', db.selectFrom(tables.domains).select('tenant_id').where('domain', '=', value))
    ).orderBy('d.position');
  };

  // Without plugins, the SQL of a lookup is the same on every call: it is built
  // and compiled once, and each read only swaps the one parameter (building and
  // compiling the query cost more than the query on a fast driver). A plugin
  // may rewrite a query by context (a tenant scope), so with plugins each read
  // builds its query as before. (A Kysely instance's plugins are fixed when it is made.)
  let precompiled: boolean | undefined;
  const compiledLookups = new Map<'id' | 'domain', CompiledQuery>();
  const compiledLookup = (where: 'id' | 'domain', value: string): CompiledQuery | undefined => {
    if (precompiled === undefined) {
      const plugins: unknown = db.getExecutor().plugins;
      precompiled = Array.isArray(plugins) && plugins.length === 0;
    }
    if (!precompiled) return undefined;
    let query = compiledLookups.get(where);
    if (query === undefined) {
      const marker = `\u0000tenant-lookup-${where}`;
      query = lookupQuery(where, marker).compile();
      // One parameter, the looked-up value; anything else is built per call.
      if (query.parameters.length !== 1 || query.parameters[0] !== marker) {
        precompiled = false;
        return undefined;
      }
      compiledLookups.set(where, query);
    }
    return { ...query, parameters: [value] };
  };

  const loadWhere = async (where: 'id' | 'domain', value: string): Promise<TenantConfig | undefined> => {
    const compiled = compiledLookup(where, value);
    const rows = (compiled === undefined ? await lookupQuery(where, value).execute() : (await db.executeQuery(compiled)).rows) as (TenantRow & {
      domain: string | null;
    })[];
    const first = rows[0];
    if (first === undefined) return undefined;
    const domains: string[] = [];
    for (const row of rows) if (row.domain !== null) domains.push(row.domain);
    return toConfig(first, domains);
  };

  const insertDomains = async (trx: AnyTransaction, tenant: TenantConfig) => {
    let position = 0;
    for (const domain of tenant.domains) {
      try {
        await trx
          .insertInto(tables.domains)
          .values({ domain, tenant_id: tenant.id, position, is_primary: position === 0 ? 1 : 0, verified_at: null })
          .execute();
      } catch (cause) {
        if (!isUniqueViolation(cause)) throw cause;
        throw new TenantError('domain_taken', `[@tenant/store-sql] Domain ${domain} belongs to another tenant`, {
          cause,
          tenantId: tenant.id,
          details: { domain },
        });
      }
      position += 1;
    }
  };

  const checkVersion = (tenant: TenantConfig, writeOptions: WriteOptions | undefined) => {
    const expected = writeOptions?.expectedVersion;
    if (expected !== undefined && expected !== tenant.version) {
      throw new TenantError('version_conflict', `[@tenant/store-sql] Tenant ${tenant.id} is at version ${tenant.version}, not ${String(expected)}`, {
        tenantId: tenant.id,
        details: { currentVersion: tenant.version },
      });
    }
  };

  /**
   * Loads and locks the tenant, lets `change` compute the next config (or
   * return the current one for a no-op), writes it, and emits the event
   * after the commit.
   */
  const write = async (
    id: string,
    type: TenantChangeEvent['type'],
    writeOptions: WriteOptions | undefined,
    change: (current: TenantConfig) => TenantConfig,
  ): Promise<TenantConfig> => {
    const result = await inTransaction(async (trx) => {
      const checked = checkedId(id);
      const current = checked === undefined ? undefined : await loadForUpdate(trx, checked);
      if (current === undefined) {
        throw new TenantError('tenant_not_found', '[@tenant/store-sql] No tenant with this id', { tenantId: String(id) });
      }
      checkVersion(current, writeOptions);
      const next = change(current);
      if (next === current) return { next, current, changed: false };
      const { id: _id, created_at: _createdAt, ...row } = toRow(next);
      const updated = await trx.updateTable(tables.tenants).set(row).where('id', '=', id).where('version', '=', current.version).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) {
        throw new TenantError('version_conflict', `[@tenant/store-sql] Tenant ${id} changed during the update`, { tenantId: id });
      }
      if (next.domains !== current.domains) {
        await trx.deleteFrom(tables.domains).where('tenant_id', '=', id).execute();
        await insertDomains(trx, next);
      }
      return { next, current, changed: true };
    });
    if (result.changed) emit({ type, id: result.next.id, tenant: result.next, previous: result.current });
    return result.next;
  };

  const store: SqlTenantStore = {
    dialect,
    tables: Object.freeze({ tenants: tables.tenants, domains: tables.domains }),

    async get(id) {
      const checked = checkedId(id);
      return checked === undefined ? undefined : bounded(() => loadWhere('id', checked), checked);
    },

    async getByDomain(domain) {
      const host = typeof domain === 'string' ? normalizeHost(domain) : undefined;
      if (host === undefined) return undefined;
      return bounded(() => loadWhere('domain', host));
    },

    async list(query: TenantListQuery = {}): Promise<TenantPage> {
      const limit = pageLimit(query.limit);
      const statuses = statusFilter(query.status);
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, validateId);
      if (statuses.length === 0) return { items: [] };
      let select = db.selectFrom(tables.tenants).select(TENANT_COLUMNS).where('status', 'in', statuses);
      if (query.plan !== undefined) select = select.where('plan', '=', query.plan);
      if (after !== undefined) select = select.where('id', '>', after);
      return bounded(async () => {
        const rows = (await select.orderBy('id').limit(limit + 1).execute()) as TenantRow[];
        const page = rows.slice(0, limit);
        const domains = await domainsOf(db, page.map((row) => row.id));
        const items = page.map((row) => toConfig(row, domains.get(row.id) ?? []));
        return rows.length > limit ? { items, nextCursor: encodeCursor((items[items.length - 1] as TenantConfig).id) } : { items };
      });
    },

    async create(input: TenantInput) {
      const tenant = createTenantConfig(input, { now: now(), validateId });
      await inTransaction(async (trx) => {
        try {
          await trx.insertInto(tables.tenants).values(toRow(tenant)).execute();
        } catch (cause) {
          if (!isUniqueViolation(cause)) throw cause;
          throw new TenantError('tenant_exists', `[@tenant/store-sql] A tenant with id ${tenant.id} already exists`, { cause, tenantId: tenant.id });
        }
        await insertDomains(trx, tenant);
      });
      emit({ type: 'created', id: tenant.id, tenant });
      return tenant;
    },

    update(id: string, patch: TenantPatch, writeOptions?: WriteOptions) {
      return write(id, 'updated', writeOptions, (current) => {
        if (current.status === 'deleted') {
          throw new TenantError('tenant_deleted', `[@tenant/store-sql] Tenant ${id} is deleted: restore it before changing it`, { tenantId: id });
        }
        return applyTenantPatch(current, patch, { now: now() });
      });
    },

    delete(id, writeOptions) {
      return write(id, 'deleted', writeOptions, (current) => {
        if (current.status === 'deleted') return current;
        const at = now().toISOString();
        return deepFreeze({ ...current, status: 'deleted', deletedAt: at, updatedAt: at, version: current.version + 1 });
      });
    },

    restore(id, restoreOptions = {}) {
      return write(id, 'restored', restoreOptions, (current) => {
        if (current.status !== 'deleted') return current;
        const { deletedAt: _deletedAt, ...rest } = current;
        return applyTenantPatch({ ...rest, status: 'active' }, { status: restoreOptions.status ?? 'active' }, { now: now() });
      });
    },

    async setDomainVerified(domain, verifiedAt) {
      const host = typeof domain === 'string' ? normalizeHost(domain) : undefined;
      if (host === undefined) return false;
      const result = await db
        .updateTable(tables.domains)
        .set({ verified_at: verifiedAt === null ? null : verifiedAt.toISOString() })
        .where('domain', '=', host)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    subscribe(listener): Unsubscribe {
      const entry: TenantChangeListener = (event) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
  return store;
}
