// PostgreSQL row-level security, proven with a real application role that has no BYPASSRLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { TenantError, runWithTenant } from '@tenant/core';
import { createTestTenant } from '@tenant/core/testing';
import { disableRowLevelSecurity, enableRowLevelSecurity, unscoped, withTenantScope, withTenantTransaction } from '../src/index.js';
import type { AnyKysely, AnyTransaction } from '../src/dialect.js';
import { postgres, uniquePrefix } from './dialects.js';
import { SEED, seededRandom } from './random.js';

describe('PostgreSQL RLS', () => {
  const prefix = uniquePrefix('rls');
  const docs = `${prefix}docs`;
  const role = `${prefix}app`;
  let db: AnyKysely;

  /** Hand-written SQL as the application role, in a transaction with the tenant set (or not). */
  const asApp = <R>(tenantId: string | undefined, fn: (trx: AnyTransaction) => Promise<R>): Promise<R> => {
    const body = async (trx: AnyTransaction) => {
      await sql`set local role ${sql.id(role)}`.execute(trx);
      return fn(trx);
    };
    return tenantId === undefined ? db.transaction().execute(body) : withTenantTransaction(db, tenantId, body);
  };
  const readAll = (trx: AnyTransaction) => sql<{ tenant_id: string; body: string }>`select tenant_id, body from ${sql.table(docs)} order by body`.execute(trx).then((r) => r.rows);

  beforeAll(async () => {
    db = postgres(1);
    await sql`create table ${sql.table(docs)} (id serial primary key, tenant_id text not null, body text not null)`.execute(db);
    await sql`create role ${sql.id(role)} nologin nosuperuser nobypassrls`.execute(db);
    await sql`grant usage on schema public to ${sql.id(role)}`.execute(db);
    await sql`grant select, insert, update, delete on ${sql.table(docs)} to ${sql.id(role)}`.execute(db);
    await sql`grant usage on sequence ${sql.table(`${docs}_id_seq`)} to ${sql.id(role)}`.execute(db);
    await sql`insert into ${sql.table(docs)} (tenant_id, body) values ('acme', 'a1'), ('acme', 'a2'), ('globex', 'g1')`.execute(db);
    await enableRowLevelSecurity(db, { tables: [docs] });
    await enableRowLevelSecurity(db, { tables: [docs] }); // idempotent
  });

  afterAll(async () => {
    await sql`drop table if exists ${sql.table(docs)}`.execute(db);
    await sql`drop owned by ${sql.id(role)}`.execute(db);
    await sql`drop role if exists ${sql.id(role)}`.execute(db);
    await db.destroy();
  });

  it('the application role has neither superuser nor BYPASSRLS, and the table forces RLS', async () => {
    const r = await sql<{ rolsuper: boolean; rolbypassrls: boolean }>`select rolsuper, rolbypassrls from pg_roles where rolname = ${role}`.execute(db);
    expect(r.rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    const t = await sql<{ relrowsecurity: boolean; relforcerowsecurity: boolean }>`select relrowsecurity, relforcerowsecurity from pg_class where relname = ${docs}`.execute(db);
    expect(t.rows).toEqual([{ relrowsecurity: true, relforcerowsecurity: true }]);
  });

  it("hand-written SQL sees only the tenant's rows, and nothing with no tenant set", async () => {
    expect(await asApp('acme', readAll)).toEqual([{ tenant_id: 'acme', body: 'a1' }, { tenant_id: 'acme', body: 'a2' }]);
    expect(await asApp('globex', readAll)).toEqual([{ tenant_id: 'globex', body: 'g1' }]);
    expect(await asApp(undefined, readAll)).toEqual([]);
    expect(await asApp("acme' or '1'='1", readAll)).toEqual([]);
    // Writes are checked too: no update or delete reaches another tenant, no insert may name one.
    const updated = await asApp('acme', (trx) => sql`update ${sql.table(docs)} set body = 'x' where body = 'g1'`.execute(trx));
    expect(Number(updated.numAffectedRows)).toBe(0);
    await expect(asApp('acme', (trx) => sql`insert into ${sql.table(docs)} (tenant_id, body) values ('globex', 'sneaky')`.execute(trx))).rejects.toThrow(/row-level security/);
    expect(await asApp('globex', readAll)).toEqual([{ tenant_id: 'globex', body: 'g1' }]);
  });

  it('the tenant setting ends with the transaction (pool of one connection)', async () => {
    await withTenantTransaction(db, 'acme', async (trx) => {
      const inside = await sql<{ v: string }>`select current_setting('app.tenant_id', true) as v`.execute(trx);
      expect(inside.rows[0]?.v).toBe('acme');
    });
    const after = await sql<{ v: string | null }>`select current_setting('app.tenant_id', true) as v`.execute(db);
    expect([null, '']).toContain(after.rows[0]?.v);
    expect(await asApp(undefined, readAll)).toEqual([]);
  });

  it("fails closed on a connection that ran a tenant transaction before: the setting reads '' there, and '' is no tenant", async () => {
    await sql`insert into ${sql.table(docs)} (tenant_id, body) values ('', 'nobody')`.execute(db);
    try {
      await withTenantTransaction(db, 'acme', async () => undefined);
      // The premise: on this (single) pooled connection the setting is now defined, as ''.
      expect((await sql<{ v: string | null }>`select current_setting('app.tenant_id', true) as v`.execute(db)).rows[0]?.v).toBe('');
      expect(await asApp(undefined, readAll)).toEqual([]);
      await expect(asApp(undefined, (trx) => sql`insert into ${sql.table(docs)} (tenant_id, body) values ('', 'planted')`.execute(trx))).rejects.toThrow(/row-level security/);
      // The same with the setting explicitly empty in the transaction.
      const emptyTenant = <R>(fn: (trx: AnyTransaction) => Promise<R>) =>
        db.transaction().execute(async (trx) => {
          await sql`select set_config('app.tenant_id', '', true)`.execute(trx);
          await sql`set local role ${sql.id(role)}`.execute(trx);
          return fn(trx);
        });
      expect(await emptyTenant(readAll)).toEqual([]);
      await expect(emptyTenant((trx) => sql`insert into ${sql.table(docs)} (tenant_id, body) values ('', 'planted')`.execute(trx))).rejects.toThrow(/row-level security/);
      const updated = await emptyTenant((trx) => sql`update ${sql.table(docs)} set body = 'x'`.execute(trx));
      expect(Number(updated.numAffectedRows)).toBe(0);
    } finally {
      await sql`delete from ${sql.table(docs)} where tenant_id = ''`.execute(db);
    }
  });

  it('re-running enableRowLevelSecurity upgrades a policy of the earlier form, which admitted the empty tenant', async () => {
    const legacy = `${prefix}legacy`;
    await sql`create table ${sql.table(legacy)} (tenant_id text not null, body text not null)`.execute(db);
    try {
      await sql`grant select, insert on ${sql.table(legacy)} to ${sql.id(role)}`.execute(db);
      await sql`insert into ${sql.table(legacy)} values ('acme', 'a'), ('', 'nobody')`.execute(db);
      await sql`alter table ${sql.table(legacy)} enable row level security`.execute(db);
      await sql`alter table ${sql.table(legacy)} force row level security`.execute(db);
      // The policy as an earlier release created it.
      await sql`create policy tenant_isolation on ${sql.table(legacy)} using (tenant_id = current_setting('app.tenant_id', true)) with check (tenant_id = current_setting('app.tenant_id', true))`.execute(db);
      const read = () =>
        db.transaction().execute(async (trx) => {
          await sql`select set_config('app.tenant_id', '', true)`.execute(trx);
          await sql`set local role ${sql.id(role)}`.execute(trx);
          return (await sql<{ body: string }>`select body from ${sql.table(legacy)}`.execute(trx)).rows.map((r) => r.body);
        });
      expect(await read()).toEqual(['nobody']); // the hole this release closes
      await enableRowLevelSecurity(db, { tables: [legacy] });
      expect(await read()).toEqual([]);
      const policies = await sql<{ policyname: string; qual: string; with_check: string }>`
        select policyname, qual, with_check from pg_policies where tablename = ${legacy}`.execute(db);
      expect(policies.rows).toHaveLength(1);
      expect(policies.rows[0]?.qual).toMatch(/nullif/i);
      expect(policies.rows[0]?.with_check).toMatch(/nullif/i);
      expect(await asApp('acme', (trx) => sql<{ body: string }>`select body from ${sql.table(legacy)}`.execute(trx).then((r) => r.rows))).toEqual([{ body: 'a' }]);
    } finally {
      await sql`drop table if exists ${sql.table(legacy)}`.execute(db);
    }
  });

  it('takes the tenant from the context, and needs one', async () => {
    const rows = await runWithTenant(createTestTenant({ id: 'globex' }), () => withTenantTransaction(db, undefined, async (trx) => {
      await sql`set local role ${sql.id(role)}`.execute(trx);
      return readAll(trx);
    }));
    expect(rows).toEqual([{ tenant_id: 'globex', body: 'g1' }]);
    await expect(withTenantTransaction(db, undefined, async () => 1)).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_context_missing'));
  });

  it('works under the row-level plugin (defence in depth), and in a randomized run finds no cross-tenant row', async () => {
    const scoped = withTenantScope(db, { tables: [docs] });
    const tenants = ['acme', 'globex', 'initech'].map((id) => createTestTenant({ id }));
    const random = seededRandom(SEED);
    const counts = new Map<string, number>();
    for (const row of await asApp('acme', readAll)) counts.set(row.tenant_id, (counts.get(row.tenant_id) ?? 0) + 1);
    counts.set('globex', 1);
    // Rounds of concurrent A/B/C transactions through the single pooled connection.
    for (let round = 0; round < 12; round += 1) {
      await Promise.all(
        Array.from({ length: 5 }, (_, k) => {
          const i = round * 5 + k;
          const tenant = tenants[Math.floor(random() * tenants.length)] as (typeof tenants)[number];
          const write = random() < 0.5;
          return runWithTenant(tenant, () =>
            withTenantTransaction(scoped, undefined, async (trx) => {
              await sql`set local role ${sql.id(role)}`.execute(unscoped(trx));
              if (write) {
                await trx.insertInto(docs).values({ body: `r${i}` }).execute();
                counts.set(tenant.id, (counts.get(tenant.id) ?? 0) + 1);
              }
              const seen = (await sql<{ tenant_id: string }>`select tenant_id from ${sql.table(docs)}`.execute(unscoped(trx))).rows;
              expect(seen.every((r) => r.tenant_id === tenant.id)).toBe(true);
              expect(seen.length).toBe(counts.get(tenant.id) ?? 0);
            }),
          );
        }),
      );
      // Between transactions the connection carries no tenant and no role.
      const idle = await sql<{ v: string | null; r: string }>`select current_setting('app.tenant_id', true) as v, current_user as r`.execute(db);
      expect([null, '']).toContain(idle.rows[0]?.v);
      expect(idle.rows[0]?.r).not.toBe(role);
    }
  });

  it('can be disabled again', async () => {
    const other = `${prefix}tmp`;
    await sql`create table ${sql.table(other)} (tenant_id text)`.execute(db);
    await enableRowLevelSecurity(db, { tables: [other] });
    await disableRowLevelSecurity(db, { tables: [other] });
    const t = await sql<{ relrowsecurity: boolean }>`select relrowsecurity from pg_class where relname = ${other}`.execute(db);
    expect(t.rows).toEqual([{ relrowsecurity: false }]);
    await sql`drop table ${sql.table(other)}`.execute(db);
    await expect(enableRowLevelSecurity(db, { tables: ['x; drop table y'] })).rejects.toThrow(TypeError);
  });
});
