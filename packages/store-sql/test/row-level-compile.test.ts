// Compiled-SQL tests of the row-level plugin: pure query-tree logic, no database.
import { describe, expect, it } from 'vitest';
import { CamelCasePlugin, DummyDriver, ExpressionWrapper, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type Compilable } from 'kysely';
import { createTestTenant } from '@tenant/core/testing';
import { TenantError, runWithTenant, runWithoutTenant } from '@tenant/core';
import { tenantScopePlugin, unscoped, withTenantScope } from '../src/index.js';
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
