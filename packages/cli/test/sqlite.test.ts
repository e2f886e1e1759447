import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, json, oneLine, tempDir, tenant } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir, remove } = await tempDir());
});
afterAll(() => remove());

describe('tenant on SQLite (the default store)', () => {
  it('migrates, then creates, lists, shows, suspends, resumes, deletes and restores tenants', async () => {
    const run = (...args: string[]) => tenant(args, { cwd: dir });
    // No database yet: list says so, exit 3, and creates nothing.
    const missing = await run('list');
    expect(missing.code).toBe(3);
    expect(oneLine(missing)).toMatch(/no SQLite database at .*tenants\.db: create it with `tenant migrate up`/);

    const up = await run('migrate', 'up');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('applied 2026_11_01_000_tenant_store_initial');
    expect((await run('migrate', 'up')).stdout).toContain('up to date');
    expect(json(await run('migrate', 'status', '--json'))).toMatchObject({ pending: 0, migrations: [{ name: '2026_11_01_000_tenant_store_initial' }] });

    const created = await run('create', 'acme', '--name', 'Acme, "Inc."', '--plan', 'pro', '--domain', 'acme.example.com', '--domain', 'www.acme.example.com', '--quota', '{"requests":{"limit":100,"windowMs":60000}}', '--json');
    expect(created.code).toBe(0);
    expect(json(created)).toMatchObject({ id: 'acme', name: 'Acme, "Inc."', plan: 'pro', status: 'active', version: 1, domains: ['acme.example.com', 'www.acme.example.com'], quota: { requests: { limit: 100, windowMs: 60000 } } });
    expect((await run('create', 'globex', '--metadata', '{"region":"eu"}')).stdout).toBe('created globex (active, version 1)\n');

    const again = await run('create', 'acme');
    expect(again.code).toBe(1);
    expect(oneLine(again)).toMatch(/^tenant: .*already exists/);
    const taken = await run('create', 'initech', '--domain', 'ACME.example.com', '--json');
    expect(taken.code).toBe(1);
    expect(JSON.parse(taken.stderr)).toMatchObject({ error: { code: 'domain_taken', exitCode: 1 } });

    const listed = await run('list');
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PLAN/);
    expect(listed.stdout).toMatch(/acme\s+active\s+pro\s+1\s+Acme, "Inc."/);

    expect((await run('suspend', 'acme')).stdout).toBe('suspended acme (suspended, version 2)\n');
    expect(json(await run('list', '--status', 'suspended', '--json')).tenants.map((t: { id: string }) => t.id)).toEqual(['acme']);
    expect((await run('resume', 'acme')).code).toBe(0);
    expect((await run('delete', 'globex')).stdout).toContain('deleted globex (deleted');
    expect(json(await run('list', '--json')).tenants.map((t: { id: string }) => t.id)).toEqual(['acme']);
    const deletedChange = await run('suspend', 'globex');
    expect(deletedChange.code).toBe(1);
    expect(oneLine(deletedChange)).toMatch(/deleted: restore it/);
    expect(json(await run('restore', 'globex', '--json'))).toMatchObject({ id: 'globex', status: 'active' });

    const conflict = await run('update', 'acme', '--plan', 'enterprise', '--if-version', '1');
    expect(conflict.code).toBe(1);
    expect(oneLine(conflict)).toMatch(/version/);
    expect(json(await run('update', 'acme', '--plan', 'enterprise', '--if-version', '3', '--json'))).toMatchObject({ plan: 'enterprise', version: 4 });

    const shown = await run('show', 'acme');
    expect(shown.stdout).toMatch(/^id\s+acme$/m);
    expect(shown.stdout).toMatch(/^plan\s+enterprise$/m);
    const unknown = await run('show', 'nobody');
    expect(unknown.code).toBe(1);
    expect(oneLine(unknown)).toBe('tenant: no tenant nobody');

    const health = await run('health', '--json');
    expect(health.code).toBe(0);
    expect(json(health)).toMatchObject({ ok: true, checks: [{ name: 'store', ok: true, reachable: true }] });
  });

  it('takes the store from --url before TENANT_DATABASE_URL before ./tenants.db, in every URL form', async () => {
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    expect((await tenant(['migrate', 'up', '--url', `sqlite:${a}`])).code).toBe(0);
    expect((await tenant(['migrate', 'up'], { env: { TENANT_DATABASE_URL: `file://${b}` } })).code).toBe(0);
    expect((await tenant(['create', 'only-a', '--url', a], { env: { TENANT_DATABASE_URL: b } })).code).toBe(0);
    expect(json(await tenant(['list', '--json'], { env: { TENANT_DATABASE_URL: `file:${a}` } })).tenants.map((t: { id: string }) => t.id)).toEqual(['only-a']);
    expect(json(await tenant(['list', '--json', '--url', `sqlite://${b}`])).tenants).toEqual([]);
    // A table prefix keeps two stores apart in one file.
    expect((await tenant(['migrate', 'up', '--url', a, '--table-prefix', 'other_'])).code).toBe(0);
    expect(json(await tenant(['list', '--json', '--url', a], { env: { TENANT_TABLE_PREFIX: 'other_' } })).tenants).toEqual([]);
    const notMigrated = await tenant(['list', '--url', a, '--table-prefix', 'nothing_']);
    expect(notMigrated.code).toBe(1);
    expect(oneLine(notMigrated)).toMatch(/tenant tables do not exist.*tenant migrate up/);
    const health = await tenant(['health', '--url', a, '--table-prefix', 'nothing_']);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/store\s+FAIL/);
    expect(oneLine(health)).toMatch(/tenant migrate up/);

    expect((await tenant(['migrate', 'down', '--url', a, '--table-prefix', 'other_', '--yes'])).stdout).toContain('reverted 2026_11_01_000_tenant_store_initial');
  });

  it('refuses bad command lines with exit 2 and one line, in text and JSON', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['--json', '--url', 'x.db'], /no command given/],
      [['schemas', 'frob'], /unknown command "schemas frob"/],
      [['list', '--frob'], /Unknown option '--frob'\.$/],
      [['create', 'x', '--name', '-2'], /Option '--name' argument is ambiguous\.$/],
      [['create'], /missing argument: tenant create <id>/],
      [['create', 'a', 'b'], /unexpected argument "b"/],
      [['create', 'Acme!'], /"Acme!" is not a valid tenant id/],
      [['show', '../etc'], /not a valid tenant id/],
      [['create', 'x', '--quota', '{nope'], /--quota is not valid JSON/],
      [['create', 'x', '--status', 'deleted'], /--status must be one of active, suspended, inactive/],
      [['list', '--status', 'gone'], /--status must be one of/],
      [['list', '--limit', '0'], /--limit must be a positive integer/],
      [['list', '--url', 'oracle://db/x'], /unsupported database URL oracle:\/\/db\/x/],
      [['list', '--timeout', 'soon'], /--timeout must be/],
      [['list', '--table-prefix', '1x'], /--table-prefix must be letters/],
      [['list', '--table-prefix', 'a-b'], /--table-prefix must be letters/],
      [['migrate'], /migrate needs a subcommand: up, down, status/],
      [['migrate', 'down'], /pass --yes/],
      [['import', '--url', 'x.db', 'does-not-exist.csv'], /cannot read does-not-exist\.csv/],
      [['cache', 'warm'], /needs Redis: give --redis/],
      [['schemas', 'list'], /schema per tenant needs PostgreSQL/],
      [['health', '--redis', 'http://x'], /unsupported Redis URL/],
    ];
    const results = await Promise.all(cases.map(([args]) => tenant(args, { cwd: dir })));
    for (const [i, [args, message]] of cases.entries()) {
      const result = results[i]!;
      expect(result.code, args.join(' ')).toBe(2);
      expect(oneLine(result), args.join(' ')).toMatch(message);
      expect(result.stdout).toBe('');
    }
    const asJson = await tenant(['create', 'Bad Id', '--json'], { cwd: dir });
    expect(asJson.code).toBe(2);
    expect(JSON.parse(oneLine(asJson))).toMatchObject({ error: { code: 'usage', exitCode: 2 } });
    // --debug shows the stack for the same error.
    expect((await tenant(['show', 'nobody', '--url', join(dir, 'nothing.db'), '--debug'], { cwd: dir })).code).toBe(3);
    const debug = await tenant(['list', '--url', join(dir, 'tenants.db'), '--table-prefix', 'none_', '--debug']);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('prints help for every command and exits 0', async () => {
    const main = await tenant(['--help']);
    expect(main.code).toBe(0);
    for (const line of ['migrate up', 'import', 'export', 'schemas provision', 'cache warm', 'health']) expect(main.stdout).toContain(line);
    expect((await tenant(['help', 'schemas', 'provision'])).stdout).toMatch(/^tenant schemas provision: /);
    for (const args of [['create', '--help'], ['help', 'import'], ['schemas', 'migrate', '-h'], ['cache', '--help'], ['health', '--help']]) {
      const help = await tenant(args);
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(/Usage: tenant /);
      expect(help.stdout).toContain('Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 a backend cannot be reached.');
    }
    expect((await tenant(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('piped into a reader that stops early', () => {
  it('exits quietly when stdout closes (tenant export | head)', async () => {
    const db = join(dir, 'pipe.db');
    expect((await tenant(['migrate', 'up', '--url', db])).code).toBe(0);
    const many = Array.from({ length: 400 }, (_, i) => ({ id: `t${i}`, metadata: { pad: 'x'.repeat(400) } }));
    expect((await tenant(['import', '-', '--url', db], { input: JSON.stringify(many) })).code).toBe(0);
    const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" export --url "${db}" | head -c 100 > /dev/null`], { encoding: 'utf8' });
    expect(piped.stderr).toBe('');
    expect(piped.status).toBe(0);
  });
});

describe('installed without the optional drivers', () => {
  it('works on SQLite, and names the driver to install for postgres://, mysql:// and Redis', async () => {
    // The binary beside a node_modules holding its dependencies, but not pg, mysql2 or ioredis.
    const app = join(dir, 'app');
    const own = new URL('../node_modules/', import.meta.url);
    await mkdir(join(app, 'node_modules', '@tenant'), { recursive: true });
    await writeFile(join(app, 'package.json'), '{"type":"module"}');
    await copyFile(BIN, join(app, 'bin.js'));
    for (const name of ['@tenant/cache', '@tenant/core', '@tenant/interfaces', '@tenant/store-sql', 'better-sqlite3', 'csv-parse', 'csv-stringify', 'kysely']) {
      await symlink(await realpath(new URL(name, own)), join(app, 'node_modules', name), 'dir');
    }
    const bin = join(app, 'bin.js');
    const db = join(app, 't.db');
    expect((await tenant(['migrate', 'up', '--url', db], { bin })).code).toBe(0);
    expect((await tenant(['create', 'acme', '--url', db], { bin })).code).toBe(0);
    const cases: [string[], string][] = [
      [['list', '--url', 'postgres://u@127.0.0.1:1/x'], 'tenant: install pg to use postgres:// URLs (npm install pg)'],
      [['list', '--url', 'mariadb://u@127.0.0.1:1/x'], 'tenant: install mysql2 to use mysql:// and mariadb:// URLs (npm install mysql2)'],
      [['cache', 'warm', '--url', db, '--redis', 'redis://127.0.0.1:1'], 'tenant: install ioredis to use Redis (npm install ioredis)'],
    ];
    for (const [args, line] of cases) {
      const result = await tenant(args, { bin });
      expect(result.code, args.join(' ')).toBe(1);
      expect(oneLine(result)).toBe(line);
    }
  });
});

describe('import and export on SQLite', () => {
  // Names hold no control characters (core refuses them); metadata JSON carries the newlines and tabs.
  const hostile = ['=HYPERLINK("http://evil","x")', '+1', '-2', '@SUM(A1)', "'=already quoted", 'comma, "quote"', 'ünïcödé ✓ 中文'];

  it('round-trips through CSV and JSON: quoting, newlines, unicode and formula cells', async () => {
    const src = join(dir, 'src.db');
    const run = (...args: string[]) => tenant([...args, '--url', src], { cwd: dir });
    expect((await run('migrate', 'up')).code).toBe(0);
    for (const [i, name] of hostile.entries()) {
      const r = await run('create', `t${i}`, `--name=${name}`, '--metadata', JSON.stringify({ note: `${name}\n\t${name}`, n: i, 'ü': ['ß', null] }), '--domain', `t${i}.example.com`);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await run('suspend', 't1')).code).toBe(0);
    expect((await run('delete', 't2')).code).toBe(0);
    expect((await run('export', '--out', 'all.csv')).stdout).toBe(`exported ${hostile.length} tenants to all.csv (csv)\n`);
    const again = await run('export', '--out', 'all.csv');
    expect(again.code).toBe(1);
    expect(oneLine(again)).toMatch(/all\.csv exists: pass --force/);
    expect((await run('export', '--out', 'all.json')).code).toBe(0);

    const csv = await readFile(join(dir, 'all.csv'), 'utf8');
    // Every cell a spreadsheet would run starts with a quote, and RFC 4180 quoting holds the rest.
    expect(csv).toContain(`'=HYPERLINK(""http://evil"",""x"")`);
    expect(csv).toMatch(/,'\+1,/);
    expect(csv).toMatch(/,'-2,/);
    expect(csv).toContain("''=already quoted");
    expect(csv).toContain(',"comma, ""quote""",');
    expect(csv.split('\r\n')[0]).toBe('id,name,status,plan,domains,quota,policy,metadata,createdAt,updatedAt,deletedAt,version');

    const original = json(await run('export', '--format', 'json'));
    const strip = (tenants: Record<string, unknown>[]) => tenants.map(({ createdAt: _c, updatedAt: _u, deletedAt: _d, version: _v, ...rest }) => rest);
    for (const file of ['all.csv', 'all.json']) {
      const copy = join(dir, `copy-${file}.db`);
      expect((await tenant(['migrate', 'up', '--url', copy])).code).toBe(0);
      const imported = await tenant(['import', file, '--url', copy, '--json'], { cwd: dir });
      expect(imported.code, imported.stderr).toBe(0);
      expect(json(imported)).toEqual({ total: hostile.length, created: hostile.length, updated: 0, skipped: 0, dryRun: false });
      const copied = json(await tenant(['export', '--url', copy]));
      expect(strip(copied)).toEqual(strip(original));
    }
  });

  it('validates every row before writing, reports them by row and line, and writes nothing', async () => {
    const db = join(dir, 'rows.db');
    expect((await tenant(['migrate', 'up', '--url', db])).code).toBe(0);
    expect((await tenant(['create', 'existing', '--url', db, '--domain', 'taken.example.com'])).code).toBe(0);
    expect((await tenant(['create', 'other', '--url', db])).code).toBe(0);
    const csv = [
      'id,name,status,plan,domains,quota,metadata',
      'good-1,Good,active,pro,good.example.com,,',
      'Bad Id,x,active,,,,',
      'good-2,"two',
      'lines",suspended,,,"{""requests"":{""limit"":-1,""windowMs"":1000}}",',
      'good-3,,paused,,,,',
      'good-4,,,,,,{not json',
      'good-1,dup,,,,,',
      'good-5,,,,good.example.com,,',
      'good-6,,,,taken.example.com,,',
      'other,,,,,,',
    ].join('\n');
    await writeFile(join(dir, 'bad.csv'), csv);
    const result = await tenant(['import', 'bad.csv', '--url', db], { cwd: dir });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^row 2 \(line 3, Bad Id\): Invalid tenant id/),
      expect.stringMatching(/^row 3 \(line 4, good-2\): Invalid tenant config: quota\.requests\.limit/),
      expect.stringMatching(/^row 4 \(line 6, good-3\): status must be one of active, suspended, inactive, deleted/),
      expect.stringMatching(/^row 5 \(line 7, good-4\): metadata is not valid JSON/),
      expect.stringMatching(/^row 6 \(line 8, good-1\): id good-1 is already in row 1/),
      expect.stringMatching(/^row 7 \(line 9, good-5\): domain good\.example\.com is already in row 1/),
      expect.stringMatching(/^row 8 \(line 10, good-6\): domain taken\.example\.com belongs to tenant existing/),
      expect.stringMatching(/^row 9 \(line 11, other\): tenant other exists already/),
      'tenant: 8 of 9 rows are invalid: nothing was imported',
    ]);
    expect(json(await tenant(['list', '--json', '--url', db])).tenants.map((t: { id: string }) => t.id)).toEqual(['existing', 'other']);

    const asJson = await tenant(['import', 'bad.csv', '--url', db, '--json'], { cwd: dir });
    const error = JSON.parse(oneLine(asJson)) as { error: { code: string; details: { rows: { row: number }[] } } };
    expect(error.error.code).toBe('import_invalid');
    expect(error.error.details.rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);

    for (const [name, body, message] of [
      ['broken.csv', 'id,name\n"acme,Acme\n', /^tenant: the CSV is malformed: .*quote/i],
      ['ragged.csv', 'id,name\nacme,Acme,extra\n', /^tenant: the CSV is malformed: .*(column|record)/i],
      ['columns.csv', 'id,nmae\nacme,Acme\n', /^tenant: unknown CSV column "nmae"/],
      ['broken.json', '[{"id":"acme"', /^tenant: the JSON is malformed/],
      ['object.json', '{"id":"acme"}', /must be an array of tenants/],
    ] as const) {
      await writeFile(join(dir, name), body);
      const r = await tenant(['import', name, '--url', db], { cwd: dir });
      expect(r.code, name).toBe(1);
      expect(oneLine(r), name).toMatch(message);
    }
  });

  it('handles existing ids with --on-conflict fail, skip or update, in one transaction, and reads stdin', async () => {
    const db = join(dir, 'conflict.db');
    const run = (args: string[], input?: string) => tenant([...args, '--url', db], { cwd: dir, ...(input === undefined ? {} : { input }) });
    expect((await run(['migrate', 'up'])).code).toBe(0);
    expect((await run(['create', 'acme', '--plan', 'free', '--name', 'Acme'])).code).toBe(0);
    expect((await run(['create', 'gone'])).code).toBe(0);
    expect((await run(['delete', 'gone'])).code).toBe(0);
    const rows = JSON.stringify({ tenants: [{ id: 'acme', plan: 'pro' }, { id: 'gone', status: 'suspended' }, { id: 'newco', status: 'deleted' }] });

    const failed = await run(['import', '-'], rows);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/row 1 \(acme\): tenant acme exists already/);

    expect(json(await run(['import', '-', '--on-conflict', 'skip', '--dry-run', '--json'], rows))).toEqual({ total: 3, created: 1, updated: 0, skipped: 2, dryRun: true });
    expect(json(await run(['list', '--json', '--status', 'deleted'])).tenants.map((t: { id: string }) => t.id)).toEqual(['gone']);

    const updated = await run(['import', '-', '--on-conflict', 'update'], rows);
    expect(updated.stdout).toBe('imported 3 rows: 1 created, 2 updated, 0 skipped\n');
    const all = json(await run(['export'])) as { id: string; plan?: string; name?: string; status: string }[];
    expect(all.map((t) => [t.id, t.status, t.plan ?? null, t.name ?? null])).toEqual([
      ['acme', 'active', 'pro', 'Acme'],
      ['gone', 'suspended', null, null],
      ['newco', 'deleted', null, null],
    ]);

    // A write that fails inside the transaction rolls back the rows written before it: acme keeps its
    // domain (its row does not release it), so newco-2 cannot take it, and late is not created either.
    expect((await run(['update', 'acme', '--domain', 'acme.example.com'])).code).toBe(0);
    const moves = JSON.stringify([{ id: 'late' }, { id: 'newco-2', domains: ['acme.example.com'] }, { id: 'acme', plan: 'max' }]);
    const rolledBack = await run(['import', '-', '--on-conflict', 'update'], moves);
    expect(rolledBack.code).toBe(1);
    expect(oneLine(rolledBack)).toMatch(/^tenant: row 2 \(newco-2\): .*acme\.example\.com.*; nothing was imported$/);
    expect((await run(['show', 'late'])).code).toBe(1);
    expect(json(await run(['show', 'acme', '--json'])).plan).toBe('pro');
  });
});
