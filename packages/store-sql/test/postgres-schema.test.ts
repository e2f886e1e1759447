// Schema per tenant on PostgreSQL, through a pool of ONE connection, so that any
// leaked search_path or setting would be seen by the next query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Migration } from 'kysely';
import { TenantError } from '@tenant/core';
import { createSchemaPerTenant, type SchemaMigrationProgress, type SchemaPerTenant } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { postgres, sqlite, uniquePrefix } from './dialects.js';
import { SEED, seededRandom } from './random.js';

describe('schema per tenant on PostgreSQL', () => {
  const schemaPrefix = uniquePrefix('sch');
  const notes = 'notes';
  const migrations: Record<string, Migration> = {
    '001_notes': {
      up: (db) => db.schema.createTable(notes).addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('body', 'text', (c) => c.notNull()).execute(),
      down: (db) => db.schema.dropTable(notes).execute(),
    },
  };
  let db: AnyKysely;
  let schemas: SchemaPerTenant;
  let defaultPath: string;

  const searchPath = async () => (await sql<{ search_path: string }>`show search_path`.execute(db)).rows[0]?.search_path;
  const bodies = (slug: string) => schemas.withTenantSchema(slug, (trx) => trx.selectFrom(notes).select('body').orderBy('id').execute().then((rows) => rows.map((r) => r.body as string)));

  beforeAll(async () => {
    db = postgres(1);
    defaultPath = (await searchPath()) as string;
    schemas = createSchemaPerTenant({ db, migrations, schemaPrefix });
  });

  afterAll(async () => {
    for (const slug of await schemas.list()) await schemas.drop(slug);
    await db.destroy();
  });

  it('provisions idempotently, and lists and checks tenant schemas', async () => {
    const first = await schemas.provision('acme');
    expect(first.results?.map((r) => [r.migrationName, r.status])).toEqual([['001_notes', 'Success']]);
    expect((await schemas.provision('acme')).results).toEqual([]);
    await schemas.provision('globex-2');
    expect(await schemas.list()).toEqual(['acme', 'globex-2']);
    expect(await schemas.exists('acme')).toBe(true);
    expect(await schemas.exists('nobody')).toBe(false);
    expect(schemas.schemaName('acme')).toBe(`${schemaPrefix}acme`);
  });

  it("runs work in the tenant's schema, and neither search_path nor the tenant setting outlives the transaction", async () => {
    await schemas.withTenantSchema('acme', (trx) => trx.insertInto(notes).values({ body: 'acme-1' }).execute());
    expect(await searchPath()).toBe(defaultPath);
    await schemas.withTenantSchema('globex-2', async (trx) => {
      expect((await sql<{ v: string }>`select current_setting('app.tenant_id', true) as v`.execute(trx)).rows[0]?.v).toBe('globex-2');
      await trx.insertInto(notes).values({ body: 'globex-2-1' }).execute();
    });
    expect(await bodies('acme')).toEqual(['acme-1']);
    expect(await bodies('globex-2')).toEqual(['globex-2-1']);
    // The single pooled connection is back to its defaults: an unqualified table is not found.
    expect(await searchPath()).toBe(defaultPath);
    expect([null, '']).toContain((await sql<{ v: string | null }>`select current_setting('app.tenant_id', true) as v`.execute(db)).rows[0]?.v);
    await expect(db.selectFrom(notes).selectAll().execute()).rejects.toThrow(/does not exist/);
    // A failed transaction rolls back its setting too.
    await expect(schemas.withTenantSchema('acme', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await searchPath()).toBe(defaultPath);
  });

  it('keeps tenants apart in a randomized interleaving through the one connection', async () => {
    const random = seededRandom(SEED);
    const expected = new Map([['acme', await bodies('acme')], ['globex-2', await bodies('globex-2')]]);
    const tasks = Array.from({ length: 30 }, (_, i) => {
      const slug = random() < 0.5 ? 'acme' : 'globex-2';
      const write = random() < 0.5;
      if (write) expected.get(slug)?.push(`${slug}-r${i}`);
      return schemas.withTenantSchema(slug, async (trx) => {
        if (write) await trx.insertInto(notes).values({ body: `${slug}-r${i}` }).execute();
        const rows = (await trx.selectFrom(notes).select('body').execute()) as { body: string }[];
        expect(rows.every((r) => r.body.startsWith(`${slug}-`))).toBe(true);
      });
    });
    await Promise.all(tasks);
    for (const [slug, list] of expected) expect(await bodies(slug)).toEqual(list);
  });

  it('migrates every tenant schema with progress reports', async () => {
    const more = createSchemaPerTenant({
      db,
      schemaPrefix,
      migrations: {
        ...migrations,
        '002_tags': { up: (d) => d.schema.alterTable(notes).addColumn('tag', 'text').execute(), down: (d) => d.schema.alterTable(notes).dropColumn('tag').execute() },
      },
    });
    const seen: SchemaMigrationProgress[] = [];
    const report = await more.migrateAll({ onProgress: (p) => seen.push(p) });
    expect(seen).toEqual(report);
    expect(report.map((p) => [p.slug, p.index, p.total, p.results?.map((r) => r.migrationName), p.error])).toEqual([
      ['acme', 1, 2, ['002_tags'], undefined],
      ['globex-2', 2, 2, ['002_tags'], undefined],
    ]);
    await more.withTenantSchema('acme', (trx) => trx.insertInto(notes).values({ body: 'acme-tagged', tag: 't' }).execute());
  });

  it('refuses hostile slugs before any SQL, and unknown tenants', async () => {
    for (const slug of ['a"; drop schema public cascade; --', 'Acme', 'ünï', 'a'.repeat(64), '', '-a', 'a b', "a'b"]) {
      expect(() => schemas.schemaName(slug)).toThrow(TenantError);
      await expect(schemas.provision(slug)).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_invalid'));
      await expect(schemas.withTenantSchema(slug, async () => 1)).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_invalid'));
    }
    await expect(schemas.withTenantSchema('nobody', async () => 1)).rejects.toSatisfy((e) => TenantError.is(e, 'tenant_not_found'));
    expect(() => createSchemaPerTenant({ db: sqlite(), migrations })).toThrow(/PostgreSQL/);
    expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: 'x"y' })).toThrow(TypeError);
  });

  it('drops only when asked', async () => {
    await schemas.provision('tmp');
    await schemas.drop('tmp');
    expect(await schemas.exists('tmp')).toBe(false);
    expect(await schemas.list()).toEqual(['acme', 'globex-2']);
  });
});
