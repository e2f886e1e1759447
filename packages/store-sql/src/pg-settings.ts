import { TenantError } from '@tenant/interfaces';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { AnyKysely, AnyTransaction } from './dialect.js';

/**
 * Sets a PostgreSQL setting for the current transaction only
 * (`set_config(name, value, true)`, with bind parameters: the value never
 * becomes SQL text). Built with the query builder, so the row-level plugin
 * lets it through.
 */
export async function setLocal(trx: AnyTransaction, name: string, value: string): Promise<void> {
  await (trx as AnyKysely)
    .selectNoFrom((eb) => eb.fn('set_config', [eb.val(name), eb.val(value), sql<boolean>`true`]).as('value'))
    .execute();
}

const CUSTOM_SETTING = /^([a-z_][a-z0-9_]*)\.[a-z_][a-z0-9_]*$/;
// Namespaces of PostgreSQL itself and of common extensions: their settings are
// real parameters (or reserved prefixes), not a free place for a tenant id.
const RESERVED_NAMESPACES = /^(?:pg_.*|plpgsql|plperl|plpython[23]?u?|pltcl|auto_explain|postgres_fdw|sepgsql|basic_archive|basebackup_to_shell|citus|timescaledb|pgaudit|pgsodium|pgrst)$/;

/**
 * Checks the name of the setting that carries the tenant id: a custom
 * PostgreSQL setting `namespace.name`, each part lower-case letters, digits
 * and `_` (like `app.tenant_id`), at most 63 characters. Everything else is
 * refused with a TypeError: a name without a dot is a built-in parameter
 * (`search_path`, `role`, `session_authorization`, …) that the tenant id must
 * never be written to; quotes, spaces and other characters have no business
 * in it; `pg_*`, `plpgsql` and common extension namespaces hold real settings.
 */
export function checkTenantSetting(value: unknown, what: string): string {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : typeof value;
  const match = typeof value === 'string' && value.length <= 63 ? CUSTOM_SETTING.exec(value) : null;
  if (match === null) {
    throw new TypeError(`[@tenant/store-sql] ${what} must be a custom setting "namespace.name" of lower-case letters, digits and _ (like app.tenant_id), at most 63 characters, never a built-in parameter such as search_path or role; got ${shown}`);
  }
  if (RESERVED_NAMESPACES.test(match[1] as string)) {
    throw new TypeError(`[@tenant/store-sql] ${what} must not use the namespace "${match[1]}", which belongs to PostgreSQL or an extension: use your own, like app.tenant_id; got ${shown}`);
  }
  return value as string;
}

/** The session state a tenant wrapper restores on its connection. */
interface SessionBaseline {
  readonly searchPath: string;
  readonly role: string;
  readonly sessionAuthorization: string;
  /** The session's temporary relations (their oids), which the transaction must leave as they were. */
  readonly temp: string;
  /** `transaction_timestamp()` of the wrapper's transaction, to tell that `fn` did not end it. */
  readonly transaction: string;
}

// This session's temporary schema (0 until the session creates a temporary
// object). A temporary table outlives the transaction that made it (unless
// ON COMMIT DROP), and `pg_temp` comes first in name resolution: a tenant's
// temporary `orders` would be what the next user of the connection reads as
// `orders`. Only a session that has a temporary schema pays for listing it.
const TEMP_SCHEMA = sql<string>`pg_catalog.pg_my_temp_schema()::text`;

/** The oids of the session's temporary relations ('' when it has no temporary schema). */
async function tempRelations(trx: AnyKysely, schema: string): Promise<string> {
  if (schema === '0') return '';
  const row = (await trx
    .selectFrom('pg_catalog.pg_class as c')
    .where('c.relnamespace', '=', sql<number>`pg_catalog.pg_my_temp_schema()`)
    .select(sql<string>`coalesce(string_agg(c.oid::text, ',' order by c.oid), '')`.as('oids'))
    .executeTakeFirstOrThrow()) as { oids: string };
  return row.oids;
}

/** What a tenant wrapper owns for the length of its transaction. */
export interface OwnedSession {
  /** The wrapper's name, for error messages. */
  readonly what: string;
  /** The settings set with `set_config(…, true)` at the start; a change of any of them by `fn` is refused. */
  readonly locals: readonly (readonly [name: string, value: string])[];
  /** The tenant setting, set back to `''` at session level; `false` when the wrapper sets none. */
  readonly tenantSetting: string | false;
  /** Runs first in the transaction (checks that may refuse with a TenantError). */
  readonly before?: (trx: AnyTransaction) => Promise<void>;
  /** The tenant, for errors. */
  readonly tenantId: string;
}

function isolationViolation(message: string, tenantId: string, cause?: unknown): TenantError {
  return new TenantError('isolation_violation', `[@tenant/store-sql] ${message}`, { tenantId, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Runs `fn` in a transaction that owns some PostgreSQL session state, on ONE
 * pooled connection, and leaves that connection as it found it:
 *
 * 1. in the transaction, reads the session's `search_path`, `role`,
 *    `session_authorization` and temporary schema, then sets `owned.locals`
 *    with `set_config(…, true)` (one statement);
 * 2. after `fn`, still in the transaction, in one statement: reads the owned
 *    settings again, sets the tenant setting to `''` and `search_path`,
 *    `role` and `session_authorization` back to what they were **at session
 *    level** (overriding whatever `fn` set there), then sets the
 *    transaction's current values again locally, for the rest of it. At
 *    commit the session-level values are what remains; if anything fails,
 *    the rollback reverts every `SET` of the transaction, `fn`'s too;
 * 3. refuses, with `isolation_violation` (the transaction rolls back), an
 *    owned setting that `fn` changed (`SET`, `SET SESSION`, `RESET`,
 *    `set_config(…)`), a temporary relation created or dropped by `fn`, and
 *    a transaction that `fn` ended itself (its own `commit`);
 * 4. on every failure path (where `fn` may have escaped the transaction),
 *    resets the session again on the same connection once the transaction
 *    has ended; if that fails, terminates the connection's backend
 *    (`pg_terminate_backend(pg_backend_pid())`) and waits until the driver
 *    has seen it close, so the pool discards it rather than hand out a
 *    tainted session (if even that fails, throws `isolation_violation`).
 *
 * node-postgres emits `error` on a client whose connection closes: attach
 * `pool.on('error', …)` and `pool.on('connect', (c) => c.on('error', …))`
 * as its documentation advises, or such an event ends the process.
 */
export async function runOwnedTransaction<DB, R>(db: Kysely<DB>, owned: OwnedSession, fn: (trx: Transaction<DB>) => Promise<R>): Promise<R> {
  return db.connection().execute(async (conn) => {
    let baseline: SessionBaseline | undefined;
    try {
      return await conn.transaction().execute(async (trx) => {
        const any = trx as AnyTransaction;
        await owned.before?.(any);
        const set = await setOwned(any, owned.locals);
        baseline = set.baseline;
        const result = await fn(trx);
        await checkAndReset(any, owned, set.values, set.baseline);
        return result;
      });
    } catch (error) {
      if (baseline !== undefined) {
        const failure = await restoreSession(conn as AnyKysely, owned, baseline);
        if (failure !== undefined && !failure.closed) {
          throw isolationViolation(
            `${owned.what}: the session state of the connection could not be reset after a failed transaction, and the connection could not be closed: discard this pool`,
            owned.tenantId,
            failure.error,
          );
        }
      }
      throw error;
    }
  });
}

/** An expression builder over any schema (see AnyKysely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyExpressionBuilder = ExpressionBuilder<any, any>;

const setting = (eb: AnyExpressionBuilder, name: string, missingOk = false) =>
  eb.fn<string>('current_setting', missingOk ? [eb.val(name), sql<boolean>`true`] : [eb.val(name)]);
const setConfig = (eb: AnyExpressionBuilder, name: string, value: Expression<unknown> | string, local: boolean) =>
  eb.fn<string>('set_config', [eb.val(name), typeof value === 'string' ? eb.val(value) : value, local ? sql<boolean>`true` : sql<boolean>`false`]);
const TRANSACTION = sql<string>`pg_catalog.transaction_timestamp()::text`;

async function setOwned(trx: AnyTransaction, locals: OwnedSession['locals']) {
  // The subquery with OFFSET is not flattened: it reads the session's values
  // before the outer select list sets the transaction's own.
  const db = trx as AnyKysely;
  const session = db
    .selectNoFrom((eb) => [
      setting(eb, 'search_path').as('search_path'),
      setting(eb, 'role').as('role'),
      setting(eb, 'session_authorization').as('session_authorization'),
      TEMP_SCHEMA.as('temp'),
      TRANSACTION.as('transaction'),
    ])
    .offset(0)
    .as('s');
  const row = (await db
    .selectFrom(session)
    .selectAll('s')
    .select((eb) => locals.map(([name, value], i) => setConfig(eb, name, value, true).as(`v${i}`)))
    .executeTakeFirstOrThrow()) as Record<string, string>;
  return {
    baseline: {
      searchPath: String(row['search_path']),
      role: String(row['role']),
      sessionAuthorization: String(row['session_authorization']),
      temp: await tempRelations(db, String(row['temp'])),
      transaction: String(row['transaction']),
    },
    // The values as PostgreSQL stores them, to compare with at the end.
    values: locals.map((_, i) => String(row[`v${i}`])),
  };
}

async function checkAndReset(trx: AnyTransaction, owned: OwnedSession, values: readonly string[], baseline: SessionBaseline): Promise<void> {
  const db = trx as AnyKysely;
  const { tenantSetting } = owned;
  // Each level is a subquery with OFFSET, evaluated before the one around it:
  // read, then session_authorization (setting it resets role), then the
  // session-level values, then the transaction's own values again.
  const read = db
    .selectNoFrom((eb) => [
      TEMP_SCHEMA.as('temp'),
      TRANSACTION.as('transaction'),
      setting(eb, 'search_path').as('search_path'),
      setting(eb, 'role').as('role'),
      setting(eb, 'session_authorization').as('session_authorization'),
      ...(tenantSetting === false ? [] : [setting(eb, tenantSetting, true).as('tenant')]),
      ...owned.locals.map(([name], i) => setting(eb, name, true).as(`v${i}`)),
    ])
    .offset(0)
    .as('r');
  const authorization = db
    .selectFrom(read)
    .selectAll('r')
    .select((eb) =>
      sql<string>`case when ${eb.ref('r.session_authorization')} = ${baseline.sessionAuthorization} then ${eb.ref('r.session_authorization')} else ${setConfig(eb, 'session_authorization', baseline.sessionAuthorization, false)} end`.as('a'),
    )
    .offset(0)
    .as('a');
  const session = db
    .selectFrom(authorization)
    .selectAll('a')
    .select((eb) => [
      setConfig(eb, 'role', baseline.role, false).as('role_session'),
      setConfig(eb, 'search_path', baseline.searchPath, false).as('search_path_session'),
      ...(tenantSetting === false ? [] : [setConfig(eb, tenantSetting, '', false).as('tenant_session')]),
    ])
    .offset(0)
    .as('b');
  const row = (await db
    .selectFrom(session)
    .selectAll('b')
    .select((eb) => [
      setConfig(eb, 'role', eb.ref('b.role'), true).as('role_local'),
      setConfig(eb, 'search_path', eb.ref('b.search_path'), true).as('search_path_local'),
      ...(tenantSetting === false ? [] : [setConfig(eb, tenantSetting, eb.fn.coalesce(eb.ref('b.tenant'), sql<string>`''`), true).as('tenant_local')]),
    ])
    .executeTakeFirstOrThrow()) as Record<string, string | null>;
  if (row['transaction'] !== baseline.transaction) {
    throw isolationViolation(
      `${owned.what}: the callback ended the wrapper's transaction itself (commit or rollback): refused, what followed was rolled back if it could be, and the session reset`,
      owned.tenantId,
    );
  }
  if (row['session_authorization'] !== baseline.sessionAuthorization || row['role_session'] !== baseline.role || row['search_path_session'] !== baseline.searchPath || (tenantSetting !== false && row['tenant_session'] !== '')) {
    throw isolationViolation(`${owned.what}: the session state did not read back as reset: refused, the transaction was rolled back`, owned.tenantId);
  }
  owned.locals.forEach(([name], i) => {
    if (row[`v${i}`] !== values[i]) {
      throw isolationViolation(
        `${owned.what} owns ${name} for the length of its transaction, and the transaction changed it (SET, SET SESSION, RESET or set_config): refused, the transaction was rolled back`,
        owned.tenantId,
      );
    }
  });
  if ((await tempRelations(db, String(row['temp']))) !== baseline.temp) {
    throw isolationViolation(
      `${owned.what}: the transaction created or dropped a temporary table, view or sequence and left it so; temporary relations outlive the transaction on the pooled connection and shadow tables of the same name for its next user: drop what you create before the transaction ends (ON COMMIT DROP is not enough here). Refused, the transaction was rolled back`,
      owned.tenantId,
    );
  }
}

/** Resets the session state; answers the failure when it could not, and whether the connection was closed instead. */
async function restoreSession(conn: AnyKysely, owned: OwnedSession, baseline: SessionBaseline): Promise<{ readonly error: unknown; readonly closed: boolean } | undefined> {
  const { tenantSetting } = owned;
  try {
    // session_authorization first (setting it also resets role), then the rest.
    const authorization = conn
      .selectNoFrom((eb) => [eb.fn<string>('set_config', [eb.val('session_authorization'), eb.val(baseline.sessionAuthorization), sql<boolean>`false`]).as('session_authorization')])
      .offset(0)
      .as('s');
    const row = (await conn
      .selectFrom(authorization)
      .select((eb) => [
        eb.ref('s.session_authorization').as('session_authorization'),
        eb.fn<string>('set_config', [eb.val('role'), eb.val(baseline.role), sql<boolean>`false`]).as('role'),
        eb.fn<string>('set_config', [eb.val('search_path'), eb.val(baseline.searchPath), sql<boolean>`false`]).as('search_path'),
        tenantSetting === false
          ? sql<string>`''`.as('tenant')
          : eb.fn<string>('set_config', [eb.val(tenantSetting), eb.val(''), sql<boolean>`false`]).as('tenant'),
      ])
      .executeTakeFirstOrThrow()) as Record<string, string>;
    if (
      row['session_authorization'] !== baseline.sessionAuthorization ||
      row['role'] !== baseline.role ||
      row['search_path'] !== baseline.searchPath ||
      row['tenant'] !== ''
    ) {
      throw new Error('the session state did not read back as reset');
    }
    return undefined;
  } catch (error) {
    return { error, closed: await closeSession(conn) };
  }
}

/**
 * Fails closed: ends the connection's backend, so that the session and its
 * state are gone, and waits until the driver has seen the connection close
 * (node-postgres marks the client broken, and its pool discards it on
 * release rather than hand it to the next user). Answers whether the
 * connection is known to be closed.
 */
async function closeSession(conn: AnyKysely): Promise<boolean> {
  const ignore = () => undefined;
  // A role set by the transaction may lack the right to signal this backend.
  await conn.selectNoFrom((eb) => eb.fn('set_config', [eb.val('role'), eb.val('none'), sql<boolean>`false`]).as('role')).execute().catch(ignore);
  await conn.selectNoFrom((eb) => eb.fn('pg_terminate_backend', [eb.fn('pg_backend_pid', [])]).as('terminated')).execute().catch(ignore);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await conn.selectNoFrom((eb) => eb.fn('pg_backend_pid', []).as('pid')).execute();
    } catch {
      return true;
    }
  }
  return false;
}
