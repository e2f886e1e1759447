// Compiled-SQL tests of the row-level plugin: pure query-tree logic, no database.
import { describe, expect, it } from 'vitest';
import {
  CamelCasePlugin,
  CompiledQuery,
  DummyDriver,
  ExpressionWrapper,
  Kysely,
  MysqlAdapter,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteQueryCompiler,
  sql,
  type Compilable,
} from 'kysely';
import { createTestTenant } from '@tenant/core/testing';
import { TenantError, runWithTenant, runWithoutTenant } from '@tenant/core';
import { tenantScopePlugin, unscoped, withTenantScope } from '../src/index.js';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import type { AnyKysely } from '../src/dialect.js';
import type { AnyExpressionBuilder } from './dialects.js';


const raw: AnyKysely = new Kysely({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});
const db = withTenantScope(raw, { tables: ['orders', 'items', 'app.notes'] });
const acme = createTestTenant({ id: 'acme' });
const other = createTestTenant({ id: 'other' });

function compile(query: () => Compilable, tenant = acme) {
  return runWithTenant(tenant, () => {
    const { sql: text, parameters } = query().compile();
    return { text, parameters };
  });
}

function refusal(query: () => Compilable, tenant = acme): string | undefined {
  try {
    compile(query, tenant);
    return undefined;
  } catch (error) {
    if (!TenantError.is(error)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

describe('tenantScopePlugin: select', () => {
  it('adds the tenant condition to a select, as a bind parameter', () => {
    expect(compile(() => db.selectFrom('orders').selectAll())).toEqual({
      text: 'select * from "orders" where "orders"."tenant_id" = $1',
      parameters: ['acme'],
    });
  });

  it('qualifies by alias, puts join conditions in ON (a LEFT JOIN stays one), and keeps an OR in parentheses', () => {
    const q = compile(() =>
      db
        .selectFrom('orders as o')
        .leftJoin('items as i', 'i.order_id', 'o.id')
        .innerJoin('customers as c', 'c.id', 'o.customer_id')
        .select(['o.id', 'i.sku'])
        .where((eb) => eb.or([eb('o.total', '>', 10), eb('o.total', '<', 0)])),
    );
    expect(q.text).toBe(
      'select "o"."id", "i"."sku" from "orders" as "o" left join "items" as "i" on ("i"."order_id" = "o"."id") and "i"."tenant_id" = $1 inner join "customers" as "c" on "c"."id" = "o"."customer_id" where (("o"."total" > $2 or "o"."total" < $3)) and "o"."tenant_id" = $4',
    );
    expect(q.parameters).toEqual(['acme', 10, 0, 'acme']);
  });

  it('scopes subqueries, set operations and schema-qualified tables, once each', () => {
    const q = compile(() =>
      db
        .selectFrom('customers')
        .select('id')
        .where('id', 'in', (eb: AnyExpressionBuilder) => eb.selectFrom('orders').select('customer_id'))
        .where((eb) => eb.exists(db.selectFrom('items').select('sku')))
        .union(db.selectFrom('app.notes').select('id'))
        .union(db.selectFrom('other.notes').select('id')),
    );
    expect(q.text).toBe(
      'select "id" from "customers" where "id" in (select "customer_id" from "orders" where "orders"."tenant_id" = $1) and exists (select "sku" from "items" where "items"."tenant_id" = $2) union select "id" from "app"."notes" where "app"."notes"."tenant_id" = $3 union select "id" from "other"."notes"',
    );
  });

  it('leaves queries on other tables alone, and needs no tenant for them', () => {
    expect(runWithoutTenant(() => db.selectFrom('customers').selectAll().compile().sql)).toBe('select * from "customers"');
    expect(runWithoutTenant(() => sql`select now()`.compile(db).sql)).toBe('select now()');
  });

  it('throws tenant_context_missing on a tenant table with no tenant in context', () => {
    expect(() => runWithoutTenant(() => db.selectFrom('orders').selectAll().compile())).toThrow(/no tenant in context/);
    try {
      db.deleteFrom('items').compile();
      expect.unreachable();
    } catch (error) {
      expect(TenantError.is(error, 'tenant_context_missing')).toBe(true);
    }
  });

  it('refuses a subquery already scoped to another tenant', () => {
    const sub = db.selectFrom('orders').select('id');
    // Turned into a node inside `other`'s context, then embedded in a query compiled for `acme`.
    const node = runWithTenant(other, () => sub.toOperationNode());
    expect(refusal(() => db.selectFrom('items').selectAll().where((eb) => eb.exists(new ExpressionWrapper(node) as never)))).toMatch(
      /^isolation_violation: .*another tenant/,
    );
    // The same builder embedded lazily is scoped to the tenant compiling it.
    expect(compile(() => db.selectFrom('items').selectAll().where('order_id', 'in', sub)).parameters).toEqual(['acme', 'acme']);
  });
});

describe('tenantScopePlugin: writes', () => {
  it('scopes update and delete, including updateTable ... from and delete ... using', () => {
    expect(compile(() => db.updateTable('orders').set({ total: 1 }).where('id', '=', 7)).text).toBe(
      'update "orders" set "total" = $1 where ("id" = $2) and "orders"."tenant_id" = $3',
    );
    expect(compile(() => db.updateTable('customers as c').from('orders as o').set({ name: 'x' }).whereRef('o.customer_id', '=', 'c.id')).text).toBe(
      'update "customers" as "c" set "name" = $1 from "orders" as "o" where ("o"."customer_id" = "c"."id") and "o"."tenant_id" = $2',
    );
    expect(compile(() => db.deleteFrom('orders').where('id', '=', 7)).text).toBe('delete from "orders" where ("id" = $1) and "orders"."tenant_id" = $2');
    expect(compile(() => db.deleteFrom('customers').using('orders').whereRef('orders.customer_id', '=', 'customers.id')).text).toBe(
      'delete from "customers" using "orders" where ("orders"."customer_id" = "customers"."id") and "orders"."tenant_id" = $1',
    );
  });

  it('refuses an update that moves rows to another tenant', () => {
    expect(refusal(() => db.updateTable('orders').set({ tenant_id: 'other' }))).toMatch(/^isolation_violation/);
    expect(refusal(() => db.updateTable('orders').set({ tenant_id: 'acme', total: 2 }))).toBeUndefined();
  });

  it('sets the tenant on insert, single and multi-row, and refuses another tenant', () => {
    expect(compile(() => db.insertInto('orders').values({ id: 1, total: 5 }))).toEqual({
      text: 'insert into "orders" ("id", "total", "tenant_id") values ($1, $2, $3)',
      parameters: [1, 5, 'acme'],
    });
    expect(compile(() => db.insertInto('orders').values([{ id: 1 }, { id: 2, total: 3 }])).parameters).toEqual([1, 'acme', 2, 3, 'acme']);
    expect(compile(() => db.insertInto('orders').values({ id: 1, tenant_id: 'acme' })).parameters).toEqual([1, 'acme']);
    expect(refusal(() => db.insertInto('orders').values({ id: 1, tenant_id: 'other' }))).toMatch(/^isolation_violation: .*names another tenant/);
    expect(refusal(() => db.insertInto('orders').values([{ id: 1, tenant_id: 'acme' }, { id: 2, tenant_id: 'other' }]))).toMatch(/^isolation_violation/);
    expect(refusal(() => db.insertInto('orders').values({ id: 1, tenant_id: sql<string>`'other'` }))).toMatch(/^isolation_violation/);
  });

  it('refuses what it cannot scope: insert from select, upserts, replace, CTEs, merge, raw SQL, RIGHT/FULL joins', () => {
    const cases: Record<string, () => Compilable> = {
      'insert from select': () => db.insertInto('orders').columns(['id']).expression(db.selectFrom('customers').select('id')),
      'on conflict do update': () => db.insertInto('orders').values({ id: 1 }).onConflict((oc) => oc.column('id').doUpdateSet({ total: 0 })),
      'on duplicate key update': () => db.insertInto('orders').values({ id: 1 }).onDuplicateKeyUpdate({ total: 0 }),
      'replace into': () => db.replaceInto('orders').values({ id: 1 }),
      'insert or replace': () => db.insertInto('orders').orReplace().values({ id: 1 }),
      'CTE on a tenant table': () => db.with('mine', (qb) => qb.selectFrom('orders').select('id')).selectFrom('mine').selectAll(),
      'CTE reading a tenant table elsewhere': () => db.with('c', (qb) => qb.selectFrom('customers').select('id')).selectFrom('orders').selectAll(),
      merge: () => db.mergeInto('orders').using('customers', 'customers.id', 'orders.customer_id').whenMatched().thenDelete(),
      'raw SQL naming a tenant table': () => ({ compile: () => sql`select * from orders`.compile(db) }),
      'raw SQL with sql.table': () => ({ compile: () => sql`select * from ${sql.table('items')}`.compile(db) }),
      'raw SQL with sql.id': () => ({ compile: () => sql`delete from ${sql.id('orders')}`.compile(db) }),
      'raw fragment inside a query': () => db.selectFrom('customers').select(sql`(select count(*) from "Orders")`.as('n')),
      'right join': () => db.selectFrom('customers').rightJoin('orders', 'orders.customer_id', 'customers.id').selectAll(),
      'full join': () => db.selectFrom('orders').fullJoin('customers', 'orders.customer_id', 'customers.id').selectAll(),
    };
    for (const [name, query] of Object.entries(cases)) {
      expect(refusal(query), name).toMatch(/^isolation_violation: \[@tenant\/store-sql\]/);
    }
    // On other tables these shapes pass.
    expect(refusal(() => db.insertInto('customers').values({ id: 1 }).onConflict((oc) => oc.column('id').doUpdateSet({ name: 'x' })))).toBeUndefined();
    expect(refusal(() => db.with('c', (qb) => qb.selectFrom('customers').select('id')).selectFrom('c').selectAll())).toBeUndefined();
    expect(refusal(() => db.insertInto('orders').values({ id: 1 }).onConflict((oc) => oc.column('id').doNothing()))).toBeUndefined();
  });
});

describe('unscoped and options', () => {
  it('unscoped(db) drops only the tenant plugin, keeping the others in order', () => {
    const camel = withTenantScope(raw.withPlugin(new CamelCasePlugin()), { tables: ['orders'] });
    expect(runWithoutTenant(() => unscoped(camel).selectFrom('orders').select('customerId').compile().sql)).toBe('select "customer_id" from "orders"');
    expect(compile(() => camel.selectFrom('orders').select('customerId')).text).toBe('select "customer_id" from "orders" where "orders"."tenant_id" = $1');
    expect(unscoped(raw)).toBe(raw);
  });

  it('passes hostile tenant ids only as bind parameters', () => {
    for (const hostile of ["x'; drop table orders; --", 'a"b', 'ünï🦄', 'z'.repeat(5000)]) {
      const hostileDb = raw.withPlugin(tenantScopePlugin({ tables: ['orders'], tenantId: () => hostile }));
      const select = runWithoutTenant(() => hostileDb.selectFrom('orders').selectAll().compile());
      expect(select.sql).toBe('select * from "orders" where "orders"."tenant_id" = $1');
      expect(select.parameters).toEqual([hostile]);
      const insert = runWithoutTenant(() => hostileDb.insertInto('orders').values({ id: 1 }).compile());
      expect(insert.sql).toBe('insert into "orders" ("id", "tenant_id") values ($1, $2)');
    }
  });

  it('takes a custom column and tenant source, and checks its options', () => {
    const custom = raw.withPlugin(tenantScopePlugin({ tables: ['orders'], column: 'org', tenantId: () => 'org-9' }));
    expect(runWithoutTenant(() => custom.selectFrom('orders').selectAll().compile().parameters)).toEqual(['org-9']);
    expect(() => tenantScopePlugin({ tables: [] })).toThrow(TypeError);
    expect(() => tenantScopePlugin({ tables: ['orders; drop table x'] })).toThrow(TypeError);
    expect(() => tenantScopePlugin({ tables: ['orders'], column: 'tenant"id' })).toThrow(TypeError);
  });
});

// Issue 10: each class of bypass, by example (the generated proof in row-level-generated.test.ts runs them against the databases).
function compileOnly(adapter: 'postgres' | 'sqlite' | 'mysql'): AnyKysely {
  const adapters = { postgres: PostgresAdapter, sqlite: SqliteAdapter, mysql: MysqlAdapter };
  const compilers = { postgres: PostgresQueryCompiler, sqlite: SqliteQueryCompiler, mysql: MysqlQueryCompiler };
  return new Kysely({
    dialect: {
      createAdapter: () => new adapters[adapter](),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new compilers[adapter](),
    },
  });
}

describe('identifiers follow the dialect: case, quoting, schemas', () => {
  const lite = withTenantScope(compileOnly('sqlite'), { tables: ['notes', 'tags'] });

  it('scopes every spelling of a tenant table on SQLite, in every statement', () => {
    expect(compile(() => lite.selectFrom('NOTES').selectAll()).text).toBe('select * from "NOTES" where "NOTES"."tenant_id" = ?');
    expect(compile(() => lite.updateTable('Notes').set({ body: 'x' })).text).toBe('update "Notes" set "body" = ? where "Notes"."tenant_id" = ?');
    expect(compile(() => lite.deleteFrom('TAGS')).text).toBe('delete from "TAGS" where "TAGS"."tenant_id" = ?');
    expect(compile(() => lite.selectFrom('notes as n').innerJoin('TAGS as t', 't.note_id', 'n.id').selectAll()).text).toBe(
      'select * from "notes" as "n" inner join "TAGS" as "t" on ("t"."note_id" = "n"."id") and "t"."tenant_id" = ? where "n"."tenant_id" = ?',
    );
    expect(compile(() => lite.insertInto('NOTES').values({ id: 1 })).text).toBe('insert into "NOTES" ("id", "tenant_id") values (?, ?)');
    expect(refusal(() => lite.insertInto('NOTES').values({ id: 1, tenant_id: 'other' }))).toMatch(/^isolation_violation/);
  });

  it('refuses the tenant column in any spelling in set and values (mass assignment), and twice in one insert', () => {
    for (const db of [lite, withTenantScope(compileOnly('mysql'), { tables: ['notes'] }), db0()]) {
      expect(refusal(() => db.updateTable('notes').set({ TENANT_ID: 'other' }))).toMatch(/^isolation_violation: .*another tenant/);
      expect(refusal(() => db.updateTable('notes as n').set({ 'n.Tenant_Id': 'other' } as never))).toMatch(/^isolation_violation/);
      expect(refusal(() => db.insertInto('notes').values({ id: 1, Tenant_Id: 'other' }))).toMatch(/^isolation_violation: .*names another tenant/);
      expect(refusal(() => db.insertInto('notes').values({ id: 1, tenant_id: 'acme', TENANT_ID: 'acme' }))).toMatch(/^isolation_violation: .*twice/);
      // The current tenant, in the column's own spelling, is what the plugin would set anyway.
      expect(refusal(() => db.updateTable('notes').set({ tenant_id: 'acme', body: 'x' }))).toBeUndefined();
    }
  });

  it('matches declared names the same way: tables: [NOTES] scopes notes; the bare plugin takes the widest rules', () => {
    const upper = withTenantScope(compileOnly('sqlite'), { tables: ['NOTES'] });
    expect(compile(() => upper.selectFrom('notes').selectAll()).text).toBe('select * from "notes" where "notes"."tenant_id" = ?');
    // No dialect: Unicode case and compatibility forms fold too (MySQL's collations do), trailing spaces are dropped.
    const bare = compileOnly('mysql').withPlugin(tenantScopePlugin({ tables: ['notes'] }));
    for (const name of ['NOTES', 'ｎｏｔｅｓ', 'nOtÉs', 'notes ']) expect(compile(() => bare.selectFrom(name).selectAll()).parameters, name).toEqual(['acme']);
    // SQLite folds ASCII only: a non-ASCII spelling is another table there.
    expect(compile(() => lite.selectFrom('nOtÉs').selectAll()).parameters).toEqual([]);
    expect(() => tenantScopePlugin({ tables: ['notes'], dialect: 'oracle' as never })).toThrow(TypeError);
  });

  it('scopes schema-qualified names both ways, and not another schema', () => {
    const pg = withTenantScope(compileOnly('postgres'), { tables: ['public.notes', 'tags'] });
    expect(compile(() => pg.selectFrom('notes').selectAll()).parameters).toEqual(['acme']);
    expect(compile(() => pg.selectFrom('public.notes').selectAll()).text).toBe('select * from "public"."notes" where "public"."notes"."tenant_id" = $1');
    expect(compile(() => pg.withSchema('public').selectFrom('notes').selectAll()).parameters).toEqual(['acme']);
    expect(compile(() => pg.selectFrom('archive.notes').selectAll()).parameters).toEqual([]);
    expect(compile(() => pg.selectFrom('app.tags').selectAll()).parameters).toEqual(['acme']);
    expect(compile(() => pg.withSchema('app').deleteFrom('tags')).parameters).toEqual(['acme']);
    const main = withTenantScope(compileOnly('sqlite'), { tables: ['main.notes'] });
    expect(compile(() => main.selectFrom('notes').selectAll()).parameters).toEqual(['acme']);
    expect(compile(() => main.selectFrom('MAIN.NOTES').selectAll()).parameters).toEqual(['acme']);
    const my = withTenantScope(compileOnly('mysql'), { tables: ['shop.notes'] });
    expect(compile(() => my.selectFrom('Shop.Notes').selectAll()).parameters).toEqual(['acme']);
  });
});

describe('update keys written as expressions', () => {
  it('resolves sql.ref, sql``, sql.raw, sql.id and references, and refuses raw keys it cannot read', () => {
    const keys = {
      'sql.ref': sql.ref('tenant_id'),
      'sql.ref qualified': sql.ref('orders.TENANT_ID'),
      'sql``': sql`tenant_id`,
      'sql.raw quoted': sql.raw('"Tenant_Id"'),
      'sql.id': sql.id('tenant_id'),
      'sql.id qualified by alias': sql.id('o', 'tenant_id'),
    };
    for (const [name, key] of Object.entries(keys)) {
      expect(refusal(() => db.updateTable('orders as o').set(key as never, 'other' as never)), name).toMatch(/^isolation_violation: .*another tenant/);
      expect(refusal(() => db.updateTable('orders as o').set(key as never, sql`'acme'`)), name).toMatch(/^isolation_violation/);
      expect(refusal(() => db.updateTable('orders as o').set(key as never, 'acme' as never)), name).toBeUndefined();
    }
    expect(refusal(() => db.updateTable('orders').set((eb) => ({ tenant_id: eb.ref('total') })))).toMatch(/^isolation_violation/);
    expect(refusal(() => db.updateTable('orders').set(sql`coalesce(tenant_id, '')`, 'acme' as never))).toMatch(/^isolation_violation: .*raw SQL/);
    expect(refusal(() => db.updateTable('orders').set(sql`total`, 1))).toBeUndefined();
    // A raw SET value that adds an assignment of the tenant column.
    expect(refusal(() => db.updateTable('orders').set({ total: sql`1, tenant_id = 'other'` }))).toMatch(/^isolation_violation: .*SET value/);
    // Other tables keep every freedom.
    expect(refusal(() => db.updateTable('customers').set(sql`coalesce(tenant_id, '')`, 'x' as never))).toBeUndefined();
  });
});

describe('compiled queries on every path of the scoped instance', () => {
  const paths: Record<string, (run: (k: AnyKysely) => Promise<unknown>) => Promise<unknown>> = {
    'db.executeQuery': (run) => run(db),
    'connection()': (run) => db.connection().execute(run),
    'transaction()': (run) => db.transaction().execute(run),
    'startTransaction()': async (run) => {
      const trx = await db.startTransaction().execute();
      try {
        return await run(trx);
      } finally {
        await trx.rollback().execute();
      }
    },
    'withSchema()': (run) => run(db.withSchema('app')),
    'withPlugin()': (run) => run(db.withPlugin(new CamelCasePlugin())),
  };

  it('refuses CompiledQuery.raw, a query compiled elsewhere or for another tenant; runs its own', async () => {
    for (const [name, path] of Object.entries(paths)) {
      const outcome = (compiled: () => CompiledQuery) =>
        runWithTenant(acme, () => path((k) => k.executeQuery(compiled()))).then(
          () => 'ran',
          (error: unknown) => (TenantError.is(error) ? error.code : String(error)),
        );
      expect(await outcome(() => CompiledQuery.raw('select * from customers')), name).toBe('isolation_violation');
      expect(await outcome(() => raw.selectFrom('orders').selectAll().compile()), name).toBe('isolation_violation');
      expect(await outcome(() => runWithTenant(other, () => db.selectFrom('orders').selectAll().compile())), name).toBe('isolation_violation');
      expect(await outcome(() => db.selectFrom('orders').selectAll().compile()), name).toBe('ran');
      expect(await outcome(() => sql`select 1`.compile(db)), name).toBe('ran');
      // A query on no tenant table, compiled here, runs in any context.
      expect(await outcome(() => runWithoutTenant(() => db.selectFrom('customers').selectAll().compile())), name).toBe('ran');
    }
    // A compiled query's parameters (the tenant among them) cannot be swapped.
    const frozen = runWithTenant(acme, () => db.selectFrom('orders').selectAll().compile());
    expect(() => ((frozen.parameters as unknown[])[0] = 'other')).toThrow(TypeError);
    const early = runWithTenant(acme, () => db.selectFrom('orders').selectAll().compile());
    await expect(runWithoutTenant(() => db.executeQuery(early))).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_context_missing'));
    // sql`...`.execute(db) and builders go through the plugin: raw SQL naming a tenant table is refused there.
    await expect(runWithTenant(acme, () => sql`select * from ORDERS`.execute(db))).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
    // unscoped(db) is the way out, and drops the guard with the plugin.
    expect((await runWithoutTenant(() => unscoped(db).executeQuery(CompiledQuery.raw('select * from orders')))).rows).toEqual([]);
  });
});

describe('raw fragments', () => {
  it('finds a tenant table in raw SQL in any quoting, case, qualification or around comments', () => {
    const lite = withTenantScope(compileOnly('sqlite'), { tables: ['notes'] });
    for (const text of ['"NOTES"', '`notes`', '[Notes]', 'main.notes', 'main."NOTES"', '/*x*/notes/*y*/', 'x,notes', 'ｎｏｔｅｓ']) {
      const target = text === 'ｎｏｔｅｓ' ? compileOnly('mysql').withPlugin(tenantScopePlugin({ tables: ['notes'] })) : lite;
      expect(refusal(() => ({ compile: () => sql`select * from ${sql.raw(text)}`.compile(target) })), text).toMatch(/^isolation_violation: .*names a tenant table/);
    }
    expect(refusal(() => ({ compile: () => sql`select * from ${sql.ref('public.orders')}`.compile(db) }))).toMatch(/names a tenant table/);
    expect(refusal(() => ({ compile: () => sql`select * from ${sql.id('public.orders')}`.compile(db) }))).toMatch(/names a tenant table/);
    expect(refusal(() => ({ compile: () => sql`select * from U&"\\006Frders"`.compile(db) }))).toMatch(/U&/);
    expect(refusal(() => ({ compile: () => sql`select database_to_xml(true, false, '')`.compile(db) }))).toMatch(/database_to_xml/);
    // A column of a tenant table, named through sql.ref, is no table.
    expect(refusal(() => db.selectFrom('orders').select(sql`upper(${sql.ref('orders.sku')})`.as('s')))).toBeUndefined();
  });

  it('refuses raw SQL that could end the query, comment out or escape the tenant condition, in queries on tenant tables', () => {
    const cases: Record<string, () => Compilable> = {
      'closing parenthesis': () => db.selectFrom('orders').selectAll().where(sql<boolean>`true) or (true`),
      'line comment': () => db.selectFrom('orders').selectAll().where(sql<boolean>`(true) --`),
      'block comment': () => db.selectFrom('orders').selectAll().where(sql<boolean>`true /*`),
      'semicolon': () => db.selectFrom('orders').selectAll().where(sql<boolean>`true; select 1`),
      'unterminated quote': () => db.selectFrom('orders').selectAll().where(sql<boolean>`sku = 'x`),
      'dollar quote': () => db.selectFrom('orders').selectAll().where(sql<boolean>`$$'$$ = ')' or (true`),
      'backslash in a string': () => db.selectFrom('orders').selectAll().where(sql<boolean>`sku = '\\'`),
      'modifyEnd after the condition': () => db.selectFrom('orders').selectAll().modifyEnd(sql`or true`),
      'modifyEnd on an insert': () => db.insertInto('orders').values({ id: 1 }).modifyEnd(sql`, (2, 'other')`),
    };
    for (const [name, query] of Object.entries(cases)) expect(refusal(query), name).toMatch(/^isolation_violation/);
    // The same raw SQL on other tables, and balanced raw SQL on tenant tables, pass.
    expect(refusal(() => db.selectFrom('customers').selectAll().where(sql<boolean>`true) or (true`))).toBeUndefined();
    expect(refusal(() => db.selectFrom('orders').selectAll().where(sql<boolean>`sku like '%(%' and (total > ${1})`))).toBeUndefined();
  });

  it('refuses schema changes of tenant tables on the scoped instance', () => {
    expect(refusal(() => db.schema.dropTable('ORDERS'))).toMatch(/^isolation_violation: .*unscoped/);
    expect(refusal(() => db.schema.alterTable('orders').addColumn('x', 'text'))).toMatch(/^isolation_violation/);
    expect(refusal(() => db.schema.dropTable('customers'))).toBeUndefined();
  });
});

function db0(): AnyKysely {
  return withTenantScope(compileOnly('postgres'), { tables: ['notes'] });
}

describe('function names are raw SQL', () => {
  it('checks eb.fn and aggregate names like raw fragments', () => {
    expect(refusal(() => db.selectFrom('customers').select((eb) => eb.fn('query_to_xml', [eb.val('select * from ord' + 'ers'), eb.lit(true), eb.lit(false), eb.val('')]).as('x')))).toMatch(/query_to_xml/);
    expect(refusal(() => db.selectFrom('customers').select((eb) => eb.fn('(select count(*) from orders)', []).as('x')))).toMatch(/names a tenant table/);
    expect(refusal(() => db.selectFrom('orders').select((eb) => eb.fn('lower', ['sku']).as('s')).where((eb) => eb.fn<boolean>('true) or (true', [])))).toMatch(/unbalanced parenthesis/);
    expect(refusal(() => db.selectFrom('orders').select((eb) => [eb.fn('lower', ['sku']).as('s'), eb.fn.count('id').as('n')]).groupBy('sku'))).toBeUndefined();
  });
});

describe("kysely's own raw helpers", () => {
  it('pass the raw checks, and their subqueries are scoped', () => {
    const q = compile(() =>
      db
        .selectFrom('orders')
        .select((eb) => [
          jsonArrayFrom(eb.selectFrom('items').select(['items.sku']).whereRef('items.order_id', '=', 'orders.id')).as('items'),
          jsonObjectFrom(eb.selectFrom('items').select(['items.sku']).limit(1)).as('first'),
        ]),
    );
    expect(q.parameters).toEqual(['acme', 'acme', 1, 'acme']);
  });
});

describe('two scoped instances', () => {
  it("scope a subquery of the other again: one instance's tables are not another's", () => {
    const ordersOnly = withTenantScope(raw, { tables: ['orders'] });
    const both = withTenantScope(raw, { tables: ['orders', 'items'] });
    const sub = ordersOnly.selectFrom('orders').innerJoin('items', 'items.order_id', 'orders.id').select('items.sku');
    const q = compile(() => both.selectFrom('customers').selectAll().where('name', 'in', sub));
    expect(q.text).toBe(
      // items scoped by the second instance; orders twice (once by each), harmless.
      'select * from "customers" where "name" in (select "items"."sku" from "orders" inner join "items" on ("items"."order_id" = "orders"."id") and "items"."tenant_id" = $1 where ("orders"."tenant_id" = $2) and "orders"."tenant_id" = $3)',
    );
  });
});
