import { stat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Migration, MigrationProvider, MigrationResultSet } from 'kysely';
import type { SchemaPerTenant } from '@tenant/store-sql';
import { CliError, EXIT_CODES, isUnreachable, messageOf, toCliError, usageError } from '../errors.js';
import { idArgument, flag, str, type Command, type Context } from '../command.js';
import { allTenants } from './tenants.js';

const roleOptions = { 'tenant-roles': { type: 'boolean' }, 'role-prefix': { type: 'string' } } as const;
const common = { migrations: { type: 'string' }, 'schema-prefix': { type: 'string' }, ...roleOptions } as const;
const roleHelp = [
  ['--tenant-roles', 'a PostgreSQL role per tenant with access to its own schema only (as createSchemaPerTenant({ tenantRoles: true })): created or granted by provision and migrate, dropped by drop'],
  ['--role-prefix <prefix>', 'role name = prefix + tenant id, with --tenant-roles (default: the schema prefix)'],
] as const;
const commonHelp = [
  ['--migrations <path>', 'the tenant migrations: a folder of .js/.mjs files (each exporting up/down), or a module exporting them (default export or `migrations`); or TENANT_MIGRATIONS'],
  ['--schema-prefix <prefix>', "schema name = prefix + tenant id (default tenant_)"],
  ...roleHelp,
] as const;

function isMigrations(value: unknown): value is Record<string, Migration> {
  return typeof value === 'object' && value !== null && Object.values(value).every((m) => typeof (m as Migration | null)?.up === 'function');
}

/** Loads the tenant migrations named by `--migrations` / `TENANT_MIGRATIONS`. */
async function loadMigrations(ctx: Context, required: boolean): Promise<Record<string, Migration> | MigrationProvider> {
  const path = str(ctx, 'migrations') ?? ctx.env['TENANT_MIGRATIONS'];
  const source = str(ctx, 'migrations') === undefined ? 'TENANT_MIGRATIONS' : '--migrations';
  if (path === undefined || path === '') {
    if (required) throw usageError('give the tenant migrations with --migrations <folder or module> (or TENANT_MIGRATIONS)');
    return {};
  }
  const abs = resolve(ctx.cwd, path);
  let isDir: boolean;
  try {
    isDir = (await stat(abs)).isDirectory();
  } catch (error) {
    throw usageError(`${source}: cannot read the migrations at ${path}: ${messageOf(error)}`);
  }
  const { FileMigrationProvider } = await import('kysely');
  if (isDir) return new FileMigrationProvider({ fs: { readdir }, path: { join }, migrationFolder: abs });
  let mod: { default?: unknown; migrations?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as typeof mod;
  } catch (error) {
    throw new CliError('migrations_invalid', `cannot load the migrations module ${path}: ${messageOf(error)}`, EXIT_CODES.failure, { cause: error });
  }
  const migrations = mod.migrations ?? mod.default;
  if (!isMigrations(migrations)) throw new CliError('migrations_invalid', `${path} must export (as default or as \`migrations\`) an object of migrations, each with an up function`, EXIT_CODES.failure);
  return migrations;
}

async function schemasOf(ctx: Context, required: boolean): Promise<SchemaPerTenant> {
  if (ctx.target.dialect !== 'postgres') throw usageError(`schema per tenant needs PostgreSQL; the store is ${ctx.target.label}`);
  const migrations = await loadMigrations(ctx, required);
  const prefix = str(ctx, 'schema-prefix');
  const rolePrefix = str(ctx, 'role-prefix');
  const tenantRoles = flag(ctx, 'tenant-roles');
  if (rolePrefix !== undefined && !tenantRoles) throw usageError('--role-prefix needs --tenant-roles');
  const { createSchemaPerTenant } = await import('@tenant/store-sql');
  try {
    return createSchemaPerTenant({
      db: await ctx.db(),
      migrations,
      ...(prefix === undefined ? {} : { schemaPrefix: prefix }),
      ...(tenantRoles ? { tenantRoles } : {}),
      ...(rolePrefix === undefined ? {} : { rolePrefix }),
    });
  } catch (error) {
    if (error instanceof TypeError) {
      const message = messageOf(error);
      const option = /^(schemaPrefix|rolePrefix) /.exec(message)?.[1];
      throw usageError(option === undefined ? message : `--${option === 'schemaPrefix' ? 'schema-prefix' : 'role-prefix'}: ${message.slice(option.length + 1)}`);
    }
    throw error;
  }
}

interface SchemaReport {
  readonly tenant: string;
  readonly schema: string;
  readonly migrations: readonly string[];
  readonly error?: string;
}

function finish(ctx: Context, reports: readonly SchemaReport[], verb: string): void {
  const failed = reports.filter((r) => r.error !== undefined);
  const data = { schemas: reports, failed: failed.length };
  if (failed.length > 0) {
    if (ctx.out.json) ctx.out.result([], data);
    const first = failed[0] as SchemaReport;
    throw new CliError('schemas_failed', `${failed.length} of ${reports.length} schemas failed; first: ${first.tenant}: ${first.error ?? ''}`, EXIT_CODES.failure);
  }
  const ran = reports.reduce((n, r) => n + r.migrations.length, 0);
  ctx.out.result(`${verb} ${reports.length} schemas (${ran} migrations run)`, data);
}

const names = (result: MigrationResultSet['results']) => (result ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);

const provision: Command = {
  name: 'schemas provision',
  summary: 'create tenant schemas and run the tenant migrations into them (PostgreSQL)',
  args: '<id...> | --all [options]',
  positionals: [0, Infinity],
  options: { ...common, all: { type: 'boolean' } },
  optionHelp: [['--all', 'every tenant in the store that is not deleted'], ...commonHelp],
  notes: ['Idempotent: an existing schema is only migrated. A failing schema is reported and the next ones still run (exit 1 at the end).'],
  examples: ['tenant schemas provision acme --migrations ./tenant-migrations', 'tenant schemas provision --all --migrations ./dist/tenant-migrations.js'],
  async run(ctx) {
    const all = flag(ctx, 'all');
    if (all === ctx.positionals.length > 0) throw usageError('give tenant ids or --all (not both)');
    const ids = all ? [] : ctx.positionals.map((_, i) => idArgument(ctx, i));
    const schemas = await schemasOf(ctx, false);
    const store = await ctx.store();
    if (all) ids.push(...(await allTenants(store, { status: ['active', 'suspended', 'inactive'] })).map((t) => t.id));
    else {
      // A schema for a tenant the store does not know is a typo, not a tenant.
      for (const id of ids) {
        const tenant = await store.get(id);
        if (tenant === undefined || tenant.status === 'deleted') {
          throw new CliError('tenant_not_found', `no tenant ${id} in the store${tenant === undefined ? '' : ' (it is deleted)'}: nothing was provisioned`, EXIT_CODES.failure);
        }
      }
    }
    const progress = ctx.out.progress(ids.length, 'provisioning');
    const reports: SchemaReport[] = [];
    for (const [i, id] of ids.entries()) {
      const schema = schemas.schemaName(id);
      try {
        reports.push({ tenant: id, schema, migrations: names((await schemas.provision(id)).results) });
        progress.tick(i + 1, id);
      } catch (error) {
        if (isUnreachable(error)) throw error;
        const message = toCliError(error).message;
        reports.push({ tenant: id, schema, migrations: [], error: message });
        progress.tick(i + 1, id, message);
      }
    }
    progress.done();
    finish(ctx, reports, 'provisioned');
  },
};

const migrate: Command = {
  name: 'schemas migrate',
  summary: 'run pending tenant migrations in every tenant schema (PostgreSQL)',
  args: '--migrations <path> [options]',
  positionals: [0, 0],
  options: common,
  optionHelp: commonHelp,
  notes: ['Schemas are migrated one after the other (kysely takes one advisory lock). A failing schema is reported and the next ones still run (exit 1 at the end).'],
  examples: ['tenant schemas migrate --migrations ./tenant-migrations'],
  async run(ctx) {
    const schemas = await schemasOf(ctx, true);
    let progress: ReturnType<Context['out']['progress']> | undefined;
    const results = await schemas.migrateAll({
      onProgress: (p) => {
        progress ??= ctx.out.progress(p.total, 'migrating');
        progress.tick(p.index, p.slug, p.error === undefined ? undefined : toCliError(p.error).message);
      },
    });
    progress?.done();
    const unreachable = results.find((r) => r.error !== undefined && isUnreachable(r.error));
    if (unreachable !== undefined) throw unreachable.error;
    finish(
      ctx,
      results.map((r) => ({ tenant: r.slug, schema: r.schema, migrations: names(r.results), ...(r.error === undefined ? {} : { error: toCliError(r.error).message }) })),
      'migrated',
    );
  },
};

const listSchemas: Command = {
  name: 'schemas list',
  summary: 'list the tenant schemas (PostgreSQL)',
  args: '[options]',
  positionals: [0, 0],
  options: { 'schema-prefix': common['schema-prefix'] },
  optionHelp: [commonHelp[1]],
  examples: ['tenant schemas list --json'],
  async run(ctx) {
    const schemas = await schemasOf(ctx, false);
    const slugs = await schemas.list();
    ctx.out.result(slugs.length === 0 ? ['no tenant schemas'] : slugs.map((s) => `${s}  ${schemas.schemaName(s)}`), { schemas: slugs.map((s) => ({ tenant: s, schema: schemas.schemaName(s) })) });
  },
};

const drop: Command = {
  name: 'schemas drop',
  summary: "drop a tenant's schema and everything in it (PostgreSQL)",
  args: '<id> --yes',
  positionals: [1, 1],
  options: { 'schema-prefix': common['schema-prefix'], ...roleOptions, yes: { type: 'boolean' } },
  optionHelp: [commonHelp[1], ...roleHelp, ['--yes', "required: confirms that the schema and all the tenant's data in it are dropped"]],
  examples: ['tenant schemas drop acme --yes'],
  async run(ctx) {
    const id = idArgument(ctx);
    if (!flag(ctx, 'yes')) throw usageError(`this drops schema of ${id} and all its data: pass --yes to confirm`);
    const schemas = await schemasOf(ctx, false);
    if (!(await schemas.exists(id))) throw new CliError('tenant_not_found', `there is no schema ${schemas.schemaName(id)}`, EXIT_CODES.failure);
    await schemas.drop(id);
    ctx.out.result(`dropped ${schemas.schemaName(id)}`, { dropped: schemas.schemaName(id) });
  },
};

export const schemaCommands: readonly Command[] = [provision, migrate, listSchemas, drop];
