// Pipeline decisions per second beside a trivial baseline, in one run.
// Uses the built package (`pnpm build` first; `pnpm bench` does it).
import { bench, describe } from 'vitest';
import { createMemoryTenantStore, createTenancy, currentTenantId, fromHeader, type TenantRequest } from '@tenant/core';

const TENANTS = 1_000;
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
const store = createMemoryTenantStore({
  tenants: ids.map((id) => ({
    id,
    quota: { requests: { limit: 1_000_000_000, windowMs: 60_000 } },
    policy: { models: ['gpt-4o-mini', 'gpt-4o'] },
  })),
});
const tenancy = createTenancy({ store, resolve: fromHeader('x-tenant-id'), policyRequest: () => ({ models: 'gpt-4o-mini' }) });

const requests: TenantRequest[] = ids.map((id) => {
  const headers: Record<string, string> = { 'x-tenant-id': id, host: 'api.example.com' };
  return { method: 'GET', path: '/v1/chat', query: '', host: 'api.example.com', header: (name) => headers[name] };
});
const configs = new Map(ids.map((id) => [id, { id }]));
let i = 0;

describe('pipeline decision (header resolve, stored config, policy, quota, context)', () => {
  bench(
    'baseline: read header, Map lookup, call handler',
    async () => {
      const req = requests[i++ % TENANTS]!;
      const config = configs.get(req.header('x-tenant-id')!);
      await Promise.resolve(config?.id);
    },
    { time: 1500 },
  );

  bench(
    '@tenant/core: handle() + run()',
    async () => {
      const decision = await tenancy.handle(requests[i++ % TENANTS]!);
      if (!decision.ok) throw new Error('rejected');
      tenancy.run(decision, currentTenantId);
    },
    { time: 1500 },
  );

  bench(
    '@tenant/core: decide() + run() (synchronous when every part is)',
    () => {
      const decided = tenancy.decide(requests[i++ % TENANTS]!);
      if (decided instanceof Promise || !decided.ok) throw new Error('not decided synchronously');
      tenancy.run(decided, currentTenantId);
    },
    { time: 1500 },
  );
});
