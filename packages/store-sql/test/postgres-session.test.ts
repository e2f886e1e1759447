// PostgreSQL session state on a pool of ONE connection: whatever a tenant wrapper's
// body sets at session level (SET, SET SESSION, RESET, set_config(..., false),
// SET ROLE, ...), in any spelling, must not reach the next, unwrapped user of the
// connection. The pool connects as an application role of its own (LOGIN,
// NOSUPERUSER, NOBYPASSRLS), so RLS applies to it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type KyselyPlugin, type Migration } from 'kysely';
import { TenantError } from '@tenant/core';
import { createSchemaPerTenant, enableRowLevelSecurity, withTenantTransaction, type SchemaPerTenant } from '../src/index.js';
import type { AnyKysely, AnyTransaction } from '../src/dialect.js';
import { postgres, postgresAs, uniquePrefix } from './dialects.js';
import { SEED, seededRandom } from './random.js';

const prefix = uniquePrefix('pss');
const app = `${prefix}app`;
const bypass = `${prefix}bypass`;
const password = randomBytes(12).toString('hex');
const docs = `${prefix}docs`;
const deferred = `${prefix}deferred`;
const random = seededRandom(SEED);

const appPool = (plugins: KyselyPlugin[] = []): AnyKysely => postgresAs(app, password, plugins);

/** Random upper/lower case, per character (SQL keywords, and GUC names, which PostgreSQL matches case-insensitively even when quoted). */
const anyCase = (text: string) => [...text].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

type Target = 'tenant' | 'search_path' | 'role' | 'temp';
/** What a statement leaves in effect: `other` (not the wrapper's value), `own` (the wrapper's value), `reset` (the default). */
type Effect = 'other' | 'own' | 'reset';
interface Spelling {
  readonly sql: string;
  readonly target: Target;
  readonly effect: Effect;
  /** SET LOCAL / set_config(..., true): ends with the transaction anyway. */
  readonly local: boolean;
}

/** The ways to spell a setting's name in SET / RESET. */
function nameSpellings(name: string): string[] {
  if (!name.includes('.')) return [name, anyCase(name), `"${anyCase(name)}"`];
  const [ns, key] = name.split('.') as [string, string];
  return [name, anyCase(name), `"${anyCase(ns)}"."${anyCase(key)}"`, `"${ns}".${anyCase(key)}`, `${anyCase(ns)}."${key}"`, `"${anyCase(name)}"`];
}

/** The ways to write a value in SET. */
function valueSpellings(value: string): string[] {
  const out = [quoteLiteral(value), `E${quoteLiteral(value)}`, `$$${value}$$`];
  if (/^[a-z_][a-z0-9_]*$/.test(value)) out.push(value, `"${value}"`);
  return out;
}

const FALSE = ['false', 'FALSE', "'f'", "'false'", "'off'", "'no'", "'0'", '(1 = 0)', 'not true', 'false::boolean'];
const TRUE = ['true', "'on'", "'t'", '(1 = 1)'];
const SET_CONFIG = ['set_config', 'SET_CONFIG', 'pg_catalog.set_config', '"set_config"', 'PG_CATALOG."set_config"'];

/**
 * Generates the statements that change one setting: SET with and without
 * SESSION / LOCAL, `=` or TO, every name and value spelling, RESET, SET … TO
 * DEFAULT, set_config with every spelling of is_local, in a select list, in
 * FROM, and inside DO blocks (PERFORM and EXECUTE).
 */
function spellings(target: Target, name: string, values: Readonly<Record<'own' | 'other', readonly string[]>>, extra: readonly Spelling[] = []): Spelling[] {
  const out: Spelling[] = [...extra];
  const names = nameSpellings(name);
  for (const effect of ['own', 'other'] as const) {
    for (const value of values[effect]) {
      for (const n of names) {
        for (const mode of ['', 'SESSION ', 'LOCAL '] as const) {
          const v = pick(valueSpellings(value));
          out.push({ sql: `${anyCase(`set ${mode}`)}${n} ${anyCase(pick(['=', 'to']))} ${v}`, target, effect, local: mode === 'LOCAL ' });
        }
      }
      // Every spelling of is_local false, each with one of the spellings of the function.
      const args = (local: string) => `${quoteLiteral(pick([name, anyCase(name)]))}, ${pick([quoteLiteral(value), `$$${value}$$`])}, ${local}`;
      FALSE.forEach((f, i) => out.push({ sql: `${anyCase('select')} ${SET_CONFIG[i % SET_CONFIG.length]}(${args(f)})`, target, effect, local: false }));
      out.push({ sql: `select * from ${pick(SET_CONFIG)}(${args(pick(FALSE))})`, target, effect, local: false });
      out.push({ sql: `select ${pick(SET_CONFIG)}(${args(pick(TRUE))})`, target, effect, local: true });
      out.push({ sql: `do $do$ begin perform set_config(${quoteLiteral(anyCase(name))}, ${quoteLiteral(value)}, false); end $do$`, target, effect, local: false });
      const inner = `${anyCase('set session')} ${pick(names)} = ${quoteLiteral(value)}`;
      out.push({ sql: `do $do$ begin execute ${quoteLiteral(inner)}; end $do$`, target, effect, local: false });
    }
  }
  for (const n of names) {
    out.push({ sql: `${anyCase('reset')} ${n}`, target, effect: 'reset', local: false });
    out.push({ sql: `${anyCase(pick(['set', 'set session']))} ${n} ${anyCase(pick(['to', '=']))} ${anyCase('default')}`, target, effect: 'reset', local: false });
    out.push({ sql: `${anyCase('set local')} ${n} ${anyCase('to default')}`, target, effect: 'reset', local: true });
  }
  // RESET ALL resets the tenant setting too (and search_path).
  if (target === 'tenant') out.push({ sql: anyCase('reset all'), target, effect: 'reset', local: false });
  return out;
}

describe('PostgreSQL session state through a pool of one connection', () => {
  const admin = postgres(2);
  let db: AnyKysely;
  let adminSchemas: SchemaPerTenant;
  let schemas: SchemaPerTenant;
  let defaultPath: string;
  const tenantMigrations: Record<string, Migration> = {
    '001_notes': { up: (d) => d.schema.createTable('notes').addColumn('body', 'text').execute() },
  };

  /** The next, unwrapped user of the one pooled connection: what does it see? */
  const probe = async (on: AnyKysely = db) =>
    (
      await sql<{ pid: number; tenant: string | null; search_path: string; current_user: string; session_user: string; visible: string; temp: string }>`
        select pg_backend_pid() as pid, current_setting('app.tenant_id', true) as tenant, current_setting('search_path') as search_path,
               current_user, session_user, (select count(*) from ${sql.table(`public.${docs}`)}) as visible,
               (select count(*) from pg_class where relnamespace = pg_my_temp_schema()) as temp`.execute(on)
    ).rows[0] as { pid: number; tenant: string | null; search_path: string; current_user: string; session_user: string; visible: string; temp: string };

  const expectClean = async (pid?: number, on: AnyKysely = db) => {
    const state = await probe(on);
    expect([null, '']).toContain(state.tenant);
    expect(state.search_path).toBe(defaultPath);
    expect(state.current_user).toBe(app);
    expect(state.session_user).toBe(app);
    expect(Number(state.visible)).toBe(0); // RLS: no tenant, no rows (the table has acme, globex and '' rows)
    expect(Number(state.temp)).toBe(0); // no temporary relation shadows a table
    if (pid !== undefined) expect(state.pid).toBe(pid);
    return state;
  };

  beforeAll(async () => {
    await sql`create role ${sql.id(app)} login password ${sql.lit(password)} nosuperuser nobypassrls`.execute(admin);
    await sql`create role ${sql.id(bypass)} nologin bypassrls`.execute(admin);
    await sql`grant ${sql.id(bypass)} to ${sql.id(app)}`.execute(admin);
    await sql`create table ${sql.table(docs)} (tenant_id text not null, body text not null)`.execute(admin);
    await sql`insert into ${sql.table(docs)} values ('acme', 'a1'), ('globex', 'g1'), ('', 'nobody')`.execute(admin);
    await sql`grant select, insert on ${sql.table(docs)} to ${sql.id(app)}, ${sql.id(bypass)}`.execute(admin);
    await sql`create table ${sql.table(deferred)} (id int, constraint ${sql.id(`${deferred}_u`)} unique (id) deferrable initially deferred)`.execute(admin);
    await sql`grant insert on ${sql.table(deferred)} to ${sql.id(app)}`.execute(admin);
    await enableRowLevelSecurity(admin, { tables: [docs] });
    adminSchemas = createSchemaPerTenant({ db: admin, migrations: tenantMigrations, schemaPrefix: prefix });
    for (const slug of ['acme', 'globex']) {
      await adminSchemas.provision(slug);
      await sql`grant usage on schema ${sql.id(adminSchemas.schemaName(slug))} to ${sql.id(app)}`.execute(admin);
    }
    db = appPool();
    schemas = createSchemaPerTenant({ db, migrations: tenantMigrations, schemaPrefix: prefix });
    defaultPath = (await sql<{ p: string }>`select current_setting('search_path') as p`.execute(db)).rows[0]?.p as string;
  });

  afterAll(async () => {
    await db?.destroy();
    for (const slug of ['acme', 'globex']) await adminSchemas.drop(slug);
    await sql`drop table if exists ${sql.table(docs)}, ${sql.table(deferred)}`.execute(admin);
    // The pool is closed; end any connection of the role still open (a terminated test connection), then drop it.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${app}`.execute(admin);
    await sql`drop owned by ${sql.id(app)}, ${sql.id(bypass)}`.execute(admin);
    await sql`drop role if exists ${sql.id(app)}`.execute(admin);
    await sql`drop role if exists ${sql.id(bypass)}`.execute(admin);
    await admin.destroy();
  });

  const tenantSpellings = () => spellings('tenant', 'app.tenant_id', { own: ['acme'], other: ['globex', 'acme ', 'ACME'] });
  const pathSpellings = () => {
    const acme = `${prefix}acme`;
    const globex = `${prefix}globex`;
    return spellings('search_path', 'search_path', { own: [`"${acme}"`], other: [globex, `${globex}, public`, 'public', 'pg_catalog'] }, [
      { sql: `${anyCase('set schema')} ${quoteLiteral(globex)}`, target: 'search_path', effect: 'other', local: false },
      { sql: `update pg_settings set setting = ${quoteLiteral(globex)} where name = 'search_path'`, target: 'search_path', effect: 'other', local: false },
      { sql: `${anyCase('set session search_path to')} "${globex}", "$user", public`, target: 'search_path', effect: 'other', local: false },
    ]);
  };
  const roleSpellings = (): Spelling[] => [
    ...['', 'SESSION '].flatMap((mode) => [bypass, `"${bypass}"`].map((r) => ({ sql: `${anyCase(`set ${mode}role`)} ${r}`, target: 'role' as const, effect: 'other' as const, local: false }))),
    { sql: `select set_config('role', ${quoteLiteral(bypass)}, false)`, target: 'role', effect: 'other', local: false },
    { sql: `set local role ${bypass}`, target: 'role', effect: 'other', local: true },
  ];

  /** Temporary relations outlive the transaction and come first in name resolution: a tenant's temporary `docs` would shadow the table. */
  const tempSpellings = (): Spelling[] => {
    const steal = `select 'globex'::text as tenant_id, 'stolen'::text as body`;
    const made = [
      `create temp table ${docs} as ${steal}`,
      `CREATE TEMPORARY TABLE ${docs} (tenant_id text, body text)`,
      `create local temporary table if not exists ${docs} (tenant_id text, body text)`,
      `create temp view ${docs} as ${steal}`,
      `create temp sequence ${docs}_seq`,
      `select * into temp table ${docs} from (${steal}) s`,
      `create table pg_temp.${docs} (tenant_id text, body text)`,
      `create table PG_TEMP.${docs} (tenant_id text, body text)`,
      `do $do$ begin execute 'create temp table ${docs} (tenant_id text)'; end $do$`,
    ].map((text) => ({ sql: text.startsWith('do ') ? text : anyCase(text.slice(0, 6)) + text.slice(6), target: 'temp' as const, effect: 'other' as const, local: false }));
    // Gone at commit: refused all the same (the check runs before the commit), and never leaks.
    made.push({ sql: `create temp table ${docs} (tenant_id text) on commit drop`, target: 'temp', effect: 'other', local: true });
    return made;
  };

  /**
   * Runs each spelling in a wrapper, and checks the outcome (a change of what
   * the wrapper owns is refused) and, above all, that the next unwrapped user
   * of the same connection sees no tenant, the default search_path and the
   * connection's own role.
   */
  async function runAll(
    wrapper: (body: (trx: AnyTransaction) => Promise<void>) => Promise<unknown>,
    owns: (target: Target) => boolean,
    cases: readonly Spelling[],
  ) {
    const { pid } = await expectClean();
    let refused = 0;
    for (const spelling of cases) {
      const outcome = await wrapper(async (trx) => {
        await sql.raw(spelling.sql).execute(trx);
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      const mustRefuse = owns(spelling.target) && spelling.effect !== 'own';
      try {
        if (mustRefuse) expect(TenantError.is(outcome, 'isolation_violation')).toBe(true);
        else if (!owns(spelling.target)) expect(outcome).toBeUndefined();
        // A change to the wrapper's own value (spelled the same or not) may pass or be refused.
        else if (outcome !== undefined) expect(TenantError.is(outcome, 'isolation_violation')).toBe(true);
        if (outcome !== undefined) refused += 1;
        await expectClean(pid);
      } catch (error) {
        throw new Error(`spelling ${JSON.stringify(spelling.sql)} (seed ${SEED}): ${String(error)}`, { cause: error });
      }
    }
    return refused;
  }

  /** Without a wrapper, the same statements do leak: the probe sees them (so the checks above can fail). */
  async function controlLeaks(cases: readonly Spelling[]) {
    let leaked = 0;
    for (const spelling of cases.filter((s) => !s.local && s.effect === 'other')) {
      await db.transaction().execute((trx) => sql.raw(spelling.sql).execute(trx));
      const state = await probe();
      const dirty =
        state.current_user !== app || state.search_path !== defaultPath || ![null, ''].includes(state.tenant) || Number(state.visible) !== 0 || Number(state.temp) !== 0;
      if (!dirty) throw new Error(`control: ${spelling.sql} left no trace`);
      leaked += 1;
      await sql`reset role`.execute(db);
      await sql`reset all`.execute(db);
      await sql`discard temp`.execute(db);
    }
    await expectClean();
    return leaked;
  }

  it('withTenantTransaction: no spelling of a session-level change reaches the next user', async () => {
    const cases = [...tenantSpellings(), ...pathSpellings(), ...roleSpellings(), ...tempSpellings()];
    expect(cases.length).toBeGreaterThan(200);
    const refused = await runAll((body) => withTenantTransaction(db, 'acme', body), (target) => target === 'tenant' || target === 'temp', cases);
    expect(refused).toBeGreaterThanOrEqual(cases.filter((c) => (c.target === 'tenant' || c.target === 'temp') && c.effect !== 'own').length);
    expect(await controlLeaks(cases)).toBe(cases.filter((c) => !c.local && c.effect === 'other').length);
  });

  it('withTenantSchema: no spelling of a session-level change reaches the next user', async () => {
    const cases = [...tenantSpellings(), ...pathSpellings(), ...roleSpellings(), ...tempSpellings()];
    const refused = await runAll((body) => schemas.withTenantSchema('acme', body), (target) => target !== 'role', cases);
    expect(refused).toBeGreaterThanOrEqual(cases.filter((c) => c.target !== 'role' && c.effect !== 'own').length);
  });

  it('the body sees its tenant; after it the connection is clean whether the body throws, the commit fails or the connection breaks', async () => {
    const { pid } = await expectClean();
    // The wrapper works: inside, the tenant's rows only.
    const rows = await withTenantTransaction(db, 'acme', (trx) => sql<{ body: string }>`select body from ${sql.table(docs)}`.execute(trx).then((r) => r.rows));
    expect(rows).toEqual([{ body: 'a1' }]);
    // A temporary table dropped before the end is fine; one left behind is refused (see the spellings).
    const temp = await withTenantTransaction(db, 'acme', async (trx) => {
      await sql.raw(`create temp table ${prefix}scratch as select 1 as n`).execute(trx);
      const n = await sql.raw(`select count(*) as n from ${prefix}scratch`).execute(trx);
      await sql.raw(`drop table ${prefix}scratch`).execute(trx);
      return n.rows;
    });
    expect(temp).toEqual([{ n: '1' }]);
    await expectClean(pid);
    // A session that already has a temporary table of its own (made outside any wrapper): left alone, and a new one still refused.
    await sql.raw(`create temp table ${prefix}own (n int)`).execute(db);
    await withTenantTransaction(db, 'acme', (trx) => sql.raw(`select count(*) from ${prefix}own`).execute(trx));
    await expect(withTenantTransaction(db, 'acme', (trx) => sql.raw(`create temp table ${prefix}more (n int)`).execute(trx))).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
    await expect(withTenantTransaction(db, 'acme', (trx) => sql.raw(`drop table ${prefix}own; create temp table ${prefix}own (n int)`).execute(trx))).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
    await sql.raw(`drop table ${prefix}own`).execute(db);
    await expectClean(pid);
    // A body that swallowed a database error: the transaction is aborted, and that is reported, not a silent rollback.
    await expect(
      withTenantTransaction(db, 'acme', async (trx) => {
        await sql`select 1 / 0`.execute(trx).catch(() => undefined);
      }),
    ).rejects.toThrow(/current transaction is aborted/);
    await expectClean(pid);
    // The body throws after a session-level SET of its own value, search_path and role.
    const leaky = async (trx: AnyTransaction, tenant = 'acme') => {
      await sql.raw(`set session app.tenant_id = '${tenant}'`).execute(trx);
      await sql.raw(`set search_path = "${prefix}globex"`).execute(trx);
      await sql.raw(`set role ${bypass}`).execute(trx);
    };
    await expect(withTenantTransaction(db, 'acme', async (trx) => { await leaky(trx); throw new Error('boom'); })).rejects.toThrow('boom');
    await expectClean(pid);
    // The commit fails (a deferred unique constraint).
    const commitFails = withTenantTransaction(db, 'acme', async (trx) => {
      await sql`insert into ${sql.table(deferred)} values (1), (1)`.execute(trx);
      await leaky(trx);
    });
    await expect(commitFails).rejects.toThrow(/duplicate key|unique/);
    await expectClean(pid);
    // The body ends the wrapper's transaction itself, then changes the session outside it: refused, and reset.
    for (const tenant of ['acme', 'globex']) {
      await expect(
        withTenantTransaction(db, 'acme', async (trx) => {
          await sql`commit`.execute(trx);
          await leaky(trx, tenant);
        }),
      ).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
      await expectClean(pid);
    }
    // ... and so is a body that commits and begins a transaction of its own.
    await expect(
      withTenantTransaction(db, 'acme', async (trx) => {
        await sql`commit`.execute(trx);
        await leaky(trx);
        await sql`begin`.execute(trx);
      }),
    ).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
    await expectClean(pid);
    // The connection breaks: the pool discards it; the next user gets a fresh, clean one.
    await expect(
      withTenantTransaction(db, 'acme', async (trx) => {
        await sql`set session app.tenant_id = 'acme'`.execute(trx);
        await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
      }),
    ).rejects.toThrow();
    const fresh = await expectClean();
    expect(fresh.pid).not.toBe(pid);
  });

  it('a reset that fails rolls the transaction back, or, after it, closes the connection instead of handing it on (fault injected)', async () => {
    let armed: 'in-transaction' | 'after' | undefined;
    // The in-transaction reset is the one statement that sets values both at session level (false) and locally (true);
    // the reset after a failed transaction only at session level.
    const failReset: KyselyPlugin = {
      transformQuery(args) {
        const text = JSON.stringify(args.node);
        const session = text.includes('"session_authorization"') && text.includes('"sqlFragments":["false"]');
        const local = text.includes('"sqlFragments":["true"]');
        if ((armed === 'in-transaction' && session && local) || (armed === 'after' && session && !local)) throw new Error(`injected ${armed} reset failure`);
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    };
    const faulty = appPool([failReset]);
    const bodies = () => withTenantTransaction(faulty, 'acme', (trx) => sql<{ body: string }>`select body from ${sql.table(docs)} order by body`.execute(trx).then((r) => r.rows.map((x) => x.body)));
    try {
      const { pid } = await expectClean(undefined, faulty);
      // The reset inside the transaction fails: the transaction rolls back, the session SET with it; same connection, clean.
      armed = 'in-transaction';
      const rolledBack = withTenantTransaction(faulty, 'acme', async (trx) => {
        await sql`select set_config('app.tenant_id', 'acme', false)`.execute(trx);
        await sql`insert into ${sql.table(docs)} values ('acme', 'never-committed')`.execute(trx);
      });
      await expect(rolledBack).rejects.toThrow('injected in-transaction reset failure');
      armed = undefined;
      await expectClean(pid, faulty);
      expect(await bodies()).toEqual(['a1']);
      // The body escapes the transaction and sets the session; the reset after it fails: the connection is closed.
      armed = 'after';
      const escaped = withTenantTransaction(faulty, 'acme', async (trx) => {
        await sql`commit`.execute(trx);
        await sql`select set_config('app.tenant_id', 'acme', false)`.execute(trx);
      });
      await expect(escaped).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
      armed = undefined;
      const after = await expectClean(undefined, faulty);
      expect(after.pid).not.toBe(pid);
      // A failing body keeps its own error (the connection is closed all the same when the reset after it fails).
      armed = 'after';
      await expect(withTenantTransaction(faulty, 'acme', () => Promise.reject(new Error('own error')))).rejects.toThrow('own error');
      armed = undefined;
      expect((await expectClean(undefined, faulty)).pid).not.toBe(after.pid);
    } finally {
      await faulty.destroy();
    }
  });
});
