// The row-level plugin's proof by generated cases, against the real databases.
//
// Each case is one query shape (select, joins, subqueries, set operations,
// insert/upsert, update, delete, returning, raw SQL, CTE, merge...) × one
// identifier spelling (case variants, quoted, schema-qualified, withSchema,
// aliases; the tenant column spelled in any case or as an expression) × one
// path (builder execute, executeQuery of the builder or of its compiled query,
// transaction(), connection(), startTransaction(), stream, and the attacks on
// compiled queries: CompiledQuery.raw, a query compiled by another instance,
// one compiled in another tenant's context), on a scoped instance declared in
// one of several spellings, run as one of three tenants (or none).
//
// The database is snapshotted (every row of every tenant, through an unscoped
// connection) before and after each case. A case passes when:
//  - no row it returns carries another tenant's data (tenant ids, bodies and
//    row ids are unique per tenant);
//  - no other tenant's row changed, and no row appeared for another tenant;
//  - it failed only with a TenantError (isolation_violation or
//    tenant_context_missing) — or, for a spelling the database itself does
//    not accept, with the database's error — and then nothing changed at all;
//  - the shapes the plugin must refuse were refused, and the ones it must run
//    ran (and, for plain reads and writes, did what they say on own rows).
// A failure prints the seed and case number: replay with TEST_SEED=<seed>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledQuery, sql, type Compilable } from 'kysely';
import { createTestTenant } from '@tenant/core/testing';
import { TenantError, runWithTenant, runWithoutTenant, type TenantConfig } from '@tenant/core';
import { unscoped, withTenantScope } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { DIALECTS, MYSQL_URL, uniquePrefix } from './dialects.js';
import { SEED, seededRandom } from './random.js';

const CASES = Number(process.env['ROW_LEVEL_CASES'] ?? 520);
const RESEED_EVERY = 40;
const TENANTS: TenantConfig[] = ['tenant-alpha', 'tenant-bravo', 'tenant-charlie'].map((id) => createTestTenant({ id }));
const TENANT_IDS = TENANTS.map((t) => t.id);

type Row = Record<string, unknown>;
interface Snapshot {
  readonly notes: Row[];
  readonly tags: Row[];
}

/** A query shape, built on a (scoped) instance with the case's spellings. */
interface Shape {
  readonly label: string;
  /** 'builder': a query builder (execute()); 'raw': a RawBuilder (execute(db)). */
  readonly kind: 'builder' | 'raw';
  readonly make: (db: AnyKysely) => Compilable & { execute: (...args: any[]) => Promise<any>; stream?: unknown };
  /** The plugin (not the database) must refuse it. */
  readonly refuse?: boolean;
  /** The database may reject it (a spelling or shape it does not accept). */
  readonly dbMayFail?: boolean;
  /** A read whose rows can be streamed. */
  readonly read?: boolean;
  /** Extra checks on a successful run, with the snapshots and the current tenant. */
  readonly verify?: (rows: Row[], before: Snapshot, after: Snapshot, tenant: string) => void;
}

type Path = 'execute' | 'executeQuery' | 'compiled' | 'transaction' | 'connection' | 'controlled' | 'stream' | 'rawCompiled' | 'foreignCompiled' | 'otherTenantCompiled';
const ATTACK_PATHS: readonly Path[] = ['rawCompiled', 'foreignCompiled', 'otherTenantCompiled'];

function isRefusal(error: unknown): boolean {
  return TenantError.is(error, 'isolation_violation') || TenantError.is(error, 'tenant_context_missing');
}

const ONLY = process.env['ROW_LEVEL_DIALECTS']?.split(',');
for (const dialect of DIALECTS.filter((d) => ONLY === undefined || ONLY.includes(d.name))) {
  describe(`row-level plugin, generated cases on ${dialect.name}`, () => {
    const prefix = uniquePrefix('gen');
    const NOTES = `${prefix}notes`;
    const TAGS = `${prefix}tags`;
    const USERS = `${prefix}users`;
    const schema = dialect.name === 'postgres' ? 'public' : dialect.name === 'sqlite' ? 'main' : new URL(MYSQL_URL).pathname.slice(1) || 'test';
    let admin: AnyKysely;
    let caseInsensitiveTables = dialect.name === 'sqlite';
    const declared: { label: string; db: AnyKysely }[] = [];
    const seedRows: { notes: Row[]; tags: Row[] } = { notes: [], tags: [] };

    beforeAll(async () => {
      admin = dialect.create(4);
      if (dialect.name === 'mysql') {
        const { rows } = await sql<{ l: number }>`select @@lower_case_table_names as l`.execute(admin);
        caseInsensitiveTables = Number(rows[0]?.l) > 0;
      }
      await admin.schema
        .createTable(NOTES)
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('body', 'varchar(200)', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .execute();
      await admin.schema
        .createTable(TAGS)
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('note_id', 'integer', (c) => c.notNull())
        .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('label', 'varchar(200)', (c) => c.notNull())
        .execute();
      await admin.schema.createTable(USERS).addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('name', 'varchar(64)', (c) => c.notNull()).execute();
      await admin.insertInto(USERS).values([1, 2, 3].map((id) => ({ id, name: `user-${id}` }))).execute();
      TENANT_IDS.forEach((tenant, k) => {
        for (let i = 1; i <= 4; i += 1) seedRows.notes.push({ id: (k + 1) * 1000 + i, tenant_id: tenant, body: `${tenant}:note:${i}`, n: i % 3 + 1 });
        // Two tags on own notes, one pointing at the next tenant's note.
        seedRows.tags.push({ id: (k + 1) * 1000 + 101, note_id: (k + 1) * 1000 + 1, tenant_id: tenant, label: `${tenant}:tag:1` });
        seedRows.tags.push({ id: (k + 1) * 1000 + 102, note_id: (k + 1) * 1000 + 2, tenant_id: tenant, label: `${tenant}:tag:2` });
        seedRows.tags.push({ id: (k + 1) * 1000 + 103, note_id: ((k + 1) % 3 + 1) * 1000 + 1, tenant_id: tenant, label: `${tenant}:tag:cross` });
      });
      const up = schema.toUpperCase();
      declared.push(
        { label: 'declared lower-case', db: withTenantScope(admin, { tables: [NOTES, TAGS] }) },
        { label: 'declared upper-case', db: withTenantScope(admin, { tables: [NOTES.toUpperCase(), TAGS.toUpperCase()] }) },
        { label: `declared ${schema}.table`, db: withTenantScope(admin, { tables: [`${schema}.${NOTES}`, `${schema}.${TAGS}`] }) },
        { label: `declared ${up}.TABLE`, db: withTenantScope(admin, { tables: [`${up}.${NOTES.toUpperCase()}`, `${schema}.${TAGS}`] }) },
      );
    });

    afterAll(async () => {
      for (const table of [NOTES, TAGS, USERS]) await admin.schema.dropTable(table).ifExists().execute();
      await admin.destroy();
    });

    async function reseed(): Promise<void> {
      await admin.deleteFrom(TAGS).execute();
      await admin.deleteFrom(NOTES).execute();
      await admin.insertInto(NOTES).values(seedRows.notes).execute();
      await admin.insertInto(TAGS).values(seedRows.tags).execute();
    }

    async function snapshot(): Promise<Snapshot> {
      const notes = (await admin.selectFrom(NOTES).selectAll().orderBy('id').execute()) as Row[];
      const tags = (await admin.selectFrom(TAGS).selectAll().orderBy('id').execute()) as Row[];
      const norm = (rows: Row[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
      return { notes: norm(notes), tags: norm(tags) };
    }

    const othersOf = (s: Snapshot, tenant: string | undefined) => ({
      notes: s.notes.filter((r) => r['tenant_id'] !== tenant),
      tags: s.tags.filter((r) => r['tenant_id'] !== tenant),
    });
    const ownIds = (rows: Row[], tenant: string) => rows.filter((r) => r['tenant_id'] === tenant).map((r) => r['id'] as number);

    it(`has ${CASES} generated cases with 0 cross-tenant reads or writes (seed ${SEED})`, { timeout: 240_000 }, async () => {
      const random = seededRandom(SEED + dialect.name.length * 7919);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
      const chance = (p: number) => random() < p;
      let nextId = 100_000;
      const stats = { ok: 0, refused: 0, dbError: 0, byPath: {} as Record<string, number>, byShape: {} as Record<number, number> };
      let families = 0;

      for (let index = 0; index < CASES; index += 1) {
        if (index % RESEED_EVERY === 0) await reseed();
        // --- the tenant, the declared instance, the spellings ---
        const noTenant = chance(0.06);
        const me = pick(TENANTS);
        const tenant = noTenant ? undefined : me.id;
        const other = pick(TENANT_IDS.filter((id) => id !== me.id));
        const decl = pick(declared);
        const spelling = pick(['lower', 'lower', 'upper', 'mixed', 'schema', 'schemaUpper', 'withSchema', ...(dialect.name === 'sqlite' ? ['temp'] : [])] as const);
        // One draw per name, whatever its length (the prefix's length varies with the pid): a seed replays exactly.
        const mixed = (name: string) => {
          const bits = Math.floor(random() * 2 ** 30);
          return [...name].map((c, i) => ((bits >> i % 30) & 1 ? c.toUpperCase() : c)).join('');
        };
        const spell = (name: string): string => {
          switch (spelling) {
            case 'upper':
              return name.toUpperCase();
            case 'mixed':
              return mixed(name);
            case 'schema':
              return `${schema}.${name}`;
            case 'schemaUpper':
              return `${schema.toUpperCase()}.${name.toUpperCase()}`;
            case 'temp':
              return `temp.${name}`;
            default:
              return name;
          }
        };
        // Whether the database reaches the real table with this spelling.
        const spellingWorks =
          spelling === 'lower' || spelling === 'schema' || spelling === 'withSchema' || ((spelling === 'upper' || spelling === 'mixed' || spelling === 'schemaUpper') && caseInsensitiveTables);
        const N = spell(NOTES);
        const G = spell(TAGS);
        const U = spelling === 'withSchema' ? USERS : spelling === 'schema' ? `${schema}.${USERS}` : USERS;
        const colSpelling = pick(['tenant_id', 'tenant_id', 'TENANT_ID', 'Tenant_Id']);
        const columnWorks = colSpelling === 'tenant_id' || dialect.name !== 'postgres';
        const returning = dialect.name !== 'mysql';
        const target = chance(0.5) ? pick(seedRows.notes.filter((r) => r['tenant_id'] === me.id)) : pick(seedRows.notes.filter((r) => r['tenant_id'] !== me.id));
        const targetId = target['id'] as number;

        // --- the shape ---
        const shapes: (() => Shape)[] = [
          () => {
            const where = chance(0.5);
            return {
              label: `select${where ? ' where id' : ''}`,
              kind: 'builder',
              read: true,
              make: (db) => {
                const q = db.selectFrom(N).select(['id', 'tenant_id', 'body']);
                return where ? q.where('id', 'in', [targetId, nextId]) : q;
              },
              verify: where
                ? undefined
                : (rows, before, _after, t) => expect(rows.map((r) => Number(r['id'])).sort()).toEqual(ownIds(before.notes, t).sort()),
            };
          },
          () => {
            const join = pick(['innerJoin', 'leftJoin'] as const);
            const fromTags = chance(0.5);
            return {
              label: `select ${join} ${fromTags ? 'tags→notes' : 'notes→tags'}`,
              kind: 'builder',
              read: true,
              make: (db) =>
                fromTags
                  ? (db.selectFrom(`${G} as g`) as any)[join](`${N} as n`, 'n.id', 'g.note_id').select(['g.id as gid', 'g.tenant_id as t2', 'g.label', 'n.id as nid', 'n.tenant_id as t1', 'n.body'])
                  : (db.selectFrom(`${N} as n`) as any)[join](`${G} as g`, 'g.note_id', 'n.id').select(['n.id as nid', 'n.tenant_id as t1', 'n.body', 'g.id as gid', 'g.tenant_id as t2', 'g.label']),
            };
          },
          () => ({
            label: 'select join a non-tenant table + cross join',
            kind: 'builder',
            read: true,
            make: (db) => db.selectFrom(`${N} as n`).innerJoin(`${U} as u`, 'u.id', 'n.n').crossJoin(`${G} as g`).select(['n.id as nid', 'n.body', 'u.name', 'g.label', 'g.tenant_id as t2']),
          }),
          () => {
            const exists = chance(0.5);
            return {
              label: `select where ${exists ? 'exists' : 'in'} (subquery)`,
              kind: 'builder',
              read: true,
              make: (db) =>
                exists
                  ? db
                      .selectFrom(`${N} as n`)
                      .select(['n.id', 'n.tenant_id', 'n.body'])
                      .where((eb: any) => eb.exists(eb.selectFrom(`${G} as g`).select('g.id').whereRef('g.note_id', '=', 'n.id')))
                  : db.selectFrom(N).select(['id', 'tenant_id', 'body']).where('id', 'in', db.selectFrom(G).select('note_id')),
            };
          },
          () => ({
            label: 'select from (subquery)',
            kind: 'builder',
            read: true,
            make: (db) => db.selectFrom(db.selectFrom(N).select(['id', 'tenant_id', 'body']).as('s')).selectAll(),
          }),
          () => ({
            label: 'select (scalar subqueries) from a non-tenant table',
            kind: 'builder',
            read: true,
            make: (db) =>
              db
                .selectFrom(U)
                .select((eb: any) => [
                  'id',
                  eb.selectFrom(N).select('body').orderBy('id').limit(1).as('first_body'),
                  eb.selectFrom(G).select((e: any) => e.fn.countAll().as('c')).as('tag_count'),
                ]),
            verify: (rows, before, _after, t) => {
              for (const row of rows) {
                expect(Number(row['tag_count'])).toBe(ownIds(before.tags, t).length);
                if (row['first_body'] !== null) expect(String(row['first_body']).toLowerCase().startsWith(`${t}:`)).toBe(true);
              }
            },
          }),
          () => {
            const op = pick(['union', 'unionAll', 'intersect', 'except'] as const);
            return {
              label: `select ${op}`,
              kind: 'builder',
              read: true,
              make: (db) => (db.selectFrom(N).select(['id', 'tenant_id']) as any)[op](db.selectFrom(G).select(['id', 'tenant_id'])),
            };
          },
          () => ({
            label: 'count(*)',
            kind: 'builder',
            read: true,
            make: (db) => db.selectFrom(N).select((eb: any) => eb.fn.countAll().as('c')),
            verify: (rows, before, _after, t) => expect(Number(rows[0]?.['c'])).toBe(ownIds(before.notes, t).length),
          }),
          () => {
            // Inserts: the tenant column absent, or spelled in any case, with the current tenant, another, or an expression.
            const id = nextId++;
            const withColumn = chance(0.6);
            const value = pick(['current', 'other', 'raw', 'lit', 'ref'] as const);
            const twice = withColumn && chance(0.15);
            const multi = chance(0.3);
            const extra = pick(['none', 'none', 'returning', 'conflictNothing', 'conflictUpdate', 'replace', 'fromSelect', 'existingId'] as const);
            const tenantValue = (eb: any) =>
              value === 'current' ? me.id : value === 'other' ? other : value === 'raw' ? sql`${other}` : value === 'lit' ? sql.lit(other) : eb.ref('body');
            const row = (eb: any, rowId: number) => ({
              id: rowId,
              body: `${me.id}:new:${rowId}`,
              n: 1,
              ...(withColumn ? { [colSpelling]: tenantValue(eb) } : {}),
              ...(twice ? { [colSpelling === 'tenant_id' ? 'TENANT_ID' : 'tenant_id']: me.id } : {}),
            });
            const existing = extra === 'existingId' || extra === 'conflictNothing' || extra === 'conflictUpdate' || extra === 'replace';
            const rowId = existing ? targetId : id;
            const refuse = (withColumn && value !== 'current') || twice || extra === 'conflictUpdate' || extra === 'replace' || extra === 'fromSelect';
            return {
              label: `insert${multi ? ' multi-row' : ''}${withColumn ? ` ${colSpelling}=${value}` : ''}${twice ? ' twice' : ''} ${extra}`,
              kind: 'builder',
              refuse,
              // Another tenant's id collides with its primary key; TENANT_ID is another column on PostgreSQL.
              dbMayFail: extra === 'existingId' || (withColumn && !columnWorks),
              make: (db) => {
                if (extra === 'fromSelect') return db.insertInto(N).columns(['id', 'body', 'n']).expression(db.selectFrom(N).select([sql`id + 50000`.as('id'), 'body', 'n']) as any);
                let q: any = (extra === 'replace' ? (dialect.name === 'mysql' ? db.replaceInto(N) : db.insertInto(N).orReplace()) : db.insertInto(N)).values((eb: any) =>
                  multi ? [row(eb, rowId), row(eb, nextId++)] : row(eb, rowId),
                );
                if (extra === 'conflictNothing') q = dialect.name === 'mysql' ? q.ignore() : q.onConflict((oc: any) => oc.column('id').doNothing());
                if (extra === 'conflictUpdate') q = dialect.name === 'mysql' ? q.onDuplicateKeyUpdate({ body: 'stolen' }) : q.onConflict((oc: any) => oc.column('id').doUpdateSet({ body: 'stolen' }));
                if (extra === 'returning' && returning) q = q.returning(['id', 'tenant_id', 'body']);
                return q;
              },
              verify: (rows, _before, after, t) => {
                for (const r of rows) if ('tenant_id' in r) expect(r['tenant_id']).toBe(t);
                if (!existing) expect(after.notes.find((r) => r['id'] === rowId)?.['tenant_id']).toBe(t);
              },
            };
          },
          () => {
            // Updates: plain, or setting the tenant column by name (any case), by expression key, or to an expression.
            const how = pick(['body', 'body', 'n+1', 'column', 'sql.ref', 'sql``', 'sql.id', 'sql.raw', 'rawKey', 'qualified', 'dottedKey'] as const);
            const value = pick(['current', 'other', 'other', 'raw', 'ref'] as const);
            const where = pick(['id', 'id', 'all', 'subquery'] as const);
            const alias = chance(0.3);
            const ret = returning && chance(0.3);
            const tenantValue = (eb: any) => (value === 'current' ? me.id : value === 'other' ? other : value === 'raw' ? sql`${other}` : eb.ref('body'));
            const plainValue = value === 'current' ? me.id : value === 'other' ? other : value === 'raw' ? sql`${other}` : sql.ref('body');
            const setsTenant = how !== 'body' && how !== 'n+1';
            const body = `${me.id}:upd:${index}`;
            const refuse = (setsTenant && (value !== 'current' || how === 'rawKey')) || false;
            return {
              label: `update set ${how}${setsTenant ? `(${colSpelling})=${value}` : ''} where ${where}${alias ? ' aliased' : ''}${ret ? ' returning' : ''}`,
              kind: 'builder',
              refuse,
              // TENANT_ID is another column on PostgreSQL; only MySQL takes a qualified SET column; an object key 'x.tenant_id' is one (missing) column.
              dbMayFail: setsTenant && (!columnWorks || (how === 'qualified' && alias && dialect.name !== 'mysql') || how === 'dottedKey'),
              make: (db) => {
                let q: any = db.updateTable(alias ? `${N} as x` : N);
                const col = alias && (how === 'qualified' || how === 'dottedKey') ? `x.${colSpelling}` : colSpelling;
                if (how === 'body') q = q.set({ body });
                else if (how === 'n+1') q = q.set((eb: any) => ({ n: eb('n', '+', 1) }));
                else if (how === 'column' || how === 'dottedKey') q = q.set((eb: any) => ({ [col]: tenantValue(eb) }));
                else if (how === 'qualified') q = q.set(col, plainValue);
                else if (how === 'sql.ref') q = q.set(sql.ref(col), plainValue);
                else if (how === 'sql``') q = q.set(sql`${sql.raw(colSpelling)}`, plainValue);
                else if (how === 'sql.id') q = q.set(sql.id(colSpelling), plainValue);
                else if (how === 'sql.raw') q = q.set(sql.raw(`"${colSpelling}"`.replace(/"/g, dialect.name === 'mysql' ? '`' : '"')), plainValue);
                else q = q.set(sql`coalesce(${sql.ref(colSpelling)}, '')`, plainValue); // not a column: refused
                if (where === 'id') q = q.where(alias ? 'x.id' : 'id', '=', targetId);
                if (where === 'subquery') q = q.where(alias ? 'x.id' : 'id', 'in', db.selectFrom(G).select('note_id'));
                if (ret) q = q.returning(['id', 'tenant_id', 'body']);
                return q;
              },
              verify: (rows, before, after, t) => {
                for (const r of rows) if ('tenant_id' in r) expect(r['tenant_id']).toBe(t);
                if (how === 'body' && where === 'id' && before.notes.some((r) => r['id'] === targetId && r['tenant_id'] === t)) {
                  expect(after.notes.find((r) => r['id'] === targetId)?.['body']).toBe(body);
                }
              },
            };
          },
          () => {
            // More ways to put a tenant table in FROM: a comma join, a lateral join (PostgreSQL) or a joined subquery.
            const how = pick(['comma', 'subqueryJoin', ...(dialect.name === 'postgres' ? (['lateral'] as const) : [])] as const);
            return {
              label: `select ${how} join`,
              kind: 'builder',
              read: true,
              make: (db) => {
                if (how === 'comma') return db.selectFrom([`${U} as u`, `${N} as n`] as any).select(['u.name', 'n.id as nid', 'n.tenant_id as t1', 'n.body']);
                const inner = (eb: any) => eb.selectFrom(`${N} as n`).select(['n.id as nid', 'n.tenant_id as t1', 'n.body']).as('x');
                if (how === 'lateral') return (db.selectFrom(`${U} as u`) as any).innerJoinLateral(inner, (j: any) => j.onTrue()).select(['u.name', 'x.nid', 'x.t1', 'x.body']);
                return (db.selectFrom(`${U} as u`) as any).innerJoin(inner, (j: any) => j.onTrue()).select(['u.name', 'x.nid', 'x.t1', 'x.body']);
              },
              verify: (rows, _before, _after, t) => {
                for (const r of rows) expect(r['t1']).toBe(t);
              },
            };
          },
          () => {
            // Another tenant's values pulled in by a subquery: as an updated value, or in RETURNING.
            const foreignTag = pick(seedRows.tags.filter((r) => r['tenant_id'] !== me.id));
            const inReturning = returning && chance(0.5);
            return {
              label: inReturning ? 'insert returning (subquery)' : 'update set body = (subquery)',
              kind: 'builder',
              make: (db) =>
                inReturning
                  ? db
                      .insertInto(N)
                      .values({ id: nextId++, body: `${me.id}:sub`, n: 1 })
                      .returning((eb: any) => ['id', eb.selectFrom(G).select('label').where('id', '=', foreignTag['id']).as('pulled')])
                  : db
                      .updateTable(N)
                      .set({ body: (eb: any) => eb.fn.coalesce(eb.selectFrom(`${G} as g`).select('g.label').where('g.id', '=', foreignTag['id']), eb.val(`${me.id}:none`)) })
                      .where('id', '=', targetId),
              verify: (_rows, _before, after, t) => {
                // no row of this tenant now holds another tenant's text
                const foreign = TENANT_IDS.filter((id) => id !== t);
                for (const r of after.notes.filter((row) => row['tenant_id'] === t)) expect(foreign.some((id) => String(r['body']).includes(id)), `body ${String(r['body'])}`).toBe(false);
              },
            };
          },
          () => {
            // Updates and deletes driven by another table: PostgreSQL's update ... from / delete ... using, MySQL's multi-table update.
            const kind = dialect.name === 'postgres' ? pick(['updateFrom', 'deleteUsing'] as const) : dialect.name === 'mysql' ? 'multiUpdate' : 'updateFromSqlite';
            const setTenant = chance(0.3);
            return {
              label: `${kind}${setTenant ? ' setting the tenant' : ''}`,
              kind: 'builder',
              refuse: setTenant && kind !== 'deleteUsing',
              make: (db) => {
                if (kind === 'deleteUsing') return db.deleteFrom(`${N} as n`).using(`${G} as g`).whereRef('g.note_id', '=', 'n.id');
                if (kind === 'multiUpdate') {
                  return db
                    .updateTable([`${N} as n`, `${G} as g`] as any)
                    .set((setTenant ? `g.${colSpelling}` : 'n.n') as any, setTenant ? other : 7)
                    .whereRef('g.note_id', '=', 'n.id');
                }
                return db
                  .updateTable(`${N} as n`)
                  .from(`${G} as g`)
                  .set(setTenant ? ({ [colSpelling]: other } as any) : { n: 9 })
                  .whereRef('g.note_id', '=', 'n.id');
              },
            };
          },
          () => {
            const where = pick(['id', 'id', 'all', 'subquery'] as const);
            const ret = returning && chance(0.4);
            return {
              label: `delete where ${where}${ret ? ' returning' : ''}`,
              kind: 'builder',
              make: (db) => {
                let q: any = db.deleteFrom(N);
                if (where === 'id') q = q.where('id', '=', targetId);
                if (where === 'subquery') q = q.where('id', 'in', db.selectFrom(G).select('note_id'));
                if (ret) q = q.returning(['id', 'tenant_id', 'body']);
                return q;
              },
              verify: (rows, before, after, t) => {
                for (const r of rows) expect(r['tenant_id']).toBe(t);
                if (where === 'id' && before.notes.some((r) => r['id'] === targetId && r['tenant_id'] === t)) expect(after.notes.some((r) => r['id'] === targetId)).toBe(false);
                if (where === 'all') expect(ownIds(after.notes, t)).toEqual([]);
                expect(before.notes.length - after.notes.length).toBe(ownIds(before.notes, t).length - ownIds(after.notes, t).length);
              },
            };
          },
          () => {
            // Raw fragments that name no tenant table: harmless ones run; ones that could end the query, comment out
            // or escape the tenant condition, add an assignment or a row, or read tables they do not name are refused.
            const id2 = nextId++;
            const variants: { label: string; refuse: boolean; make: (db: AnyKysely) => any }[] = [
              { label: 'where n > param', refuse: false, make: (db) => db.selectFrom(N).select(['id', 'tenant_id', 'body']).where(sql<boolean>`n > ${0}`) },
              { label: "where body like '%(%' or n = 1", refuse: false, make: (db) => db.selectFrom(N).select(['id', 'tenant_id']).where(sql<boolean>`body like '%(%' or n = 1`) },
              { label: 'select lower(body)', refuse: false, make: (db) => db.selectFrom(N).select(['id', sql<string>`lower(body)`.as('b')]) },
              { label: 'update set body = upper(body)', refuse: false, make: (db) => db.updateTable(N).set({ body: sql`upper(body)` }).where('id', '=', targetId) },
              { label: 'where true) or (true', refuse: true, make: (db) => db.selectFrom(N).selectAll().where(sql<boolean>`true) or (true`) },
              { label: 'where true) --', refuse: true, make: (db) => db.selectFrom(N).selectAll().where(sql<boolean>`1 = 1) --`) },
              { label: 'where 1 = 1 /*', refuse: true, make: (db) => db.selectFrom(N).selectAll().where(sql<boolean>`1 = 1 /*`) },
              { label: 'left join on true) or (true', refuse: true, make: (db) => db.selectFrom(`${U} as u`).leftJoin(`${N} as n`, (j: any) => j.on(sql`true) or (true`)).select(['n.id as nid', 'n.body']) },
              { label: 'select modifyEnd(or true)', refuse: true, make: (db) => db.selectFrom(N).selectAll().modifyEnd(sql`or true`) },
              { label: 'delete modifyEnd(or true)', refuse: true, make: (db) => db.deleteFrom(N).where('id', '=', -1).modifyEnd(sql`or true`) },
              { label: 'update modifyEnd(or true)', refuse: true, make: (db) => db.updateTable(N).set({ n: 2 }).where('id', '=', -1).modifyEnd(sql`or true`) },
              { label: 'insert modifyEnd(, (another row))', refuse: true, make: (db) => db.insertInto(N).values({ id: nextId++, body: 'x', n: 1 }).modifyEnd(sql`, (${id2}, 'x', 1, ${other})`) },
              { label: "insert value 'x'), (another row", refuse: true, make: (db) => db.insertInto(N).values({ id: nextId++, n: 1, body: sql`'x', ${me.id}), (${id2}, 1, 'y'` }) },
              { label: "update set body = 'x', tenant_id = other", refuse: true, make: (db) => db.updateTable(N).set({ body: sql`'x', ${sql.raw(colSpelling)} = ${other}` }).where('id', '=', targetId) },
              { label: 'update set body = sql.ref(tenant_id)', refuse: true, make: (db) => db.updateTable(N).set({ body: sql`${sql.ref('tenant_id')}` }) },
              { label: "where eb.fn('true) or (true')", refuse: true, make: (db) => db.selectFrom(N).selectAll().where((eb: any) => eb.fn('true) or (true', [])) },
              { label: "select eb.fn('(select body from notes)')", refuse: true, make: (db) => db.selectFrom(U).select((eb: any) => eb.fn(`(select max(body) from ${NOTES})`, []).as('x')) },
              { label: 'where ... ; delete', refuse: true, make: (db) => db.selectFrom(N).selectAll().where(sql<boolean>`true; delete from x`) },
              ...(dialect.name === 'postgres'
                ? [
                    { label: "where $$'$$) or true --'", refuse: true, make: (db: AnyKysely) => db.selectFrom(N).selectAll().where(sql<boolean>`$$'$$ = 'x') or (true`) },
                    { label: "query_to_xml('select * from no' || 'tes')", refuse: true, make: (db: AnyKysely) => db.selectFrom(U).select(sql`query_to_xml('select * from ' || ${NOTES.slice(0, 3)} || ${NOTES.slice(3)}, true, false, '')::text`.as('x')) },
                    { label: 'database_to_xml', refuse: true, make: (db: AnyKysely) => db.selectFrom(U).select(sql`database_to_xml(true, false, '')::text`.as('x')) },
                  ]
                : []),
              ...(dialect.name === 'mysql'
                ? [{ label: "where body = '\\') or (true -- '", refuse: true, make: (db: AnyKysely) => db.selectFrom(N).selectAll().where(sql<boolean>`body = '\\') or (true -- '`) }]
                : []),
              ...(dialect.name === 'sqlite' ? [{ label: "where [')] or (true --", refuse: true, make: (db: AnyKysely) => db.selectFrom(N).selectAll().where(sql<boolean>`'[' = ']') or (true`) }] : []),
            ];
            const variant = pick(variants);
            return { label: `raw fragment: ${variant.label}`, kind: 'builder', refuse: variant.refuse, read: variant.label.startsWith('where') || variant.label.startsWith('select'), make: variant.make };
          },
          () => {
            const what = pick(['cte', 'rightJoin', 'fullJoin', ...(dialect.name === 'postgres' ? ['merge'] : [])] as const);
            return {
              label: `refused shape: ${what}`,
              kind: 'builder',
              refuse: true,
              make: (db) => {
                if (what === 'cte') return db.with('c', (qb: any) => qb.selectFrom(N).selectAll()).selectFrom('c').selectAll();
                if (what === 'rightJoin') return db.selectFrom(`${U} as u`).rightJoin(`${N} as n`, 'n.n', 'u.id').selectAll();
                if (what === 'fullJoin') return db.selectFrom(`${N} as n`).fullJoin(`${U} as u`, 'n.n', 'u.id').selectAll();
                return db.mergeInto(`${N} as n`).using(`${G} as g`, 'g.note_id', 'n.id').whenMatched().thenDelete();
              },
            };
          },
          () => {
            // Raw SQL naming a tenant table: in the text (any quoting, qualified, with comments), or by sql.table/sql.id/sql.ref.
            const q = dialect.name === 'mysql' ? '`' : '"';
            const name = pick([NOTES, TAGS]);
            const spelled = pick([
              name,
              name.toUpperCase(),
              mixed(name),
              `${q}${name}${q}`,
              `${q}${name.toUpperCase()}${q}`,
              `${schema}.${name}`,
              `${q}${schema}${q}.${q}${name}${q}`,
              `/* x */${name}/* y */`,
              `${name}--\n`,
              ...(dialect.name === 'sqlite' ? [`[${name}]`, `\`${name}\``, `main.[${name.toUpperCase()}]`] : []),
              ...(dialect.name === 'mysql' ? [`/*!00000 ${name} */`] : []),
            ]);
            const how = pick(['text', 'sql.table', 'sql.id', 'sql.ref', 'fragment', 'update', 'delete'] as const);
            return {
              label: `raw ${how} ${JSON.stringify(spelled)}`,
              kind: how === 'fragment' ? 'builder' : 'raw',
              refuse: true,
              read: how !== 'update' && how !== 'delete',
              make: (db) => {
                if (how === 'sql.table') return sql`select * from ${sql.table(spell(name))}` as any;
                if (how === 'sql.id') return sql`select * from ${sql.id(spell(name))}` as any;
                if (how === 'sql.ref') return sql`select * from ${sql.ref(spell(name))}` as any;
                if (how === 'fragment') return db.selectFrom(U).select(sql`(select count(*) from ${sql.raw(spelled)})`.as('c'));
                if (how === 'update') return sql`update ${sql.raw(spelled)} set body = 'x'` as any;
                if (how === 'delete') return sql`delete from ${sql.raw(spelled)}` as any;
                return sql`select * from ${sql.raw(spelled)}` as any;
              },
            };
          },
        ];
        const family = Math.floor(random() * shapes.length);
        const shape = (shapes[family] as () => Shape)();
        families = shapes.length;
        const path: Path = chance(0.2)
          ? pick(ATTACK_PATHS)
          : pick(['execute', 'execute', 'executeQuery', 'compiled', 'transaction', 'connection', 'controlled', ...(shape.read && dialect.name !== 'postgres' && shape.kind === 'builder' ? (['stream'] as const) : [])]);
        const scoped = decl.db;
        const on = (db: AnyKysely) => (spelling === 'withSchema' ? db.withSchema(schema) : db);

        const runShape = async (db: AnyKysely): Promise<Row[]> => {
          const q = shape.make(on(db));
          if (path === 'executeQuery') return (await db.executeQuery(shape.kind === 'raw' ? (q as any).compile(db) : q)).rows as Row[];
          if (path === 'compiled') return (await db.executeQuery(shape.kind === 'raw' ? (q as any).compile(db) : q.compile())).rows as Row[];
          if (path === 'stream') {
            const rows: Row[] = [];
            for await (const row of (q as any).stream()) rows.push(row as Row);
            return rows;
          }
          if (shape.kind === 'raw') return ((await q.execute(db)) as { rows: Row[] }).rows;
          const result = (await q.execute()) as unknown[];
          return result.filter((r): r is Row => typeof r === 'object' && r !== null && !('numUpdatedRows' in r || 'numDeletedRows' in r || 'numInsertedOrUpdatedRows' in r));
        };
        const run = async (): Promise<Row[]> => {
          switch (path) {
            case 'transaction':
              return scoped.transaction().execute((trx) => runShape(trx));
            case 'connection':
              return scoped.connection().execute((c) => runShape(c));
            case 'controlled': {
              const trx = await scoped.startTransaction().execute();
              try {
                const rows = await runShape(trx);
                await trx.commit().execute();
                return rows;
              } catch (error) {
                await trx.rollback().execute();
                throw error;
              }
            }
            case 'rawCompiled': {
              // The same query compiled without the plugin, handed over as CompiledQuery.raw.
              const compiled = runWithoutTenant(() => compileWith(unscoped(scoped)));
              return (await scoped.executeQuery(CompiledQuery.raw(compiled.sql, [...compiled.parameters]))).rows as Row[];
            }
            case 'foreignCompiled':
              return (await scoped.executeQuery(runWithoutTenant(() => compileWith(unscoped(scoped))))).rows as Row[];
            case 'otherTenantCompiled': {
              const compiled = runWithTenant(TENANTS.find((t) => t.id === other) as TenantConfig, () => compileWith(scoped));
              return (await scoped.executeQuery(compiled)).rows as Row[];
            }
            default:
              return runShape(scoped);
          }
        };
        const compileWith = (db: AnyKysely): CompiledQuery => {
          const q = shape.make(on(db));
          return shape.kind === 'raw' ? (q as any).compile(db) : q.compile();
        };

        // --- run and check ---
        const where = `case #${index} (seed ${SEED}) on ${dialect.name}: ${shape.label} | path ${path} | ${decl.label} | spelling ${spelling} | tenant ${tenant ?? '(none)'}`;
        const before = await snapshot();
        let rows: Row[] | undefined;
        let failure: unknown;
        try {
          rows = await (tenant === undefined ? runWithoutTenant(run) : runWithTenant(me, run));
        } catch (error) {
          failure = error;
        }
        const after = await snapshot();
        stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
        stats.byShape[family] = (stats.byShape[family] ?? 0) + 1;

        // 0 cross-tenant writes: other tenants' rows unchanged, none created for them.
        expect(othersOf(after, tenant), `${where}: another tenant's rows changed`).toEqual(othersOf(before, tenant));
        if (failure !== undefined) {
          if (isRefusal(failure)) stats.refused += 1;
          else {
            stats.dbError += 1;
            // Only a spelling or shape the database itself does not accept may fail there.
            if (shape.dbMayFail !== true && spellingWorks) {
              throw new Error(`${where}: failed with a non-TenantError: ${String((failure as Error)?.message ?? failure)}`, { cause: failure });
            }
          }
          // A refused (or failed) query changed nothing.
          expect(after, `${where}: a refused query changed the database`).toEqual(before);
          // What the plugin can scope, it must run: a plain shape, with a tenant, in a spelling the database accepts.
          if (isRefusal(failure) && shape.refuse !== true && !ATTACK_PATHS.includes(path) && tenant !== undefined && spellingWorks && shape.dbMayFail !== true) {
            throw new Error(`${where}: refused a query it can scope: ${(failure as Error).message}`, { cause: failure });
          }
        } else {
          stats.ok += 1;
          // 0 cross-tenant reads: no returned value carries another tenant's id, body or row id.
          const foreign = TENANT_IDS.filter((id) => id !== tenant);
          const foreignIds = new Set([...before.notes, ...before.tags].filter((r) => r['tenant_id'] !== tenant).map((r) => Number(r['id'])));
          for (const row of rows ?? []) {
            for (const [key, value] of Object.entries(row)) {
              if (typeof value === 'string') expect(foreign.some((id) => value.toLowerCase().includes(id)), `${where}: read ${key}=${value}`).toBe(false);
              if (/^(id|nid|gid)$/i.test(key) && value !== null) expect(foreignIds.has(Number(value)), `${where}: read another tenant's row id ${String(value)}`).toBe(false);
            }
          }
          expect(tenant, `${where}: ran with no tenant in context`).toBeDefined();
          expect(shape.refuse === true || ATTACK_PATHS.includes(path), `${where}: should have been refused`).toBe(false);
          try {
            shape.verify?.(rows ?? [], before, after, tenant as string);
          } catch (error) {
            throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
          }
        }
      }
      // The generator reached every path and produced all three outcomes.
      expect(Object.keys(stats.byPath).length).toBeGreaterThanOrEqual(9);
      expect(Object.keys(stats.byShape).length, 'every shape family ran').toBe(families);
      expect(stats.ok).toBeGreaterThan(CASES * 0.2);
      expect(stats.refused).toBeGreaterThan(CASES * 0.2);
      console.log(`[row-level generated] ${dialect.name}: ${CASES} cases (seed ${SEED}): ${stats.ok} ran, ${stats.refused} refused by the plugin, ${stats.dbError} refused by the database`);
    });
  });
}
