import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { normalizeHost, TENANT_STATUSES, type TenantConfig, type TenantPatch, type TenantStatus } from '@tenant/core';
import { CliError, EXIT_CODES, messageOf, toCliError, usageError } from '../errors.js';
import { readCsv, readJson, rowLabel, toCsv, toJson, validateRecords, type DataFormat, type ImportRecord, type RowError } from '../formats.js';
import { choice, flag, list, str, type Command, type Context } from '../command.js';
import { allTenants } from './tenants.js';

function formatOf(ctx: Context, path: string | undefined): DataFormat {
  const given = str(ctx, 'format');
  if (given !== undefined) return choice(ctx, 'format', ['json', 'csv'], 'json');
  return path !== undefined && extname(path).toLowerCase() === '.csv' ? 'csv' : 'json';
}

async function readInput(ctx: Context, path: string): Promise<string> {
  if (path === '') throw usageError('the file to import is empty: give a file path, or - for standard input');
  if (path.includes('\0')) throw usageError('the file to import contains a NUL byte');
  if (path === '-') {
    if (ctx.stdin === undefined) throw usageError('no standard input to read');
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(resolve(ctx.cwd, path), 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${path}: ${messageOf(error)}`);
  }
}

type Action = 'create' | 'update' | 'skip';
interface Planned {
  readonly record: ImportRecord;
  readonly action: Action;
  readonly existing?: TenantConfig;
}

const MAX_SHOWN = 50;

function rowErrors(errors: readonly RowError[], total: number): CliError {
  const lines = errors.slice(0, MAX_SHOWN).map((e) => `${rowLabel(e)}: ${e.message}`);
  if (errors.length > MAX_SHOWN) lines.push(`… and ${errors.length - MAX_SHOWN} more`);
  return new CliError('import_invalid', `${errors.length} of ${total} rows are invalid: nothing was imported`, EXIT_CODES.failure, { details: { rows: errors }, lines });
}

const importCommand: Command = {
  name: 'import',
  summary: 'create or update tenants from a JSON or CSV file, all or nothing',
  args: '<file | -> [options]',
  positionals: [1, 1],
  options: { format: { type: 'string' }, 'on-conflict': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  optionHelp: [
    ['--format json|csv', 'the file format (default: from the extension; json for -)'],
    ['--on-conflict fail|skip|update', 'when an id exists already: fail (default), leave it, or update it'],
    ['--dry-run', 'validate and report what would happen; write nothing'],
  ],
  notes: [
    'Every row is validated (id format, status, JSON columns, fields, ids and domains given twice) before anything',
    'is written; then all rows are written in one transaction. Any error: nothing is imported, exit 1.',
    'createdAt, updatedAt, deletedAt and version are ignored. status "deleted" soft-deletes the tenant.',
    'CSV: a header row; domains separated by spaces; quota, policy and metadata as JSON; empty cells leave',
    "a field unset (on update, unchanged); a leading ' before = + - @ is removed (see export).",
  ],
  examples: ['tenant import tenants.csv', 'tenant import backup.json --on-conflict update', 'cat tenants.json | tenant import - --dry-run --json'],
  async run(ctx) {
    const path = ctx.positionals[0] as string;
    const format = formatOf(ctx, path === '-' ? undefined : path);
    const onConflict = choice(ctx, 'on-conflict', ['fail', 'skip', 'update'], 'fail');
    const text = await readInput(ctx, path);
    const records = format === 'csv' ? readCsv(text) : readJson(text);
    const { valid, errors } = validateRecords(records);

    const store = await ctx.store();
    const inFile = new Set(valid.map((r) => r.id));
    const plan: Planned[] = [];
    for (const record of valid) {
      const existing = await store.get(record.id);
      const where = { row: record.row, ...(record.line === undefined ? {} : { line: record.line }), id: record.id };
      if (existing !== undefined && onConflict === 'fail') {
        errors.push({ ...where, message: `tenant ${record.id} exists already (use --on-conflict skip or update)` });
        continue;
      }
      if (existing !== undefined && onConflict === 'skip') {
        plan.push({ record, action: 'skip', existing });
        continue;
      }
      for (const domain of record.input.domains ?? []) {
        const owner = await store.getByDomain(domain);
        // A domain held by a tenant of the same file may be released by its row: the transaction decides.
        if (owner !== undefined && owner.id !== record.id && !inFile.has(owner.id)) {
          errors.push({ ...where, message: `domain ${normalizeHost(domain) ?? domain} belongs to tenant ${owner.id}` });
        }
      }
      plan.push(existing === undefined ? { record, action: 'create' } : { record, action: 'update', existing });
    }
    if (errors.length > 0) throw rowErrors([...errors].sort((a, b) => a.row - b.row), records.length);

    const counts = { create: 0, update: 0, skip: 0 };
    for (const p of plan) counts[p.action] += 1;
    const summary = { total: records.length, created: counts.create, updated: counts.update, skipped: counts.skip, dryRun: flag(ctx, 'dry-run') };
    if (flag(ctx, 'dry-run')) {
      ctx.out.result(`dry run: ${records.length} rows are valid: would create ${counts.create}, update ${counts.update}, skip ${counts.skip}`, summary);
      return;
    }

    const db = await ctx.db();
    const { createSqlTenantStore } = await import('@tenant/store-sql');
    await db.transaction().execute(async (trx) => {
      const tx = createSqlTenantStore({ db: trx, tablePrefix: ctx.tablePrefix });
      for (const { record, action, existing } of plan) {
        try {
          const { id: _id, ...patch } = record.input;
          if (action === 'create') {
            await tx.create(record.input);
            if (record.deleted) await tx.delete(record.id);
          } else if (action === 'update' && existing !== undefined) {
            let status = existing.status;
            if (status === 'deleted' && !record.deleted) status = (await tx.restore(record.id, { status: patch.status ?? 'active' })).status;
            if (status !== 'deleted') {
              if (Object.keys(patch).length > 0) await tx.update(record.id, patch as TenantPatch);
              if (record.deleted) await tx.delete(record.id);
            }
          }
        } catch (error) {
          const cause = toCliError(error);
          if (cause.exitCode === EXIT_CODES.unreachable) throw cause;
          throw new CliError(cause.code, `${rowLabel({ ...record })}: ${cause.message}; nothing was imported`, cause.exitCode, { cause: error, details: { row: record.row, id: record.id } });
        }
      }
    });
    ctx.out.result(`imported ${records.length} rows: ${counts.create} created, ${counts.update} updated, ${counts.skip} skipped`, summary);
  },
};

/** `--out` must name a file in an existing folder: anything else is a usage error, before the store is read. */
async function checkOutPath(ctx: Context, out: string): Promise<void> {
  if (out === '') throw usageError('--out is empty: give a file path, or leave it out to write to stdout');
  if (out.includes('\0')) throw usageError('--out contains a NUL byte');
  const abs = resolve(ctx.cwd, out);
  const [self, folder] = await Promise.all([stat(abs).catch(() => undefined), stat(dirname(abs)).catch(() => undefined)]);
  if (self?.isDirectory()) throw usageError(`--out ${out} is a directory: give a file path`);
  if (folder === undefined || !folder.isDirectory()) throw usageError(`--out ${out}: the folder ${dirname(abs)} does not exist`);
}

const exportCommand: Command = {
  name: 'export',
  summary: 'write every tenant (deleted ones included) as JSON or CSV',
  args: '[options]',
  positionals: [0, 0],
  options: { format: { type: 'string' }, out: { type: 'string', short: 'o' }, force: { type: 'boolean' }, status: { type: 'string', multiple: true } },
  optionHelp: [
    ['--format json|csv', 'the format (default: from the --out extension, else json)'],
    ['-o, --out <file>', 'write to this file instead of stdout'],
    ['--force', 'overwrite --out if it exists'],
    ['--status <status>', 'only this status (repeat for several; default: all, deleted included)'],
  ],
  notes: [
    'CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading \'',
    '(OWASP advice); import removes it, so export then import gives back the same data.',
  ],
  examples: ['tenant export > tenants.json', 'tenant export --out tenants.csv', 'tenant export --format csv --status active'],
  async run(ctx) {
    const out = str(ctx, 'out');
    if (out !== undefined) await checkOutPath(ctx, out);
    const format = formatOf(ctx, out);
    const statuses = list(ctx, 'status');
    for (const s of statuses) if (!TENANT_STATUSES.includes(s as TenantStatus)) throw usageError(`--status must be one of ${TENANT_STATUSES.join(', ')}, not ${JSON.stringify(s)}`);
    const tenants = await allTenants(await ctx.store(), { status: statuses.length > 0 ? (statuses as TenantStatus[]) : [...TENANT_STATUSES] });
    const text = format === 'csv' ? toCsv(tenants) : toJson(tenants);
    if (out === undefined) {
      ctx.out.raw(text);
      return;
    }
    try {
      await writeFile(resolve(ctx.cwd, out), text, { flag: flag(ctx, 'force') ? 'w' : 'wx' });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') throw new CliError('file_exists', `${out} exists: pass --force to overwrite it`, EXIT_CODES.failure);
      throw new CliError('write_failed', `cannot write ${out}: ${messageOf(error)}`, EXIT_CODES.failure, { cause: error });
    }
    ctx.out.result(`exported ${tenants.length} tenants to ${out} (${format})`, { exported: tenants.length, file: out, format });
  },
};

export const dataCommands: readonly Command[] = [importCommand, exportCommand];
