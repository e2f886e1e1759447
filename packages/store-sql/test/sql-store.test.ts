import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantError, createMemoryTenantStore, type TenantChangeEvent, type TenantStore } from '@tenant/core';
import { Migrator, NO_MIGRATIONS, PostgresAdapter, type KyselyPlugin } from 'kysely';
import { createSqlTenantStore, createTenantStoreMigrations, detectDialect, migrateTenantStore, tenantStoreTables, type SqlTenantStore } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { DIALECTS, uniquePrefix } from './dialects.js';

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return TenantError.is(error) ? error.code : `not a TenantError: ${String(error)}`;
  }
}

/** Runs the same steps on the SQL store and the memory store, expecting the same outcome. */
async function both<T>(sqlStore: TenantStore, memory: TenantStore, step: (store: TenantStore) => Promise<T>): Promise<T | string> {
  const run = async (store: TenantStore) => {
    try {
      return { ok: await step(store) };
    } catch (error) {
      return { error: TenantError.is(error) ? error.code : String(error) };
    }
  };
  const [a, b] = await Promise.all([run(sqlStore), run(memory)]);
  const strip = (r: { ok?: unknown; error?: string }) => JSON.parse(JSON.stringify(r, (key, value: unknown) => (key === 'createdAt' || key === 'updatedAt' || key === 'deletedAt' ? 'time' : value))) as unknown;
  expect(strip(a)).toEqual(strip(b));
  return 'ok' in a ? (a.ok as T) : (a.error as string);
}

for (const dialect of DIALECTS) {
  describe(`SqlTenantStore on ${dialect.name}`, () => {
    let db: AnyKysely;
    let store: SqlTenantStore;
    const prefix = uniquePrefix('store');

    beforeAll(async () => {
      db = dialect.create();
      await migrateTenantStore(db, { tablePrefix: prefix });
      store = createSqlTenantStore({ db, tablePrefix: prefix });
    });

    afterAll(async () => {
      await migrateTenantStore(db, { tablePrefix: prefix, to: 'none' });
      await db.destroy();
    });

    it('detects the dialect and names its tables with the prefix', () => {
      expect(store.dialect).toBe(dialect.name);
      expect(store.tables.tenants).toBe(`${prefix}tenants`);
    });

    it('migrations are idempotent and reversible', async () => {
      const again = await migrateTenantStore(db, { tablePrefix: prefix });
      expect(again.results).toEqual([]);
      const other = uniquePrefix('mig');
      await migrateTenantStore(db, { tablePrefix: other });
      const tables = (await db.introspection.getTables()).map((t) => t.name);
      expect(tables).toContain(tenantStoreTables({ tablePrefix: other }).domains);
      await migrateTenantStore(db, { tablePrefix: other, to: 'none' });
      const after = (await db.introspection.getTables()).map((t) => t.name);
      expect(after.filter((name) => name.startsWith(other))).toEqual([]);
    });

    it("runs from the user's own Migrator, merged with their migrations", async () => {
      const own = uniquePrefix('own');
      const migrator = new Migrator({
        db,
        migrationTableName: `${own}history`,
        migrationLockTableName: `${own}lock`,
        provider: {
          getMigrations: async () => ({
            ...createTenantStoreMigrations({ tablePrefix: own }),
            '2027_01_01_app_orders': { up: (d) => d.schema.createTable(`${own}orders`).addColumn('id', 'integer').execute(), down: (d) => d.schema.dropTable(`${own}orders`).execute() },
          }),
        },
      });
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      expect(up.results?.map((r) => r.migrationName)).toEqual(['2026_11_01_000_tenant_store_initial', '2027_01_01_app_orders']);
      const ownStore = createSqlTenantStore({ db, tablePrefix: own });
      await ownStore.create({ id: 'own-a' });
      expect((await ownStore.get('own-a'))?.id).toBe('own-a');
      const down = await migrator.migrateTo(NO_MIGRATIONS);
      expect(down.error).toBeUndefined();
      await db.schema.dropTable(`${own}history`).execute();
      await db.schema.dropTable(`${own}lock`).execute();
    });

    it('round-trips a full config and finds it by id and domain', async () => {
      const created = await store.create({
        id: 'rt-acme',
        name: 'Acme “Inc.”',
        plan: 'pro',
        quota: { requests: { limit: 100, windowMs: 60_000 } },
        policy: { models: ['gpt-x'], features: [] },
        domains: ['Acme.Example.com', 'www.acme.example.com'],
        metadata: { nested: { list: [1, 'two', null, true] }, emoji: '🦄' },
      });
      expect(created.version).toBe(1);
      expect(created.domains).toEqual(['acme.example.com', 'www.acme.example.com']);
      expect(await store.get('rt-acme')).toEqual(created);
      expect(await store.getByDomain('WWW.acme.example.com:443')).toEqual(created);
      expect(await store.getByDomain('nobody.example.com')).toBeUndefined();
      expect(Object.isFrozen(await store.get('rt-acme'))).toBe(true);
    });

    it('returns JSON exactly as given: key order, escapes, unicode', async () => {
      const metadata = { z: 1, a: { y: [3, 2, 1], b: 'nul\u0000 tab\t quote" 🦄' }, m: 1.5, big: 9007199254740991 };
      const created = await store.create({ id: 'json-a', metadata, policy: { tools: ['b', 'a'] } });
      const read = await store.get('json-a');
      expect(JSON.stringify(read?.metadata)).toBe(JSON.stringify(metadata));
      expect(JSON.stringify(read)).toBe(JSON.stringify(created));
    });

    it('behaves like the memory store through a sequence of writes and errors', async () => {
      const memory = createMemoryTenantStore();
      const s = store;
      await both(s, memory, (x) => x.create({ id: 'seq-a', domains: ['seq-a.example.com'] }));
      await both(s, memory, (x) => x.create({ id: 'seq-a' }));
      await both(s, memory, (x) => x.create({ id: 'seq-b', domains: ['seq-a.example.com'] }));
      await both(s, memory, (x) => x.create({ id: 'Bad Id' }));
      await both(s, memory, (x) => x.create({ id: 'seq-b', plan: 'not a plan!' }));
      await both(s, memory, (x) => x.get('seq-b'));
      await both(s, memory, (x) => x.create({ id: 'seq-b', domains: ['seq-b.example.com'] }));
      await both(s, memory, (x) => x.update('seq-b', { plan: 'pro' }, { expectedVersion: 1 }));
      await both(s, memory, (x) => x.update('seq-b', { plan: 'team' }, { expectedVersion: 1 }));
      await both(s, memory, (x) => x.update('seq-b', { domains: ['seq-a.example.com'] }));
      await both(s, memory, (x) => x.update('seq-b', { domains: ['seq-b2.example.com', 'seq-b.example.com'], name: 'B' }));
      await both(s, memory, (x) => x.getByDomain('seq-b2.example.com'));
      await both(s, memory, (x) => x.update('seq-b', { plan: null, name: null }));
      await both(s, memory, (x) => x.update('nobody', { plan: 'x' }));
      await both(s, memory, (x) => x.delete('seq-b', { expectedVersion: 1 }));
      await both(s, memory, (x) => x.delete('seq-b'));
      await both(s, memory, (x) => x.delete('seq-b'));
      await both(s, memory, (x) => x.update('seq-b', { plan: 'x' }));
      await both(s, memory, (x) => x.getByDomain('seq-b.example.com'));
      await both(s, memory, (x) => x.create({ id: 'seq-c', domains: ['seq-b.example.com'] }));
      await both(s, memory, (x) => x.restore('seq-b', { status: 'suspended' }));
      await both(s, memory, (x) => x.restore('seq-b'));
      await both(s, memory, (x) => x.get('seq-b'));
      await both(s, memory, (x) => x.update('seq-b', { status: 'deleted' as never }));
    });

    it('pages by id with the same cursors and filters as the memory store', async () => {
      const memory = createMemoryTenantStore();
      const ids = ['pg-b', 'pg-a', 'pg-a-b', 'pg-a_b', 'pg-ab', 'pg-0', 'pg-z9', 'pg-m'];
      for (const [i, id] of ids.entries()) {
        const input = { id, plan: i % 2 === 0 ? 'even' : 'odd', ...(i === 3 ? { status: 'suspended' as const } : {}) };
        await store.create(input);
        await memory.create(input);
      }
      await store.delete('pg-m');
      await memory.delete('pg-m');
      const walk = async (x: TenantStore, query: Parameters<TenantStore['list']>[0]) => {
        const seen: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await x.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(page.items.map((t) => t.id).filter((id) => id.startsWith('pg-')));
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        return seen.flat();
      };
      for (const query of [{ limit: 3 }, { limit: 1, plan: 'even' }, { status: 'suspended' as const }, { status: ['deleted', 'active'] as const, limit: 2 }]) {
        // The memory store holds only pg-* tenants; the SQL store holds others too, filtered out above.
        expect(await walk(store, query)).toEqual(await walk(memory, query));
      }
      expect(await code(store.list({ cursor: 'not a cursor!' }))).toBe('config_invalid');
      expect(await code(store.list({ limit: 0 }))).toBe('config_invalid');
      expect(await code(store.list({ status: 'gone' as never }))).toBe('config_invalid');
    });

    it('emits created, updated, deleted and restored events for its writes, after they commit', async () => {
      const events: TenantChangeEvent[] = [];
      const stop = store.subscribe((event) => {
        events.push(event);
        throw new Error('a throwing listener breaks nothing');
      });
      await store.create({ id: 'ev-a' });
      await store.update('ev-a', { plan: 'pro' });
      await store.delete('ev-a');
      await store.delete('ev-a'); // no-op: no event
      await store.restore('ev-a');
      await code(store.update('ev-a', { plan: 'x' }, { expectedVersion: 1 })); // fails: no event
      stop();
      stop();
      await store.update('ev-a', { plan: 'team' });
      expect(events.map((e) => [e.type, e.id, e.tenant.version, e.previous?.version])).toEqual([
        ['created', 'ev-a', 1, undefined],
        ['updated', 'ev-a', 2, 1],
        ['deleted', 'ev-a', 3, 2],
        ['restored', 'ev-a', 4, 3],
      ]);
    });

    it('serializes concurrent updates: every one applies, versions are consecutive', async () => {
      await store.create({ id: 'cc-a', metadata: {} });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.update('cc-a', { plan: `p${i}` })));
      expect(results.map((t) => t.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await store.get('cc-a'))?.version).toBe(9);
      const conflicting = await Promise.all(Array.from({ length: 4 }, () => code(store.update('cc-a', { plan: 'x' }, { expectedVersion: 9 }))));
      expect(conflicting.filter((c) => c === undefined)).toHaveLength(1);
      expect(conflicting.filter((c) => c === 'version_conflict')).toHaveLength(3);
    });

    it('hostile ids and domains are refused or looked up as values, never as SQL', async () => {
      const hostile = ["x'; drop table tenants; --", 'a"b', 'ünïcödé', 'a'.repeat(300), '', 'acme\u0000', 'ACME', "' or '1'='1"];
      for (const id of hostile) {
        expect(await store.get(id)).toBeUndefined();
        expect(await code(store.create({ id }))).toBe('tenant_invalid');
        expect(await code(store.update(id, { plan: 'x' }))).toBe('tenant_not_found');
        expect(await store.getByDomain(id)).toBeUndefined();
      }
      expect(await code(store.create({ id: 'hx-a', domains: ["evil.com'; --"] }))).toBe('config_invalid');
      // The tables are still there and intact.
      expect((await store.list({ limit: 1000 })).items.length).toBeGreaterThan(0);
    });

    it('made on a transaction, joins it: many writes commit or roll back together', async () => {
      await db.transaction().execute(async (trx) => {
        const inner = createSqlTenantStore({ db: trx, tablePrefix: prefix });
        await inner.create({ id: 'tx-a', domains: ['tx-a.example.com'] });
        await inner.update('tx-a', { plan: 'pro' });
        await inner.create({ id: 'tx-b' });
      });
      expect((await store.get('tx-a'))?.plan).toBe('pro');
      expect(await store.get('tx-b')).toBeDefined();
      const failed = await code(
        db.transaction().execute(async (trx) => {
          const inner = createSqlTenantStore({ db: trx, tablePrefix: prefix });
          await inner.create({ id: 'tx-c' });
          await inner.update('tx-a', { plan: 'enterprise' });
          await inner.create({ id: 'tx-d', domains: ['tx-a.example.com'] }); // domain_taken: the whole transaction rolls back
        }),
      );
      expect(failed).toBe('domain_taken');
      expect(await store.get('tx-c')).toBeUndefined();
      expect(await store.get('tx-d')).toBeUndefined();
      expect((await store.get('tx-a'))?.plan).toBe('pro');
    });

    it('reads of many tenants, interleaved and concurrent, each return their own config (with and without a plugin)', async () => {
      const seen: string[] = [];
      const counting: KyselyPlugin = {
        transformQuery: ({ node }) => {
          seen.push(node.kind);
          return node;
        },
        transformResult: ({ result }) => Promise.resolve(result),
      };
      const plugged = createSqlTenantStore({ db: db.withPlugin(counting), tablePrefix: prefix });
      const tenants = Array.from({ length: 12 }, (_, i) => ({ id: `rd-${i}`, plan: `p${i}`, domains: i % 3 === 0 ? [] : [`rd-${i}.example.com`, `www.rd-${i}.example.com`] }));
      for (const input of tenants) await store.create(input);
      for (const target of [store, plugged]) {
        const byId = await Promise.all([...tenants, ...tenants].map((t) => target.get(t.id)));
        expect(byId.map((t) => [t?.id, t?.plan, t?.domains])).toEqual([...tenants, ...tenants].map((t) => [t.id, t.plan, t.domains]));
        const withDomain = tenants.filter((t) => t.domains.length > 0);
        const byDomain = await Promise.all(withDomain.flatMap((t) => [target.getByDomain(t.domains[1] as string), target.get(t.id), target.getByDomain('none.example.com')]));
        expect(byDomain.map((t) => t?.id)).toEqual(withDomain.flatMap((t) => [t.id, t.id, undefined]));
      }
      // With a plugin, every read is built and handed to it (never a query compiled earlier).
      const reads = 2 * tenants.length + 3 * tenants.filter((t) => t.domains.length > 0).length;
      expect(seen.filter((kind) => kind === 'SelectQueryNode').length).toBeGreaterThanOrEqual(reads);
      // A store made on a transaction reads inside it: its uncommitted write is visible to it.
      await db.transaction().execute(async (trx) => {
        const inner = createSqlTenantStore({ db: trx, tablePrefix: prefix });
        await inner.update('rd-1', { plan: 'in-tx' });
        expect((await inner.get('rd-1'))?.plan).toBe('in-tx');
        expect((await inner.getByDomain('rd-1.example.com'))?.plan).toBe('in-tx');
      });
      expect((await store.get('rd-1'))?.plan).toBe('in-tx');
    });

    it('a read the database fails rejects with store_unavailable carrying the driver error; a write keeps the driver error', async () => {
      // Tables that are not there (a store never migrated), then a database that is gone.
      const unmigrated = createSqlTenantStore({ db, tablePrefix: uniquePrefix('absent') });
      const reads: Array<[string, () => Promise<unknown>]> = [
        ['get', () => unmigrated.get('acme')],
        ['getByDomain', () => unmigrated.getByDomain('acme.example.com')],
        ['list', () => unmigrated.list()],
      ];
      for (const [name, read] of reads) {
        const error = await read().then(() => undefined, (e: unknown) => e);
        expect(TenantError.is(error, 'store_unavailable'), name).toBe(true);
        const { status, cause, message } = error as TenantError;
        expect(status, name).toBe(503);
        expect(cause, name).toBeInstanceOf(Error);
        expect(TenantError.is(cause), name).toBe(false);
        expect(message, name).toContain((cause as Error).message);
      }
      const write = await unmigrated.create({ id: 'acme' }).then(() => undefined, (e: unknown) => e);
      expect(write).toBeInstanceOf(Error);
      expect(TenantError.is(write), 'a write failure is the driver error as it came').toBe(false);

      const gone = dialect.create();
      const closed = createSqlTenantStore({ db: gone, tablePrefix: prefix });
      // Kysely opens its pool on first use, and destroy() of an unused instance does nothing
      // (the migration is a no-op on the servers, and makes the tables in a new SQLite memory database).
      await migrateTenantStore(gone, { tablePrefix: prefix });
      expect(await closed.get('nobody')).toBeUndefined();
      await gone.destroy();
      for (const [name, read] of [['get', () => closed.get('acme')], ['list', () => closed.list()]] as const) {
        const error = await read().then(() => undefined, (e: unknown) => e);
        expect(TenantError.is(error, 'store_unavailable'), `${name} on a destroyed pool: ${String(error)}`).toBe(true);
        expect((error as TenantError).cause, name).toBeDefined();
      }
      // An invalid id is still answered without SQL, even with the database gone.
      expect(await closed.get('../etc')).toBeUndefined();
    });

    it('marks domains verified without a new version', async () => {
      await store.create({ id: 'dv-a', domains: ['dv-a.example.com'] });
      expect(await store.setDomainVerified('DV-A.example.com', new Date('2026-01-01T00:00:00Z'))).toBe(true);
      expect(await store.setDomainVerified('none.example.com', new Date())).toBe(false);
      const row = (await db.selectFrom(store.tables.domains).select(['verified_at', 'is_primary']).where('domain', '=', 'dv-a.example.com').executeTakeFirst()) as { verified_at: string; is_primary: unknown };
      expect(row.verified_at).toBe('2026-01-01T00:00:00.000Z');
      expect(Boolean(row.is_primary)).toBe(true);
      expect((await store.get('dv-a'))?.version).toBe(1);
    });
  });
}

describe('dialect detection and options', () => {
  it('detects kysely adapters and subclasses, and refuses unknown ones or bad options', () => {
    const withAdapter = (adapter: object) => ({ getExecutor: () => ({ adapter }) }) as unknown as AnyKysely;
    class MyPostgresAdapter extends PostgresAdapter {}
    expect(detectDialect(withAdapter(new MyPostgresAdapter()))).toBe('postgres');
    expect(() => detectDialect(withAdapter({}))).toThrow(/pass the dialect option/);
    expect(createSqlTenantStore({ db: withAdapter({}), dialect: 'sqlite' }).dialect).toBe('sqlite');
    expect(() => createSqlTenantStore({ db: withAdapter({}), dialect: 'oracle' as never })).toThrow(TypeError);
    expect(() => createSqlTenantStore({ db: withAdapter(new PostgresAdapter()), tablePrefix: 'x; drop' })).toThrow(TypeError);
    expect(() => createSqlTenantStore(undefined as never)).toThrow(TypeError);
  });
});
