// Schema per tenant on PostgreSQL, through a pool of ONE connection, so that any
// leaked search_path or setting would be seen by the next query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Migration } from 'kysely';
import { TenantError } from '@tenant/core';
import { createSchemaPerTenant, enableRowLevelSecurity, withTenantTransaction, type SchemaMigrationProgress, type SchemaPerTenant } from '../src/index.js';
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

  it("a temporary table of the session does not shadow the tenant's table", async () => {
    await sql`create temp table notes (id int, body text)`.execute(db);
    try {
      await sql`insert into pg_temp.notes values (1, 'from-the-session')`.execute(db);
      const seen = await bodies('acme');
      expect(seen).not.toContain('from-the-session');
      expect(seen).toContain('acme-1');
    } finally {
      await sql`drop table pg_temp.notes`.execute(db);
    }
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

  /** Every way to spoil a valid name: each forbidden character at each position, and each letter in upper case. */
  const spoil = (valid: string, forbidden: readonly string[]) => [
    ...forbidden.flatMap((c) => Array.from({ length: valid.length + 1 }, (_, i) => valid.slice(0, i) + c + valid.slice(i))),
    ...[...valid].flatMap((c, i) => (/[a-z]/.test(c) ? [valid.slice(0, i) + c.toUpperCase() + valid.slice(i + 1)] : [])),
  ];
  const FORBIDDEN = ['"', "'", ' ', ';', '-', '\\', '\0', '$', '(', ')', ',', '=', '\n', 'é', '*', '/', '`'];

  it('refuses a tenantSetting that is not a custom namespace.name, wherever one is taken (generated)', async () => {
    const builtIns = ['search_path', 'role', 'session_authorization', 'work_mem', 'statement_timeout', 'default_transaction_read_only', 'row_security', 'client_encoding'];
    const bad: unknown[] = [
      ...builtIns,
      ...builtIns.map((b) => b.toUpperCase()),
      ...spoil('app.tenant_id', [...FORBIDDEN, '.']),
      '', '.', 'app.', '.tenant_id', 'app', 'a.b.c', '1app.tenant_id', 'app.1tenant', 'app.tenant_id;', `app.${'x'.repeat(60)}`,
      'pg_catalog.tenant', 'pg_trgm.similarity_threshold', 'plpgsql.variable_conflict', 'auto_explain.log_min_duration', 'citus.tenant', 'pgaudit.log',
      null, 1, true, {}, ['app.tenant_id'],
    ];
    expect(bad.length).toBeGreaterThan(250);
    let fnRuns = 0;
    for (const setting of bad) {
      const shown = JSON.stringify(setting);
      expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix, tenantSetting: setting as string }), shown).toThrow(TypeError);
      expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix, tenantSetting: setting as string }), shown).toThrow(/tenantSetting must (be a custom setting|not use the namespace)/);
      await expect(withTenantTransaction(db, 'acme', async () => { fnRuns += 1; }, { setting: setting as string }), shown).rejects.toThrow(TypeError);
      await expect(enableRowLevelSecurity(db, { tables: ['nowhere'], setting: setting as string }), shown).rejects.toThrow(/setting must/);
    }
    expect(fnRuns).toBe(0);
    for (const good of ['app.tenant_id', 'myapp.tenant', '_x._y', 'a1.b2', `a.${'b'.repeat(61)}`, 'pgx.tenant']) {
      expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix, tenantSetting: good })).not.toThrow();
    }
    expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix, tenantSetting: false })).not.toThrow();
  });

  it('refuses a schemaPrefix that is not a safe identifier or spells pg_, and slugs that spell a system or shared schema (generated)', () => {
    const bad: unknown[] = [...spoil('tenant_', FORBIDDEN), 'pg_', 'PG_', 'Pg_x', 'pg_tenant_', 'p', 'pg', '1t_', '', 'x'.repeat(41), null, 3, {}];
    expect(bad.length).toBeGreaterThan(100);
    for (const prefix of bad) {
      expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: prefix as string }), JSON.stringify(prefix)).toThrow(TypeError);
      expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: prefix as string }), JSON.stringify(prefix)).toThrow(/schemaPrefix must/);
    }
    for (const good of ['tenant_', 'pgx_', 'x', '_t', 'p_']) expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: good })).not.toThrow();
    // A slug that, after the prefix, spells a schema a tenant must never get.
    const spelled: [string, string][] = [['publi', 'c'], ['information_', 'schema'], ['p_', 'g_toast']];
    for (const [prefix, slug] of spelled) {
      const made = createSchemaPerTenant({ db, migrations, schemaPrefix: prefix });
      if (prefix === 'p_') {
        expect(made.schemaName(slug)).toBe('p_g_toast'); // not pg_toast: the prefix cannot spell pg_
        continue;
      }
      expect(() => made.schemaName(slug)).toThrow(TenantError);
    }
    expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: 'x_', sharedSchemas: ['x_shared'] })).toThrow(/starts with schemaPrefix/);
    expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: 'x_', sharedSchemas: ['shared"; drop'] })).toThrow(TypeError);
    expect(() => createSchemaPerTenant({ db, migrations, schemaPrefix: 'x_', tenantTables: ['notes', 'a b'] })).toThrow(TypeError);
  });

  it('with sharedSchemas, a tenant schema missing a table reads the shared one, unless tenantTables guards it', async () => {
    const guardedPrefix = uniquePrefix('sgd');
    const sharedSchema = `${uniquePrefix('shr')}shared`;
    await sql`create schema ${sql.id(sharedSchema)}`.execute(db);
    await sql`create table ${sql.table(`${sharedSchema}.tags`)} (label text)`.execute(db);
    await sql`insert into ${sql.table(`${sharedSchema}.tags`)} values ('every-tenant-secret')`.execute(db);
    const withTags: Record<string, Migration> = {
      ...migrations,
      '002_tags': { up: (d) => d.schema.createTable('tags').addColumn('label', 'text').execute() },
    };
    const readTags = (s: SchemaPerTenant) => s.withTenantSchema('acme', (trx) => trx.selectFrom('tags').select('label').execute());
    const unguarded = createSchemaPerTenant({ db, migrations, schemaPrefix: guardedPrefix, sharedSchemas: [sharedSchema] });
    const guarded = createSchemaPerTenant({ db, migrations, schemaPrefix: guardedPrefix, sharedSchemas: [sharedSchema], tenantTables: ['notes', 'tags'] });
    try {
      await unguarded.provision('acme');
      // The hazard: the tenant schema has no tags, so the unqualified name falls through to the shared schema.
      expect(await readTags(unguarded)).toEqual([{ label: 'every-tenant-secret' }]);
      // The guard: refused before the body runs, at provisioning, and in migrateAll's report.
      let ran = false;
      await expect(guarded.withTenantSchema('acme', async () => { ran = true; })).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation') && /"tags"/.test((e as Error).message));
      expect(ran).toBe(false);
      await expect(guarded.provision('acme')).rejects.toSatisfy((e) => TenantError.is(e, 'isolation_violation'));
      const report = await guarded.migrateAll();
      expect(report.map((p) => [p.slug, TenantError.is(p.error, 'isolation_violation')])).toEqual([['acme', true]]);
      // Once the tenant schema has the table, the tenant reads its own (empty) one.
      const complete = createSchemaPerTenant({ db, migrations: withTags, schemaPrefix: guardedPrefix, sharedSchemas: [sharedSchema], tenantTables: ['notes', 'tags'] });
      await complete.provision('acme');
      expect(await readTags(complete)).toEqual([]);
      expect(await readTags(guarded)).toEqual([]);
    } finally {
      await unguarded.drop('acme');
      await sql`drop schema ${sql.id(sharedSchema)} cascade`.execute(db);
    }
  });

  it('drops only when asked', async () => {
    await schemas.provision('tmp');
    await schemas.drop('tmp');
    expect(await schemas.exists('tmp')).toBe(false);
    expect(await schemas.list()).toEqual(['acme', 'globex-2']);
  });
});
