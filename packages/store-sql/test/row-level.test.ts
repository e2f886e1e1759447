// The row-level plugin against the real databases: a dialect matrix.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestTenant } from '@tenant/core/testing';
import { TenantError, runWithTenant, type TenantConfig } from '@tenant/core';
import { unscoped, withTenantScope } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { DIALECTS, uniquePrefix } from './dialects.js';
import { SEED, seededRandom } from './random.js';

const TENANTS: TenantConfig[] = ['t-a', 't-b', 't-c', 't-d', 't-e', 't-f'].map((id) => createTestTenant({ id }));
const [A, B] = TENANTS as [TenantConfig, TenantConfig];

interface OrderRow {
  id: number;
  tenant_id: string;
  total: number;
}

for (const dialect of DIALECTS) {
  describe(`row-level isolation on ${dialect.name}`, () => {
    const prefix = uniquePrefix('rl');
    const orders = `${prefix}orders`;
    const items = `${prefix}items`;
    let admin: AnyKysely;
    let db: AnyKysely;
    let nextId = 1;

    beforeAll(async () => {
      admin = dialect.create(2);
      await admin.schema
        .createTable(orders)
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .execute();
      await admin.schema
        .createTable(items)
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('order_id', 'integer', (c) => c.notNull())
        .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('sku', 'varchar(64)', (c) => c.notNull())
        .execute();
      db = withTenantScope(admin, { tables: [orders, items] });
    });

    afterAll(async () => {
      await admin.schema.dropTable(items).ifExists().execute();
      await admin.schema.dropTable(orders).ifExists().execute();
      await admin.destroy();
    });

    const ownRows = (tenant: TenantConfig) => unscoped(db).selectFrom(orders).select(['id', 'tenant_id', 'total']).where('tenant_id', '=', tenant.id).orderBy('id').execute() as Promise<OrderRow[]>;

    it('inserts with the tenant set, reads, updates and deletes only its own rows', async () => {
      const a1 = nextId++;
      const b1 = nextId++;
      await runWithTenant(A, () => db.insertInto(orders).values({ id: a1, total: 10 }).execute());
      await runWithTenant(B, () => db.insertInto(orders).values({ id: b1, total: 20 }).execute());
      expect((await ownRows(A)).map((r) => r.id)).toEqual([a1]);
      await runWithTenant(A, async () => {
        expect(await db.selectFrom(orders).select('id').execute()).toEqual([{ id: a1 }]);
        expect(await db.selectFrom(orders).select('id').where('id', '=', b1).executeTakeFirst()).toBeUndefined();
        const updated = await db.updateTable(orders).set({ total: 0 }).where('id', '=', b1).executeTakeFirst();
        expect(Number(updated.numUpdatedRows)).toBe(0);
        const deleted = await db.deleteFrom(orders).where('id', 'in', [a1, b1]).executeTakeFirst();
        expect(Number(deleted.numDeletedRows)).toBe(1);
        await expect(db.insertInto(orders).values({ id: nextId++, tenant_id: B.id, total: 1 }).execute()).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
      });
      expect(await ownRows(B)).toEqual([{ id: b1, tenant_id: B.id, total: 20 }]);
      await expect(db.selectFrom(orders).selectAll().execute()).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_context_missing'));
      await expect(runWithTenant(A, () => sql`select * from ${sql.table(orders)}`.execute(db))).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
    });

    it('scopes joins and transactions', async () => {
      const [a, b] = [nextId++, nextId++];
      await runWithTenant(A, () => db.insertInto(orders).values({ id: a, total: 1 }).execute());
      await runWithTenant(B, () => db.insertInto(orders).values({ id: b, total: 1 }).execute());
      // B's item points at A's order: a join from A must not show it.
      await runWithTenant(B, () => db.insertInto(items).values({ id: nextId++, order_id: a, sku: 'b-on-a' }).execute());
      await runWithTenant(A, () => db.insertInto(items).values({ id: nextId++, order_id: a, sku: 'a-on-a' }).execute());
      const rows = await runWithTenant(A, () =>
        db.transaction().execute((trx) =>
          trx.selectFrom(`${orders} as o`).leftJoin(`${items} as i`, 'i.order_id', 'o.id').select(['o.id', 'o.tenant_id as ot', 'i.tenant_id as it', 'i.sku']).where('o.id', '=', a).execute(),
        ),
      );
      expect(rows).toEqual([{ id: a, ot: A.id, it: A.id, sku: 'a-on-a' }]);
    });

    it('scopes subqueries in writes: an update driven by another tenant table touches only own rows', async () => {
      const [a, b] = [nextId++, nextId++];
      await runWithTenant(A, () => db.insertInto(orders).values({ id: a, total: 7 }).execute());
      await runWithTenant(B, () => db.insertInto(orders).values({ id: b, total: 7 }).execute());
      await runWithTenant(B, () => db.insertInto(items).values({ id: nextId++, order_id: b, sku: 'flag' }).execute());
      await runWithTenant(A, () => db.insertInto(items).values({ id: nextId++, order_id: b, sku: 'flag' }).execute());
      // A's subquery sees only A's item (pointing at B's order), and the update may touch only A's orders: nothing changes.
      const result = await runWithTenant(A, () =>
        db.updateTable(orders).set({ total: 0 }).where('id', 'in', db.selectFrom(items).select('order_id').where('sku', '=', 'flag')).executeTakeFirst(),
      );
      expect(Number(result.numUpdatedRows)).toBe(0);
      expect((await ownRows(B)).find((r) => r.id === b)?.total).toBe(7);
      if (dialect.name === 'mysql') {
        // MySQL's multi-table update: both tables scoped.
        const joined = await runWithTenant(A, () =>
          db.updateTable([`${orders} as o`, `${items} as i`]).set('o.total', 1).whereRef('i.order_id', '=', 'o.id').where('i.sku', '=', 'flag').executeTakeFirst(),
        );
        expect(Number(joined.numUpdatedRows)).toBe(0);
        expect((await ownRows(B)).find((r) => r.id === b)?.total).toBe(7);
      }
    });

    it('keeps tenants apart when A/B/A requests interleave through one small pool', async () => {
      const tasks = Array.from({ length: 24 }, (_, i) => {
        const tenant = i % 3 === 1 ? B : A;
        return runWithTenant(tenant, async () => {
          const seen: string[] = [];
          for (let step = 0; step < 3; step += 1) {
            await db.insertInto(orders).values({ id: nextId++, total: i }).execute();
            await sleep(i % 4);
            const rows = (await db.selectFrom(orders).select('tenant_id').execute()) as { tenant_id: string }[];
            seen.push(...rows.map((r) => r.tenant_id));
            await db.transaction().execute(async (trx) => {
              const inTrx = (await trx.selectFrom(orders).select('tenant_id').execute()) as { tenant_id: string }[];
              seen.push(...inTrx.map((r) => r.tenant_id));
            });
          }
          return { tenant: tenant.id, seen };
        });
      });
      for (const { tenant, seen } of await Promise.all(tasks)) {
        expect(seen.length).toBeGreaterThan(0);
        expect(new Set(seen)).toEqual(new Set([tenant]));
      }
    });

    it(`finds no cross-tenant read or write in a randomized run (seed ${SEED})`, async () => {
      const random = seededRandom(SEED);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
      await unscoped(db).deleteFrom(items).execute();
      await unscoped(db).deleteFrom(orders).execute();
      const model = new Map<string, Map<number, number>>(TENANTS.map((t) => [t.id, new Map()]));
      const allIds: number[] = [];
      const op = async (tenant: TenantConfig) => {
        const mine = model.get(tenant.id) as Map<number, number>;
        const kind = pick(['insert', 'insert', 'list', 'update', 'delete', 'get', 'join']);
        const target = allIds.length > 0 ? pick(allIds) : -1;
        const own = mine.has(target);
        if (kind === 'insert') {
          const id = nextId++;
          const total = Math.floor(random() * 1000);
          mine.set(id, total);
          allIds.push(id);
          await db.insertInto(orders).values({ id, total }).execute();
          if (random() < 0.5) await db.insertInto(items).values({ id: nextId++, order_id: target === -1 ? id : target, sku: tenant.id }).execute();
        } else if (kind === 'list') {
          const rows = (await db.selectFrom(orders).select(['id', 'tenant_id', 'total']).orderBy('id').execute()) as OrderRow[];
          expect(rows.every((r) => r.tenant_id === tenant.id)).toBe(true);
          expect(rows.map((r) => [r.id, r.total])).toEqual([...mine.entries()].sort((x, y) => x[0] - y[0]));
        } else if (kind === 'update') {
          const total = Math.floor(random() * 1000);
          if (own) mine.set(target, total);
          const result = await db.updateTable(orders).set({ total }).where('id', '=', target).executeTakeFirst();
          expect(Number(result.numUpdatedRows)).toBe(own ? 1 : 0);
        } else if (kind === 'delete') {
          mine.delete(target);
          const result = await db.deleteFrom(orders).where('id', '=', target).executeTakeFirst();
          expect(Number(result.numDeletedRows)).toBe(own ? 1 : 0);
        } else if (kind === 'get') {
          const row = await db.selectFrom(orders).select(['total']).where('id', '=', target).executeTakeFirst();
          expect(row).toEqual(own ? { total: mine.get(target) } : undefined);
        } else {
          const rows = (await db.selectFrom(`${orders} as o`).leftJoin(`${items} as i`, 'i.order_id', 'o.id').select(['o.tenant_id as ot', 'i.tenant_id as it', 'i.sku']).execute()) as { ot: string; it: string | null; sku: string | null }[];
          for (const row of rows) {
            expect(row.ot).toBe(tenant.id);
            expect([tenant.id, null]).toContain(row.it);
            expect([tenant.id, null]).toContain(row.sku);
          }
        }
      };
      // Each round runs one operation per tenant concurrently, in shuffled order, through the shared pool.
      for (let round = 0; round < 40; round += 1) {
        const order = [...TENANTS].sort(() => random() - 0.5);
        await Promise.all(order.map((tenant) => runWithTenant(tenant, () => op(tenant))));
      }
      for (const tenant of TENANTS) {
        const rows = await ownRows(tenant);
        expect(rows.map((r) => [r.id, r.total])).toEqual([...(model.get(tenant.id) as Map<number, number>).entries()].sort((x, y) => x[0] - y[0]));
        const strayItems = (await unscoped(db).selectFrom(items).select('sku').where('tenant_id', '=', tenant.id).where('sku', '!=', tenant.id).execute()) as unknown[];
        expect(strayItems).toEqual([]);
      }
    });
  });
}
