import type { MigrationResult } from 'kysely';
import { CliError, EXIT_CODES, usageError } from '../errors.js';
import { table } from '../output.js';
import { flag, type Command, type Context } from '../command.js';
import type { AnyKysely } from '../target.js';

/** The applied and pending migrations of the tenant store tables. */
export async function storeMigrations(db: AnyKysely, tablePrefix: string): Promise<{ name: string; executedAt: string | null }[]> {
  const { Migrator } = await import('kysely');
  const { tenantStoreMigrationProvider, tenantStoreTables } = await import('@tenant/store-sql');
  const t = tenantStoreTables({ tablePrefix });
  const migrator = new Migrator({ db, provider: tenantStoreMigrationProvider({ tablePrefix }), migrationTableName: t.migrations, migrationLockTableName: t.migrationLock });
  return (await migrator.getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt?.toISOString() ?? null }));
}

/** Runs the store migrations up (`latest`) or all the way down (`none`), and reports what ran. */
async function migrateStore(ctx: Context, db: AnyKysely, to: 'latest' | 'none'): Promise<void> {
  const { migrateTenantStore } = await import('@tenant/store-sql');
  const { results } = await migrateTenantStore(db, { tablePrefix: ctx.tablePrefix, to });
  const done = (results ?? []).map((r: MigrationResult) => ({ name: r.migrationName, direction: r.direction, status: r.status }));
  const nothing = to === 'latest' ? 'the tenant tables are up to date' : 'nothing to revert';
  ctx.out.result(done.length === 0 ? [nothing] : done.map((r) => `${to === 'latest' ? 'applied' : 'reverted'} ${r.name}`), { migrations: done, target: ctx.target.label });
}

const up: Command = {
  name: 'migrate up',
  summary: 'create or upgrade the tenant store tables (creates a missing SQLite file)',
  args: '',
  positionals: [0, 0],
  examples: ['tenant migrate up', 'tenant migrate up --url postgres://app@db.internal/app'],
  async run(ctx) {
    await migrateStore(ctx, await ctx.db({ create: true }), 'latest');
  },
};

const down: Command = {
  name: 'migrate down',
  summary: 'revert every store migration: DROPS the tenant tables and all tenants',
  args: '--yes',
  positionals: [0, 0],
  options: { yes: { type: 'boolean' } },
  optionHelp: [['--yes', 'required: confirms that the tenant tables and every tenant in them are dropped']],
  examples: ['tenant export --out backup.json && tenant migrate down --yes'],
  async run(ctx) {
    if (!flag(ctx, 'yes')) throw usageError('migrate down drops the tenant tables and every tenant in them: pass --yes to confirm');
    const db = await ctx.db();
    const applied = (await storeMigrations(db, ctx.tablePrefix)).filter((m) => m.executedAt !== null);
    if (applied.length === 0) throw new CliError('not_migrated', 'there are no store migrations to revert', EXIT_CODES.failure);
    await migrateStore(ctx, db, 'none');
  },
};

const status: Command = {
  name: 'migrate status',
  summary: 'list the store migrations, applied or pending',
  args: '',
  positionals: [0, 0],
  examples: ['tenant migrate status --json'],
  async run(ctx) {
    const migrations = await storeMigrations(await ctx.db(), ctx.tablePrefix);
    const pending = migrations.filter((m) => m.executedAt === null).length;
    ctx.out.result(
      [...table(['MIGRATION', 'APPLIED'], migrations.map((m) => [m.name, m.executedAt ?? 'pending'])), `${migrations.length - pending} applied, ${pending} pending`],
      { migrations, pending },
    );
  },
};

export const migrateCommands: readonly Command[] = [up, down, status];
