import { describe, expect, it } from 'vitest';
import { createMemoryTenantStore, createPolicyEvaluator, createTenancy, evaluatePolicy, type PolicyEvaluator } from '../src/index.js';
import { createTestTenant } from '../src/testing.js';
import { request } from './fixtures-b/request.js';

const tenant = createTestTenant({ id: 'acme', policy: { models: ['gpt-4o-mini', 'claude-haiku'], tools: ['search'], features: [], regions: ['eu'] } });

describe('allow-list policy', () => {
  it('allows values in every list the request names', () => {
    const policy = createPolicyEvaluator();
    expect(Object.isFrozen(policy)).toBe(true);
    expect(policy.evaluate(tenant, { models: 'gpt-4o-mini', tools: ['search'] })).toEqual({ allowed: true });
    expect(policy.evaluate(tenant, { models: ['claude-haiku', 'gpt-4o-mini'] })).toEqual({ allowed: true });
    expect(policy.evaluate(tenant, {})).toEqual({ allowed: true });
    expect(policy.evaluate(tenant, { models: undefined })).toEqual({ allowed: true });
  });

  it('refuses the first value not in its list, with a reason', () => {
    expect(evaluatePolicy(tenant, { models: 'gpt-4o' })).toEqual({
      allowed: false,
      reason: `"gpt-4o" is not in this tenant's allowed models`,
      dimension: 'models',
      value: 'gpt-4o',
    });
    expect(evaluatePolicy(tenant, { models: 'gpt-4o-mini', tools: ['search', 'browse', 'shell'] })).toMatchObject({ allowed: false, dimension: 'tools', value: 'browse' });
  });

  it('treats an empty list, an absent list and "*" as allow-all', () => {
    expect(evaluatePolicy(tenant, { features: ['beta', 'export'] })).toEqual({ allowed: true });
    expect(evaluatePolicy(createTestTenant({ policy: {} }), { models: 'anything', tools: ['x'] })).toEqual({ allowed: true });
    expect(evaluatePolicy(createTestTenant({ policy: { models: ['*'] } }), { models: 'anything' })).toEqual({ allowed: true });
  });

  it('checks dimensions of your own', () => {
    expect(evaluatePolicy(tenant, { regions: 'eu' })).toEqual({ allowed: true });
    expect(evaluatePolicy(tenant, { regions: 'us' })).toMatchObject({ allowed: false, dimension: 'regions', value: 'us' });
  });

  it('does not take inherited properties as lists', () => {
    expect(evaluatePolicy(tenant, { constructor: 'x', toString: 'y' })).toEqual({ allowed: true });
  });

  it('makes reasons safe to show: control characters and quotes replaced, long values cut', () => {
    const decision = evaluatePolicy(tenant, { models: 'evil"\n\u0000model' });
    expect(decision).toMatchObject({ allowed: false, reason: `"evil???model" is not in this tenant's allowed models`, value: 'evil"\n\u0000model' });
    const long = evaluatePolicy(tenant, { models: 'm'.repeat(500) });
    expect(long.allowed === false && long.reason).toBe(`"${'m'.repeat(64)}…" is not in this tenant's allowed models`);
  });
});

describe('custom policy evaluators in the pipeline', () => {
  const store = createMemoryTenantStore({ tenants: [{ id: 'acme', plan: 'free' }, { id: 'globex', plan: 'pro' }] });

  it('uses an async evaluator of your own, fed by policyRequest', async () => {
    const byPlan: PolicyEvaluator = {
      evaluate: async (t, asked) =>
        t.plan === 'pro' || asked['features'] !== 'export'
          ? { allowed: true }
          : { allowed: false, reason: 'export needs the pro plan', dimension: 'features', value: 'export' },
    };
    const tenancy = createTenancy({
      store,
      policy: byPlan,
      quota: false,
      policyRequest: (req) => (req.path.startsWith('/export') ? { features: 'export' } : undefined),
    });
    const denied = await tenancy.handle(request({ path: '/export', headers: { 'x-tenant-id': 'acme' } }));
    expect(denied).toMatchObject({ ok: false, status: 403, code: 'policy_denied', body: { detail: 'export needs the pro plan', dimension: 'features' } });
    expect(await tenancy.handle(request({ path: '/export', headers: { 'x-tenant-id': 'globex' } }))).toMatchObject({ ok: true });
    expect(await tenancy.handle(request({ path: '/other', headers: { 'x-tenant-id': 'acme' } }))).toMatchObject({ ok: true });
  });

  it('skips policy checks entirely with policy: false', async () => {
    const strict = createMemoryTenantStore({ tenants: [{ id: 'acme', policy: { models: ['a'] } }] });
    const tenancy = createTenancy({ store: strict, policy: false, quota: false });
    expect(await tenancy.handle(request({ headers: { 'x-tenant-id': 'acme' } }), { policy: { models: 'b' } })).toMatchObject({ ok: true });
  });
});
