// Schema per tenant with a role per tenant (tenantRoles): the database itself
// refuses what a search_path wall cannot, a query that names another tenant's
// schema. The application connects as a role of the test's own (NOSUPERUSER,
// NOBYPASSRLS, CREATEROLE), through a pool of ONE connection. Every generated
// spelling is run twice: with tenantRoles it must be refused by PostgreSQL and
// change nothing; on the same schemas without it (the control), the same
// spelling must reach the other tenant, which proves the spelling is a real way in.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Migration } from 'kysely';
import { TenantError } from '@tenant/core';
import { createSchemaPerTenant, type SchemaPerTenant } from '../src/index.js';
import type { AnyKysely, AnyTransaction } from '../src/dialect.js';
import { POSTGRES_URL, postgres, postgresAs, uniquePrefix } from './dialects.js';
import { SEED, seededRandom } from './random.js';

const prefix = uniquePrefix('psr');
const app = `${prefix}app`;
const password = randomBytes(12).toString('hex');
const schemaPrefix = `${prefix}s_`;
const plans = `${prefix}plans`;
const secrets = `${prefix}secrets`;
const random = seededRandom(SEED);

const migrations: Record<string, Migration> = {
  '001_notes': {
    up: (db) => db.schema.createTable('notes').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('body', 'text', (c) => c.notNull()).execute(),
  },
};
const later: Record<string, Migration> = {
  ...migrations,
  '002_tags': { up: (db) => db.schema.createTable('tags').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('label', 'text', (c) => c.notNull()).execute() },
};

/** One way for acme's callback to reach globex's schema. */
interface Reach {
  readonly label: string;
  readonly write: boolean;
  readonly run: (trx: AnyTransaction) => Promise<unknown>;
}

describe('schema per tenant with a role per tenant (tenantRoles)', () => {
  const admin = postgres(2);
  let db: AnyKysely;
  let roles: SchemaPerTenant;
  let control: SchemaPerTenant;
  const globexSchema = `${schemaPrefix}globex`;

  const globexRows = async () => (await sql<{ id: number; body: string }>`select id, body from ${sql.id(globexSchema, 'notes')} order by id`.execute(admin)).rows;
  const permissionDenied = (error: unknown) => (error as { code?: unknown }).code === '42501';

  beforeAll(async () => {
    const database = new URL(POSTGRES_URL).pathname.slice(1) || 'test';
    await sql`create role ${sql.id(app)} login password ${sql.lit(password)} nosuperuser nobypassrls createrole`.execute(admin);
    await sql`grant create on database ${sql.id(database)} to ${sql.id(app)}`.execute(admin);
    db = postgresAs(app, password);
    roles = createSchemaPerTenant({ db, migrations, schemaPrefix, tenantRoles: true, sharedSchemas: ['public'] });
    control = createSchemaPerTenant({ db, migrations, schemaPrefix, sharedSchemas: ['public'] });
    for (const slug of ['acme', 'globex']) {
      await roles.provision(slug);
      await control.withTenantSchema(slug, (trx) => trx.insertInto('notes').values([{ body: `${slug}-1` }, { body: `${slug}-2` }]).execute());
    }
    // Shared tables, made by the administrator: one granted to every tenant role, one not.
    await sql`create table ${sql.id('public', plans)} (name text)`.execute(admin);
    await sql`insert into ${sql.id('public', plans)} values ('pro')`.execute(admin);
    await sql`grant select on ${sql.id('public', plans)} to ${sql.id(roles.sharedRole as string)}`.execute(admin);
    await sql`create table ${sql.id('public', secrets)} (value text)`.execute(admin);
    await sql`insert into ${sql.id('public', secrets)} values ('every tenant')`.execute(admin);
    await sql`grant select on ${sql.id('public', secrets)} to ${sql.id(app)}`.execute(admin);
  }, 60_000);

  afterAll(async () => {
    const database = new URL(POSTGRES_URL).pathname.slice(1) || 'test';
    for (const slug of ['acme', 'globex', 'initech']) await roles?.drop(slug).catch(() => undefined);
    await db?.destroy();
    await sql`drop table if exists ${sql.id('public', plans)}, ${sql.id('public', secrets)}`.execute(admin);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${app}`.execute(admin);
    for (const role of [roles?.roleName('acme'), roles?.roleName('globex'), roles?.roleName('initech'), roles?.sharedRole, app]) {
      if (role === undefined) continue;
      const found = (await sql`select 1 from pg_roles where rolname = ${role}`.execute(admin)).rows.length > 0;
      if (!found) continue;
      await sql`drop owned by ${sql.id(role)}`.execute(admin);
      await sql`drop role ${sql.id(role)}`.execute(admin);
    }
    await sql`revoke create on database ${sql.id(database)} from ${sql.id(app)}`.execute(admin).catch(() => undefined);
    await admin.destroy();
  }, 60_000);

  it("works in the tenant's own schema as its role: reads, writes, serial ids, and tables a later migration adds", async () => {
    const rows = await roles.withTenantSchema('acme', async (trx) => {
      const who = (await sql<{ u: string }>`select current_user as u`.execute(trx)).rows[0]?.u;
      expect(who).toBe(roles.roleName('acme'));
      await trx.insertInto('notes').values({ body: 'acme-3' }).execute();
      await trx.updateTable('notes').set({ body: 'acme-1b' }).where('body', '=', 'acme-1').execute();
      await trx.deleteFrom('notes').where('body', '=', 'acme-2').execute();
      return trx.selectFrom('notes').select('body').orderBy('id').execute();
    });
    expect(rows.map((r) => r.body)).toEqual(['acme-1b', 'acme-3']);
    // back to the connecting role outside the wrapper (a pool of one: the same session)
    expect((await sql<{ u: string }>`select current_user as u`.execute(db)).rows[0]?.u).toBe(app);

    const migrated = createSchemaPerTenant({ db, migrations: later, schemaPrefix, tenantRoles: true, sharedSchemas: ['public'] });
    const report = await migrated.migrateAll();
    expect(report.filter((p) => p.error !== undefined)).toEqual([]);
    await migrated.withTenantSchema('acme', (trx) => trx.insertInto('tags').values({ label: 'new table' }).execute());
    expect((await migrated.withTenantSchema('acme', (trx) => trx.selectFrom('tags').select('label').execute())).map((r) => r.label)).toEqual(['new table']);
  });

  it('reads shared tables granted to the group role, and nothing else of the shared schema', async () => {
    expect(await roles.withTenantSchema('acme', (trx) => trx.selectFrom(plans).select('name').execute())).toEqual([{ name: 'pro' }]);
    const secret = await roles.withTenantSchema('acme', (trx) => trx.selectFrom(secrets).selectAll().execute()).catch((e: unknown) => e);
    expect(permissionDenied(secret), String(secret)).toBe(true);
    // the control (no roles) reads it: the connecting role may
    expect(await control.withTenantSchema('acme', (trx) => trx.selectFrom(secrets).selectAll().execute())).toEqual([{ value: 'every tenant' }]);
  });

  it('refuses every generated way of naming another tenant\'s schema, which the control shows reaching it', async () => {
    const G = globexSchema;
    const anyCase = (text: string) => [...text].map((c) => (random() < 0.5 ? c.toUpperCase() : c)).join('');
    const qualified = () => random() < 0.5 ? `${anyCase(G)}.${anyCase('notes')}` : `"${G}"."notes"`;
    const reaches: (() => Reach)[] = [
      () => ({ label: 'builder selectFrom schema.table', write: false, run: (trx) => trx.selectFrom(`${G}.notes`).selectAll().execute() }),
      () => ({ label: 'builder withSchema', write: false, run: (trx) => trx.withSchema(G).selectFrom('notes').selectAll().execute() }),
      () => ({ label: 'builder join', write: false, run: (trx) => trx.selectFrom('notes as n').innerJoin(`${G}.notes as g`, 'g.id', 'n.id').select(['g.body']).execute() }),
      () => ({ label: 'builder subquery', write: false, run: (trx) => trx.selectFrom('notes').select((eb) => eb.selectFrom(`${G}.notes`).select('body').limit(1).as('b')).execute() }),
      () => {
        const name = qualified();
        return { label: `raw select from ${name}`, write: false, run: (trx) => sql`select body from ${sql.raw(name)}`.execute(trx) };
      },
      () => ({ label: 'raw sql.table', write: false, run: (trx) => sql`select body from ${sql.table(`${G}.notes`)}`.execute(trx) }),
      () => ({ label: 'raw sql.id', write: false, run: (trx) => sql`select body from ${sql.id(G, 'notes')}`.execute(trx) }),
      () => ({ label: 'query_to_xml with a built name', write: false, run: (trx) => sql`select query_to_xml('select body from ' || ${G.slice(0, 4)} || ${G.slice(4)} || '.notes', true, false, '')::text as x`.execute(trx) }),
      () => ({ label: 'nextval of its sequence', write: true, run: (trx) => sql`select nextval(${`${G}.notes_id_seq`})`.execute(trx) }),
      () => ({ label: 'builder insert', write: true, run: (trx) => trx.insertInto(`${G}.notes`).values({ body: 'planted' }).execute() }),
      () => ({ label: 'builder update', write: true, run: (trx) => trx.updateTable(`${G}.notes`).set({ body: 'changed' }).execute() }),
      () => ({ label: 'builder delete', write: true, run: (trx) => trx.deleteFrom(`${G}.notes`).execute() }),
      () => {
        const name = qualified();
        return { label: `raw update ${name}`, write: true, run: (trx) => sql`update ${sql.raw(name)} set body = 'changed'`.execute(trx) };
      },
      () => ({
        label: 'DO block with dynamic SQL',
        write: true,
        run: (trx) => sql.raw(`do $$ begin execute format('insert into %I.notes (body) values (%L)', '${G}', 'planted'); end $$`).execute(trx),
      }),
    ];
    const before = await globexRows();
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const reach = (reaches[i < reaches.length ? i : Math.floor(random() * reaches.length)] as () => Reach)();
      const where = `case #${i} (seed ${SEED}): ${reach.label}`;
      const outcome = await roles.withTenantSchema('acme', (trx) => reach.run(trx)).then(
        () => 'ran',
        (error: unknown) => error,
      );
      expect(permissionDenied(outcome), `${where}: ${String(outcome)}`).toBe(true);
      expect(await globexRows(), `${where}: globex changed`).toEqual(before);
      refused += 1;
      // The control: the same spelling, without roles, reaches globex (a write is rolled back by throwing).
      const undo = new Error('roll back the control');
      const seen = await control
        .withTenantSchema('acme', async (trx) => {
          const result = (await reach.run(trx)) as { rows?: unknown[] } | unknown[];
          if (reach.write) throw undo;
          return result;
        })
        .catch((error: unknown) => (error === undo ? 'wrote' : error));
      if (reach.write) expect(seen, `${where}: the control should reach globex`).toBe('wrote');
      else expect(JSON.stringify(seen), `${where}: the control should read globex`).toMatch(/globex-/);
      expect(await globexRows()).toEqual(before);
    }
    expect(refused).toBe(60);
  });

  it("refuses a callback that leaves the tenant's role (RESET ROLE), and the session comes back as the connecting role", async () => {
    const left = await roles.withTenantSchema('acme', async (trx) => {
      await sql`reset role`.execute(trx);
    }).catch((e: unknown) => e);
    expect(TenantError.is(left, 'isolation_violation'), String(left)).toBe(true);
    expect((await sql<{ u: string }>`select current_user as u`.execute(db)).rows[0]?.u).toBe(app);
  });

  it('refuses, with a clear error, a schema whose role was never made (provisioned before tenantRoles), until migrateAll makes it', async () => {
    await control.provision('initech');
    const refused = await roles.withTenantSchema('initech', async () => 'ran').catch((e: unknown) => e);
    expect(TenantError.is(refused, 'isolation_violation'), String(refused)).toBe(true);
    expect(String((refused as Error).message)).toMatch(/does not exist or is not granted.*provision \(or migrateAll\)/);
    // (the first test migrated the other schemas to `later`)
    const report = await createSchemaPerTenant({ db, migrations: later, schemaPrefix, tenantRoles: true, sharedSchemas: ['public'] }).migrateAll();
    expect(report.filter((p) => p.error !== undefined).map((p) => `${p.slug}: ${String(p.error)}`)).toEqual([]);
    expect(await roles.withTenantSchema('initech', async (trx) => (await sql<{ u: string }>`select current_user as u`.execute(trx)).rows[0]?.u)).toBe(roles.roleName('initech'));
    await roles.drop('initech');
  });

  it("never adopts a role it did not make (a prefix and slug spelling the app's role, a login role, an unmarked group), and provisions concurrently", async () => {
    // rolePrefix + slug spelling the connecting role itself, and a role of the organisation
    const spelled = [
      { rolePrefix: app.slice(0, -3), slug: 'app' },
      { rolePrefix: `${prefix}org_`, slug: 'admins' },
    ];
    await sql`create role ${sql.id(`${prefix}org_admins`)} nologin`.execute(admin);
    try {
      for (const { rolePrefix, slug } of spelled) {
        const odd = createSchemaPerTenant({ db, migrations, schemaPrefix, tenantRoles: true, rolePrefix });
        const refused = await odd.provision(slug).catch((e: unknown) => e);
        expect(TenantError.is(refused, 'isolation_violation'), `${rolePrefix}${slug}: ${String(refused)}`).toBe(true);
        expect(String((refused as Error).message)).toMatch(/already exists and is not a tenant role/);
        // nor dropped as one (drop owned by the application's role would drop everything it owns)
        const notDropped = await odd.drop(slug).catch((e: unknown) => e);
        expect(TenantError.is(notDropped, 'isolation_violation'), String(notDropped)).toBe(true);
        expect((await sql`select 1 from pg_roles where rolname = ${rolePrefix + slug}`.execute(admin)).rows.length).toBe(1);
        expect(await control.exists('acme')).toBe(true);
        await createSchemaPerTenant({ db, migrations, schemaPrefix }).drop(slug);
        for (const role of [`${rolePrefix}_shared`]) {
          if ((await sql`select 1 from pg_roles where rolname = ${role}`.execute(admin)).rows.length === 0) continue;
          await sql`drop owned by ${sql.id(role)}`.execute(admin);
          await sql`drop role ${sql.id(role)}`.execute(admin);
        }
      }
    } finally {
      await sql`drop role if exists ${sql.id(`${prefix}org_admins`)}`.execute(admin);
    }
    // A marked NOLOGIN role made beforehand by an administrator is used.
    const premade = roles.roleName('premade') as string;
    await sql`create role ${sql.id(premade)} nologin`.execute(admin);
    await sql`comment on role ${sql.id(premade)} is '@tenant/store-sql tenant role'`.execute(admin);
    await sql`grant ${sql.id(premade)} to ${sql.id(app)} with admin option`.execute(admin);
    await roles.provision('premade');
    expect(await roles.withTenantSchema('premade', async (trx) => (await sql<{ u: string }>`select current_user as u`.execute(trx)).rows[0]?.u)).toBe(premade);
    await roles.drop('premade');

    // Many tenants provisioned at once (all make or find the shared group role).
    const slugs = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const wide = postgres(5);
    const many = createSchemaPerTenant({ db: wide, migrations, schemaPrefix, tenantRoles: true });
    try {
      const outcomes = await Promise.allSettled(slugs.map((slug) => many.provision(slug)));
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    } finally {
      // provisioned through the administrator's pool: dropped through it too
      for (const slug of slugs) await many.drop(slug);
      await wide.destroy();
    }
  });

  it('provisions a role per tenant, and drop removes it', async () => {
    await roles.provision('initech');
    const role = roles.roleName('initech') as string;
    const exists = async () => (await sql`select 1 from pg_roles where rolname = ${role}`.execute(admin)).rows.length > 0;
    expect(await exists()).toBe(true);
    await roles.drop('initech');
    expect(await exists()).toBe(false);
    expect(await roles.exists('initech')).toBe(false);
    expect(control.roleName('acme')).toBeUndefined();
    expect(() => createSchemaPerTenant({ db, migrations, tenantRoles: 'yes' as never })).toThrow(TypeError);
    expect(() => createSchemaPerTenant({ db, migrations, tenantRoles: true, rolePrefix: 'pg_x' })).toThrow(TypeError);
  });
});
