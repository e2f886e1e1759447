import { CliError, EXIT_CODES, usageError } from '../errors.js';
import { table } from '../output.js';
import { choice, idArgument, intOption, jsonOption, list, str, type Command, type Context } from '../command.js';
import { TENANT_STATUSES, type TenantConfig, type TenantInput, type TenantPatch, type TenantStatus } from '@tenant/core';

/** A tenant as `key value` lines. */
export function describe(t: TenantConfig): string[] {
  return table(
    ['field', 'value'],
    [
      ['id', t.id],
      ['name', t.name ?? '-'],
      ['status', t.status],
      ['plan', t.plan ?? '-'],
      ['domains', t.domains.join(' ') || '-'],
      ['quota', JSON.stringify(t.quota)],
      ['policy', JSON.stringify(t.policy)],
      ['metadata', JSON.stringify(t.metadata)],
      ['createdAt', t.createdAt],
      ['updatedAt', t.updatedAt],
      ['deletedAt', t.deletedAt ?? '-'],
      ['version', String(t.version)],
    ],
  ).slice(1);
}

const fieldOptions = {
  name: { type: 'string' },
  plan: { type: 'string' },
  status: { type: 'string' },
  domain: { type: 'string', multiple: true },
  quota: { type: 'string' },
  policy: { type: 'string' },
  metadata: { type: 'string' },
} as const;

const fieldHelp = [
  ['--name <text>', 'display name'],
  ['--plan <plan>', 'plan name'],
  ['--status <status>', 'active, suspended or inactive'],
  ['--domain <host>', 'a domain (repeat for several; replaces the list on update)'],
  ['--quota <json>', `e.g. '{"requests":{"limit":100,"windowMs":60000}}'`],
  ['--policy <json>', `e.g. '{"models":["gpt-4o"]}'`],
  ['--metadata <json>', `a JSON object, e.g. '{"region":"eu"}'`],
] as const;

function fields(ctx: Context): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'plan'] as const) {
    const v = str(ctx, key);
    if (v !== undefined) out[key] = v;
  }
  const status = str(ctx, 'status');
  if (status !== undefined) out['status'] = choice(ctx, 'status', ['active', 'suspended', 'inactive'], 'active');
  if (ctx.values['domain'] !== undefined) out['domains'] = list(ctx, 'domain');
  for (const key of ['quota', 'policy', 'metadata'] as const) {
    const v = jsonOption(ctx, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function shown(ctx: Context, tenant: TenantConfig, verb: string): void {
  ctx.out.result([`${verb} ${tenant.id} (${tenant.status}, version ${tenant.version})`], tenant);
}

const create: Command = {
  name: 'create',
  summary: 'create a tenant',
  args: '<id> [options]',
  positionals: [1, 1],
  options: fieldOptions,
  optionHelp: fieldHelp,
  examples: ['tenant create acme --name "Acme Inc." --plan pro --domain acme.example.com', `tenant create globex --quota '{"requests":{"limit":1000,"windowMs":60000}}' --json`],
  async run(ctx) {
    const input = { ...fields(ctx), id: idArgument(ctx) } as TenantInput; // the command line is checked before the store is opened
    shown(ctx, await (await ctx.store()).create(input), 'created');
  },
};

const update: Command = {
  name: 'update',
  summary: 'change some fields of a tenant',
  args: '<id> [options]',
  positionals: [1, 1],
  options: { ...fieldOptions, 'if-version': { type: 'string' } },
  optionHelp: [...fieldHelp, ['--if-version <n>', 'only if the tenant is at this version (else version_conflict, exit 1)']],
  examples: ['tenant update acme --plan enterprise --if-version 3'],
  async run(ctx) {
    const id = idArgument(ctx);
    const patch = fields(ctx);
    if (Object.keys(patch).length === 0) throw usageError('nothing to change: give at least one of --name, --plan, --status, --domain, --quota, --policy, --metadata');
    const expectedVersion = intOption(ctx, 'if-version', undefined);
    const store = await ctx.store();
    shown(ctx, await store.update(id, patch as TenantPatch, expectedVersion === undefined ? {} : { expectedVersion }), 'updated');
  },
};

const listCommand: Command = {
  name: 'list',
  summary: 'list tenants (all but deleted ones by default)',
  args: '[options]',
  positionals: [0, 0],
  options: { status: { type: 'string', multiple: true }, plan: { type: 'string' }, limit: { type: 'string' } },
  optionHelp: [
    ['--status <status>', 'only this status (repeat for several; deleted included only when asked)'],
    ['--plan <plan>', 'only this plan'],
    ['--limit <n>', 'at most n tenants (default: all)'],
  ],
  examples: ['tenant list', 'tenant list --status suspended --status inactive --json'],
  async run(ctx) {
    const statuses = list(ctx, 'status');
    for (const s of statuses) if (!TENANT_STATUSES.includes(s as TenantStatus)) throw usageError(`--status must be one of ${TENANT_STATUSES.join(', ')}, not ${JSON.stringify(s)}`);
    const limit = intOption(ctx, 'limit', undefined);
    const plan = str(ctx, 'plan');
    const store = await ctx.store();
    const tenants = await allTenants(store, { ...(statuses.length > 0 ? { status: statuses as TenantStatus[] } : {}), ...(plan === undefined ? {} : { plan }) }, limit);
    ctx.out.result(
      tenants.length === 0 ? ['no tenants'] : table(['ID', 'STATUS', 'PLAN', 'VERSION', 'NAME', 'DOMAINS'], tenants.map((t) => [t.id, t.status, t.plan ?? '-', String(t.version), t.name ?? '-', t.domains.join(' ') || '-'])),
      { tenants },
    );
  },
};

/** Every tenant matching a query, page by page, up to `limit`. */
export async function allTenants(
  store: Awaited<ReturnType<Context['store']>>,
  query: { status?: TenantStatus | TenantStatus[]; plan?: string },
  limit?: number,
): Promise<TenantConfig[]> {
  const tenants: TenantConfig[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, limit: Math.min(1000, limit === undefined ? 1000 : limit - tenants.length), ...(cursor === undefined ? {} : { cursor }) });
    tenants.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && (limit === undefined || tenants.length < limit));
  return tenants;
}

const show: Command = {
  name: 'show',
  summary: 'show one tenant',
  args: '<id>',
  positionals: [1, 1],
  examples: ['tenant show acme', 'tenant show acme --json'],
  async run(ctx) {
    const id = idArgument(ctx);
    const tenant = await (await ctx.store()).get(id);
    if (tenant === undefined) throw new CliError('tenant_not_found', `no tenant ${id}`, EXIT_CODES.failure);
    ctx.out.result(describe(tenant), tenant);
  },
};

function statusCommand(name: string, summary: string, apply: (store: Awaited<ReturnType<Context['store']>>, id: string) => Promise<TenantConfig>, verb: string, note?: string): Command {
  return {
    name,
    summary,
    args: '<id>',
    positionals: [1, 1],
    examples: [`tenant ${name} acme`],
    ...(note === undefined ? {} : { notes: [note] }),
    async run(ctx) {
      const id = idArgument(ctx);
      shown(ctx, await apply(await ctx.store(), id), verb);
    },
  };
}

export const tenantCommands: readonly Command[] = [
  create,
  listCommand,
  show,
  update,
  statusCommand('suspend', 'suspend a tenant (its requests get 403)', (s, id) => s.update(id, { status: 'suspended' }), 'suspended'),
  statusCommand('resume', 'make a suspended or inactive tenant active again', (s, id) => s.update(id, { status: 'active' }), 'resumed'),
  statusCommand(
    'delete',
    'soft-delete a tenant (status deleted; its id and domains stay reserved)',
    (s, id) => s.delete(id),
    'deleted',
    'The row is kept: `tenant restore` undoes it. Deleting an already deleted tenant changes nothing.',
  ),
  statusCommand('restore', 'undo a soft delete (the tenant becomes active)', (s, id) => s.restore(id), 'restored'),
];
