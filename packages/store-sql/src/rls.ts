import { TenantError } from '@tenant/interfaces';
import { currentTenantId } from '@tenant/core';
import { sql, type Kysely, type Transaction } from 'kysely';
import { checkIdentifier } from './dialect.js';
import { checkTenantSetting, runOwnedTransaction } from './pg-settings.js';
import type { AnyKysely } from './dialect.js';

/** The setting that carries the tenant id into PostgreSQL policies. */
export const DEFAULT_TENANT_SETTING = 'app.tenant_id';

/** Options of {@link enableRowLevelSecurity}. */
export interface RowLevelSecurityOptions {
  /** The tenant tables (`table` or `schema.table`). */
  readonly tables: readonly string[];
  /** The tenant column. @default 'tenant_id' */
  readonly column?: string;
  /** The setting the policy reads. @default 'app.tenant_id' */
  readonly setting?: string;
  /** The policy name. @default 'tenant_isolation' */
  readonly policyName?: string;
}

function checkSetting(setting: string | undefined): string {
  return checkTenantSetting(setting === undefined ? DEFAULT_TENANT_SETTING : setting, 'setting');
}

function tableRef(table: string) {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2) throw new TypeError('[@tenant/store-sql] a table name must be table or schema.table');
  return sql.table(parts.map((part) => checkIdentifier(part, 'a table name')).join('.'));
}

/**
 * Enables and FORCEs PostgreSQL row-level security on the given tables and
 * (re)creates a policy that admits, for reads and writes (`using` and
 * `with check`), only rows whose tenant column equals
 * `nullif(current_setting('app.tenant_id', true), '')`. With the setting
 * absent or empty, no row matches and no row may be written: a connection
 * that has run a tenant transaction before keeps the setting defined as `''`,
 * and `''` must not be a tenant that rows with an empty tenant column belong
 * to. FORCE makes the policy apply to the table owner too; superusers and
 * `BYPASSRLS` roles still bypass it, so run the application as a role
 * without either.
 *
 * Runs in one transaction; idempotent: it drops the policy of that name and
 * creates it again, so re-running it upgrades a policy made by an earlier
 * release (`tenant_id = current_setting(…, true)` without `nullif`, which
 * admitted rows with an empty tenant column on such connections).
 *
 * @example
 * ```ts
 * import { enableRowLevelSecurity, withTenantTransaction } from '@tenant/store-sql';
 *
 * await enableRowLevelSecurity(adminDb, { tables: ['orders'] });
 * await withTenantTransaction(appDb, 'acme', (trx) => trx.selectFrom('orders').selectAll().execute());
 * ```
 */
export async function enableRowLevelSecurity(db: AnyKysely, options: RowLevelSecurityOptions): Promise<void> {
  const column = sql.ref(checkIdentifier(options.column ?? 'tenant_id', 'column'));
  const setting = sql.lit(checkSetting(options.setting));
  const policy = sql.id(checkIdentifier(options.policyName ?? 'tenant_isolation', 'policyName'));
  const tables = options.tables.map(tableRef);
  await db.transaction().execute(async (trx) => {
    for (const table of tables) {
      await sql`alter table ${table} enable row level security`.execute(trx);
      await sql`alter table ${table} force row level security`.execute(trx);
      await sql`drop policy if exists ${policy} on ${table}`.execute(trx);
      const check = sql`${column} = nullif(current_setting(${setting}, true), '')`;
      await sql`create policy ${policy} on ${table} using (${check}) with check (${check})`.execute(trx);
    }
  });
}

/** Drops the policy and disables row-level security on the given tables. */
export async function disableRowLevelSecurity(db: AnyKysely, options: Omit<RowLevelSecurityOptions, 'column' | 'setting'>): Promise<void> {
  const policy = sql.id(checkIdentifier(options.policyName ?? 'tenant_isolation', 'policyName'));
  const tables = options.tables.map(tableRef);
  await db.transaction().execute(async (trx) => {
    for (const table of tables) {
      await sql`drop policy if exists ${policy} on ${table}`.execute(trx);
      await sql`alter table ${table} no force row level security`.execute(trx);
      await sql`alter table ${table} disable row level security`.execute(trx);
    }
  });
}

/** Options of {@link withTenantTransaction}. */
export interface TenantTransactionOptions {
  /** The setting the policies read. @default 'app.tenant_id' */
  readonly setting?: string;
}

/**
 * Runs `fn` in a transaction in which `app.tenant_id` is the tenant's id,
 * set with `set_config(name, id, true)`. `tenantId` defaults to the tenant in
 * context (and throws `tenant_context_missing` without one).
 *
 * The wrapper owns the tenant setting and leaves the pooled connection clean:
 *
 * - the transaction runs on one connection, and `fn` may not change the
 *   setting: a `SET`, `SET SESSION`, `RESET` or `set_config` of it that is
 *   still in effect when `fn` returns is refused with `isolation_violation`
 *   (the transaction rolls back), and so are a temporary relation left
 *   behind and a `commit`/`rollback` of `fn`'s own;
 * - before the commit, one statement sets the tenant setting to `''` and
 *   `search_path`, `role` and `session_authorization` back to the values
 *   they had before, at session level (what the commit keeps): whatever `fn`
 *   set at session level does not reach the next user of the connection; a
 *   rollback reverts it anyway;
 * - on a failure, the session is reset again on the same connection after
 *   the transaction; if that fails, the connection is terminated (the pool
 *   discards it).
 *
 * @example
 * ```ts
 * import { withTenantTransaction } from '@tenant/store-sql';
 *
 * const rows = await withTenantTransaction(db, 'acme', (trx) => sql`select * from orders`.execute(trx));
 * ```
 */
export async function withTenantTransaction<DB, R>(
  db: Kysely<DB>,
  tenantId: string | undefined,
  fn: (trx: Transaction<DB>) => Promise<R>,
  options: TenantTransactionOptions = {},
): Promise<R> {
  const setting = checkSetting(options.setting);
  const id = tenantId ?? currentTenantId();
  if (typeof id !== 'string' || id.length === 0) {
    throw new TenantError('tenant_context_missing', '[@tenant/store-sql] withTenantTransaction needs a tenant id or a tenant in context');
  }
  return runOwnedTransaction(db, { what: 'withTenantTransaction', locals: [[setting, id]], tenantSetting: setting, tenantId: id }, fn);
}
