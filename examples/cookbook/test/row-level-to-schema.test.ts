import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTenantStore, runWithTenant } from '@tenant/core';
import { createNotes, TenantMovingError, type NotesDatabase } from '../src/row-level-to-schema.js';

const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('recipe: moving from row-level to schema per tenant (PostgreSQL)', () => {
  // A database of its own, so the recipe's plain table and schema names collide with nobody.
  const database = `cookbook_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  let db: Kysely<NotesDatabase>;
  const store = createMemoryTenantStore({ tenants: [{ id: 'acme', metadata: { region: 'eu' } }, { id: 'globex' }] });
  let notes: ReturnType<typeof createNotes>;
  const as = async <R>(id: string, fn: () => Promise<R>) => runWithTenant((await store.get(id))!, fn);

  beforeAll(async () => {
    await admin.connect(); // fails the suite when PostgreSQL is not there
    await admin.query(`create database ${database}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${database}`;
    // one connection: what a transaction sets must not reach the next user of the pool
    const pool = new pg.Pool({ connectionString: url.href, max: 1 });
    // pool.end() resolves before its clients' sockets have closed: the `drop database … with (force)`
    // below may terminate one of them, and node-postgres emits that as an `error` on the pool, which
    // ends the process unless someone listens. During the tests an error fails the query that met it.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<NotesDatabase>({ dialect: new PostgresDialect({ pool }) });
    await db.schema
      .createTable('notes')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .execute();
    notes = createNotes(db, store);
  });
  afterAll(async () => {
    await db?.destroy();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });

  it('starts on the shared table, scoped by tenant', async () => {
    await as('acme', () => notes.add('acme 1'));
    await as('acme', () => notes.add('acme 2'));
    await as('globex', () => notes.add('globex 1'));
    expect((await as('acme', () => notes.list())).map((n) => n.body)).toEqual(['acme 1', 'acme 2']);
    expect((await as('globex', () => notes.list())).map((n) => n.body)).toEqual(['globex 1']);
  });

  it('moves one tenant, with its rows, into its own schema', async () => {
    const before = await as('acme', () => notes.list());
    expect(await notes.moveToSchema('acme', { drainMs: 0 })).toBe(2);
    expect(await as('acme', () => notes.list())).toEqual(before);
    // the shared table keeps only the other tenants' rows; acme's metadata keeps its other keys
    expect(await db.selectFrom('notes').select('tenant_id').execute()).toEqual([{ tenant_id: 'globex' }]);
    expect((await store.get('acme'))?.metadata).toEqual({ region: 'eu', notes: 'schema' });
    const { rows } = await sql<{ body: string }>`select body from tenant_acme.notes order by body`.execute(db);
    expect(rows.map((r) => r.body)).toEqual(['acme 1', 'acme 2']);
  });

  it('writes the moved tenant to its schema, leaves the others where they were, and leaks no search_path', async () => {
    await as('acme', () => notes.add('acme 3'));
    await as('globex', () => notes.add('globex 2'));
    expect((await as('acme', () => notes.list())).map((n) => n.body)).toEqual(['acme 1', 'acme 2', 'acme 3']);
    expect((await as('globex', () => notes.list())).map((n) => n.body)).toEqual(['globex 1', 'globex 2']);
    const { rows } = await sql<{ path: string }>`select current_setting('search_path') as path`.execute(db);
    expect(rows[0]?.path).toBe('"$user", public');
  });

  it('refuses reads and writes while a tenant is being moved', async () => {
    const globex = (await store.get('globex'))!;
    await store.update('globex', { metadata: { notes: 'moving' } });
    await expect(as('globex', () => notes.list())).rejects.toBeInstanceOf(TenantMovingError);
    await expect(as('globex', () => notes.add('lost?'))).rejects.toMatchObject({ status: 503 });
    // a request that loaded the config before the flag still writes the shared table: drainMs covers it
    await runWithTenant(globex, () => notes.add('straggler'));
    expect(await notes.moveToSchema('globex', { drainMs: 0 })).toBe(3);
    expect((await as('globex', () => notes.list())).map((n) => n.body)).toEqual(['globex 1', 'globex 2', 'straggler']);
  });
});
