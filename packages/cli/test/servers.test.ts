import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createConnection, type Connection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, json, MYSQL_URL, oneLine, POSTGRES_URL, REDIS_URL, tempDir, tenant, unique } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir, remove } = await tempDir());
});
afterAll(() => remove());

const ORDERS = `export const migrations = {
  '001_orders': { up: (db) => db.schema.createTable('orders').addColumn('id', 'serial', (c) => c.primaryKey()).execute() },
};
`;
const ITEMS = `export async function up(db) { await db.schema.createTable('items').addColumn('id', 'serial', (c) => c.primaryKey()).execute(); }
export async function down(db) { await db.schema.dropTable('items').execute(); }
`;

// A database of its own: kysely's migrator introspects every table of the database, and fails when
// another suite drops one of its tables at that moment.
describe('tenant on PostgreSQL', () => {
  const database = unique('db');
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const prefix = `${unique('pg')}_`;
  const schemaPrefix = `${unique('s')}_`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  const client = new pg.Client({ connectionString: url.toString() });
  const run = (...args: string[]) => tenant(args, { cwd: dir, env: { TENANT_DATABASE_URL: url.toString(), TENANT_TABLE_PREFIX: prefix } });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create database "${database}"`);
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.end();
  });

  it('runs the tenant lifecycle, import and export end to end', async () => {
    expect((await run('migrate', 'up')).stdout).toContain('applied 2026_11_01_000_tenant_store_initial');
    expect((await run('create', 'acme', '--plan', 'pro', '--domain', 'acme.example.com')).code).toBe(0);
    await writeFile(join(dir, 'pg.csv'), 'id,name,status,domains,metadata\nglobex,"Globex, Corp.",active,globex.example.com,"{""tier"":2}"\ninitech,Initech,suspended,,\n');
    expect((await run('import', 'pg.csv')).stdout).toBe('imported 2 rows: 2 created, 0 updated, 0 skipped\n');
    expect((await run('suspend', 'acme')).code).toBe(0);
    expect((await run('resume', 'acme')).code).toBe(0);
    const tenants = json(await run('export')) as { id: string; status: string; name?: string; metadata: object }[];
    expect(tenants.map((t) => [t.id, t.status])).toEqual([
      ['acme', 'active'],
      ['globex', 'active'],
      ['initech', 'suspended'],
    ]);
    expect(tenants[1]).toMatchObject({ name: 'Globex, Corp.', metadata: { tier: 2 } });
    const { rows } = await client.query(`select count(*)::int as n from "${prefix}tenants"`);
    expect(rows[0].n).toBe(3);
    const health = await run('health', '--redis', REDIS_URL, '--json');
    expect(health.code).toBe(0);
    expect(json(health).checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['store', true],
      ['redis', true],
    ]);
  });

  it('provisions and migrates every tenant schema, with progress lines', async () => {
    await writeFile(join(dir, 'orders.mjs'), ORDERS);
    await mkdir(join(dir, 'migrations'));
    await writeFile(join(dir, 'migrations', '001_orders.mjs'), `export const { up } = (await import('../orders.mjs')).migrations['001_orders'];\n`);
    await writeFile(join(dir, 'migrations', '002_items.mjs'), ITEMS);

    const provisioned = await run('schemas', 'provision', '--all', '--migrations', 'orders.mjs', '--schema-prefix', schemaPrefix);
    expect(provisioned.code, provisioned.stderr).toBe(0);
    expect(provisioned.stdout).toBe('provisioned 3 schemas (3 migrations run)\n');
    expect(provisioned.stderr.trim().split('\n')).toEqual(['1/3 acme ok', '2/3 globex ok', '3/3 initech ok']);
    expect(json(await run('schemas', 'list', '--schema-prefix', schemaPrefix, '--json')).schemas.map((s: { tenant: string }) => s.tenant)).toEqual(['acme', 'globex', 'initech']);

    const migrated = await run('schemas', 'migrate', '--migrations', 'migrations', '--schema-prefix', schemaPrefix, '--json');
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toBe(''); // no progress lines with --json
    expect(json(migrated)).toEqual({
      failed: 0,
      schemas: ['acme', 'globex', 'initech'].map((t) => ({ tenant: t, schema: `${schemaPrefix}${t}`, migrations: ['002_items'] })),
    });
    const { rows } = await client.query<{ table_schema: string; table_name: string }>(
      "select table_schema, table_name from information_schema.tables where left(table_schema, $1) = $2 and table_name in ('orders', 'items') order by 1, 2",
      [schemaPrefix.length, schemaPrefix],
    );
    expect(rows.map((r) => `${r.table_schema.slice(schemaPrefix.length)}.${r.table_name}`)).toEqual(['acme.items', 'acme.orders', 'globex.items', 'globex.orders', 'initech.items', 'initech.orders']);

    // A schema whose migration fails is reported; the others still run; exit 1.
    await client.query(`create table "${schemaPrefix}globex"."extra" (id int)`);
    await writeFile(join(dir, 'migrations', '003_extra.mjs'), `export async function up(db) { await db.schema.createTable('extra').addColumn('id', 'integer').execute(); }\n`);
    const partly = await run('schemas', 'migrate', '--migrations', 'migrations', '--schema-prefix', schemaPrefix);
    expect(partly.code).toBe(1);
    const lines = partly.stderr.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['1/3 acme ok', expect.stringMatching(/^2\/3 globex failed: .*"extra" already exists/), '3/3 initech ok']);
    expect(lines[3]).toMatch(/^tenant: 1 of 3 schemas failed; first: globex: /);

    expect((await run('schemas', 'provision', 'Bad!', '--schema-prefix', schemaPrefix)).code).toBe(2);
    const ghost = await run('schemas', 'provision', 'acme', 'ghost', '--schema-prefix', schemaPrefix);
    expect(ghost.code).toBe(1);
    expect(oneLine(ghost)).toBe('tenant: no tenant ghost in the store: nothing was provisioned');
    const one = await run('schemas', 'provision', 'acme', '--migrations', 'migrations', '--schema-prefix', schemaPrefix);
    expect(one.stdout, one.stderr).toBe('provisioned 1 schemas (0 migrations run)\n');

    // On a terminal (script(1) gives the command a pty), the progress is a bar redrawn in place.
    const command = [process.execPath, BIN, 'schemas', 'provision', 'acme', 'globex', '--migrations', 'migrations', '--schema-prefix', schemaPrefix].map((a) => `'${a}'`).join(' ');
    const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...process.env, TENANT_DATABASE_URL: url.toString(), TENANT_TABLE_PREFIX: prefix } });
    expect(tty.status, tty.stdout).toBe(1); // globex still has the table its 003 migration wants to create
    expect(tty.stdout).toContain(`\r\x1b[2K[${'#'.repeat(12)}${'-'.repeat(12)}] 1/2 provisioning acme`);
    expect(tty.stdout).toContain(`\r\x1b[2K[${'#'.repeat(24)}] 2/2 provisioning globex`);
    expect(tty.stdout).toContain('\r\x1b[2Kglobex: relation "extra" already exists\r\n');
    expect(tty.stdout).toContain('tenant: 1 of 2 schemas failed; first: globex');
    expect(tty.stdout).not.toContain('1/2 acme ok');
    expect((await run('schemas', 'drop', 'initech', '--schema-prefix', schemaPrefix, '--yes')).stdout).toBe(`dropped ${schemaPrefix}initech\n`);
    const gone = await run('schemas', 'drop', 'initech', '--schema-prefix', schemaPrefix, '--yes');
    expect(gone.code).toBe(1);
    expect(oneLine(gone)).toMatch(/no schema/);

    // --tenant-roles: a role per tenant with its own schema only; drop removes it.
    const acmeRole = `${schemaPrefix}acme`;
    const group = `${schemaPrefix}_shared`;
    const roleCount = async () => (await client.query('select 1 from pg_roles where rolname = $1', [acmeRole])).rows.length;
    try {
      const withRoles = await run('schemas', 'provision', 'acme', '--migrations', 'migrations', '--schema-prefix', schemaPrefix, '--tenant-roles');
      expect(withRoles.code, withRoles.stderr).toBe(0);
      expect(await roleCount()).toBe(1);
      const { rows: grants } = await client.query(
        "select has_schema_privilege($1, $2, 'USAGE') as own, has_schema_privilege($1, $3, 'USAGE') as other, has_table_privilege($1, $4, 'SELECT') as orders",
        [acmeRole, `${schemaPrefix}acme`, `${schemaPrefix}globex`, `"${schemaPrefix}acme".orders`],
      );
      expect(grants[0]).toEqual({ own: true, other: false, orders: true });
      expect((await run('schemas', 'provision', 'acme', '--schema-prefix', schemaPrefix, '--role-prefix', 'x_')).code).toBe(2);
      const dropped = await run('schemas', 'drop', 'acme', '--schema-prefix', schemaPrefix, '--tenant-roles', '--yes');
      expect(dropped.code, dropped.stderr).toBe(0);
      expect(await roleCount()).toBe(0);
    } finally {
      for (const role of [acmeRole, group]) {
        if ((await client.query('select 1 from pg_roles where rolname = $1', [role])).rows.length === 0) continue;
        await client.query(`drop owned by "${role}"`);
        await client.query(`drop role "${role}"`);
      }
    }
  });
});

describe('tenant on MariaDB', () => {
  // A database of its own too, for the same reason as on PostgreSQL.
  const database = unique('db');
  const url = new URL(MYSQL_URL.replace(/^mysql:/, 'mariadb:'));
  url.pathname = `/${database}`;
  let admin: Connection;
  const run = (...args: string[]) => tenant([...args, '--url', url.toString()], { cwd: dir });
  beforeAll(async () => {
    admin = await createConnection({ uri: MYSQL_URL });
    await admin.query(`create database \`${database}\``);
  });
  afterAll(async () => {
    await admin.query(`drop database if exists \`${database}\``);
    await admin.end();
  });

  it('migrates, imports, lists and checks health', async () => {
    const runIn = (input: string, ...args: string[]) => tenant([...args, '--url', url.toString()], { cwd: dir, input });
    const migrated = await run('migrate', 'up');
    expect(migrated.code, migrated.stderr).toBe(0);
    expect((await runIn('id,name,plan,domains\nacme,"Acme, Inc.",pro,acme.example.com\nglobex,Globex,,\n', 'import', '-', '--format', 'csv')).stdout).toBe('imported 2 rows: 2 created, 0 updated, 0 skipped\n');
    // Ids compare byte-wise (MariaDB's default collation would merge them): a second import of the same ids conflicts.
    expect((await runIn('[{"id":"acme"}]', 'import', '-')).code).toBe(1);
    expect((await run('suspend', 'globex')).code).toBe(0);
    expect(json(await run('list', '--json')).tenants.map((t: { id: string; status: string }) => `${t.id}:${t.status}`)).toEqual(['acme:active', 'globex:suspended']);
    expect(json(await run('health', '--json'))).toMatchObject({ ok: true });
  });
});

describe('cache warm and health with Redis', () => {
  const prefix = `${unique('r')}:`;
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('copies every tenant config and host into Redis, where the layered store reads them', async () => {
    const db = join(dir, 'warm.db');
    const run = (...args: string[]) => tenant([...args, '--url', db], { cwd: dir, env: { TENANT_REDIS_URL: REDIS_URL } });
    expect((await run('migrate', 'up')).code).toBe(0);
    expect((await run('create', 'acme', '--domain', 'acme.example.com')).code).toBe(0);
    expect((await run('create', 'paused', '--status', 'suspended')).code).toBe(0);
    const warmed = await run('cache', 'warm', '--redis-prefix', prefix, '--redis-ttl', '60000', '--json');
    expect(warmed.code, warmed.stderr).toBe(0);
    expect(json(warmed)).toEqual({ warmed: 1, prefix, redisTtlMs: 60000 });
    expect(JSON.parse((await redis.get(`${prefix}id:acme`)) ?? 'null')).toMatchObject({ id: 'acme', domains: ['acme.example.com'] });
    expect(await redis.get(`${prefix}domain:acme.example.com`)).toBe('"acme"');
    expect(await redis.get(`${prefix}id:paused`)).toBeNull();
    const ttl = await redis.pttl(`${prefix}id:acme`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60000);
    expect(json(await run('cache', 'warm', '--redis-prefix', prefix, '--status', 'all', '--json')).warmed).toBe(2);
    expect(await redis.get(`${prefix}id:paused`)).not.toBeNull();
  });
});

describe('unreachable backends', () => {
  it('exit 3 with one line naming the backend, and never print a password', async () => {
    const sqlite = join(dir, 'ok.db');
    expect((await tenant(['migrate', 'up', '--url', sqlite])).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['list', '--url', 'postgres://postgres:s3cret@127.0.0.1:1/test'], /^tenant: cannot reach the store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/],
      [['list', '--url', 'mysql://root@127.0.0.1:1/test'], /^tenant: cannot reach the store at mysql:\/\/root@127\.0\.0\.1:1\/test: .*ECONNREFUSED/],
      [['show', 'acme', '--url', `${POSTGRES_URL.replace(/\/[^/]*$/, '')}/${unique('nodb')}`], /^tenant: cannot reach the store .*does not exist/],
      [['health', '--url', sqlite, '--redis', 'redis://127.0.0.1:1'], /^tenant: redis unreachable: .*ECONNREFUSED/],
      [['cache', 'warm', '--url', sqlite, '--redis', 'redis://127.0.0.1:1'], /^tenant: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/],
      [['migrate', 'up', '--url', join(dir, 'no', 'such', 'dir', 'x.db')], /^tenant: cannot open the SQLite database/],
    ];
    const results = await Promise.all(cases.map(([args]) => tenant(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const result = results[i]!;
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(3);
      expect(oneLine(result), args.join(' ')).toMatch(message);
      expect(result.stderr).not.toContain('s3cret');
    }
    const health = await tenant(['health', '--url', 'postgres://postgres@127.0.0.1:1/test', '--redis', 'redis://127.0.0.1:1', '--json']);
    expect(health.code).toBe(3);
    expect(json(health)).toMatchObject({ ok: false, checks: [{ name: 'store', reachable: false }, { name: 'redis', reachable: false }] });
    expect(JSON.parse(oneLine(health))).toMatchObject({ error: { code: 'unreachable', exitCode: 3 } });
  });
});
