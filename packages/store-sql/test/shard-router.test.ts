import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant } from '@tenant/core/testing';
import { TenantError, runWithTenant } from '@tenant/core';
import { createShardRouter, planShardMoves, unscoped, withTenantScope, type ShardRouter } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { DIALECTS, uniquePrefix } from './dialects.js';

const ids = Array.from({ length: 20_000 }, (_, i) => `tenant-${i}`);

describe('createShardRouter: consistent hashing', () => {
  const shards = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, i]));

  it('spreads tenants evenly over the shards', () => {
    const router = createShardRouter({ shards: shards(4) });
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(router.shardFor(id), (counts.get(router.shardFor(id)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['s0', 's1', 's2', 's3']);
    for (const count of counts.values()) expect(count / ids.length).toBeGreaterThan(0.18); // ideal 0.25
  });

  it('adding a shard moves about 1/N of the tenants, all to the new shard', () => {
    for (const n of [3, 5, 8]) {
      const before = createShardRouter({ shards: shards(n) });
      const after = createShardRouter({ shards: shards(n + 1) });
      const moves = planShardMoves(before, after, ids);
      const fraction = moves.length / ids.length;
      const ideal = 1 / (n + 1);
      expect(fraction).toBeGreaterThan(ideal * 0.6);
      expect(fraction).toBeLessThan(ideal * 1.4);
      expect(new Set(moves.map((m) => m.to))).toEqual(new Set([`s${n}`]));
    }
  });

  it('is stable across instances and honours pins', () => {
    const a = createShardRouter({ shards: shards(4), pins: { 'tenant-1': 's3' } });
    const b = createShardRouter({ shards: shards(4) });
    for (const id of ids.slice(2, 500)) expect(a.shardFor(id)).toBe(b.shardFor(id));
    expect(a.shardFor('tenant-1')).toBe('s3');
    const natural = b.shardFor('tenant-7');
    const other = natural === 's0' ? 's1' : 's0';
    a.pin('tenant-7', other);
    expect(a.shardFor('tenant-7')).toBe(other);
    expect(a.shard('tenant-7')).toBe(Number(other.slice(1)));
    a.unpin('tenant-7');
    expect(a.shardFor('tenant-7')).toBe(natural);
    expect(() => a.pin('tenant-7', 's9')).toThrow(RangeError);
    expect(() => createShardRouter({ shards: {} })).toThrow(TypeError);
    expect(() => createShardRouter({ shards: shards(2), virtualNodes: 0 })).toThrow(RangeError);
    expect(() => a.shardFor('')).toThrow(TenantError);
    expect(() => a.shard()).toThrow(/no tenant in context/);
  });
});

describe('createShardRouter: tenants on PostgreSQL, MariaDB and SQLite shards', () => {
  const prefix = uniquePrefix('shard');
  const table = `${prefix}events`;
  const dbs: Record<string, AnyKysely> = {};
  let router: ShardRouter<AnyKysely>;

  beforeAll(async () => {
    for (const dialect of DIALECTS) {
      const db = dialect.create(2);
      await db.schema.createTable(table).addColumn('tenant_id', 'varchar(64)', (c) => c.notNull()).addColumn('n', 'integer', (c) => c.notNull()).execute();
      dbs[dialect.name] = withTenantScope(db, { tables: [table] });
    }
    router = createShardRouter({ shards: dbs, pins: { 'pinned-1': 'sqlite' } });
  });

  afterAll(async () => {
    for (const db of Object.values(dbs)) {
      // Schema changes of a tenant table are refused on the scoped instance: they go through unscoped(db).
      await unscoped(db).schema.dropTable(table).ifExists().execute();
      await db.destroy();
    }
  });

  it("writes each tenant's rows only to its shard, and reads them back from there", async () => {
    const tenants = [...Array.from({ length: 30 }, (_, i) => `tenant-${i}`), 'pinned-1'].map((id) => createTestTenant({ id }));
    await Promise.all(
      tenants.map((tenant, i) =>
        runWithTenant(tenant, async () => {
          await router.shard().insertInto(table).values({ n: i }).execute();
          const rows = (await router.shard().selectFrom(table).select(['tenant_id', 'n']).execute()) as { tenant_id: string; n: number }[];
          expect(rows).toEqual([{ tenant_id: tenant.id, n: i }]);
        }),
      ),
    );
    for (const [name, db] of Object.entries(dbs)) {
      const rows = (await unscoped(db).selectFrom(table).select('tenant_id').execute()) as { tenant_id: string }[];
      for (const row of rows) expect(router.shardFor(row.tenant_id)).toBe(name);
    }
    const total = (await Promise.all(Object.values(dbs).map((db) => unscoped(db).selectFrom(table).select('n').execute()))).flat();
    expect(total).toHaveLength(tenants.length);
    expect(router.shardFor('pinned-1')).toBe('sqlite');
    expect(new Set(tenants.map((t) => router.shardFor(t.id))).size).toBe(3);
  });
});
