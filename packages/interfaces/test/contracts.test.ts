import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  QUOTA_DIMENSIONS,
  TENANT_STATUSES,
  type PolicyEvaluator,
  type QuotaDimension,
  type TenantConfig,
  type TenantPatch,
  type TenantStatus,
  type TenantStore,
  type WriteOptions,
} from '../src/index.js';

describe('constant lists', () => {
  it('lists the tenant statuses in a stable, frozen order', () => {
    expect(TENANT_STATUSES).toEqual(['active', 'suspended', 'inactive', 'deleted']);
    expect(Object.isFrozen(TENANT_STATUSES)).toBe(true);
    expectTypeOf(TENANT_STATUSES).toEqualTypeOf<readonly TenantStatus[]>();
  });

  it('lists the quota dimensions in a stable, frozen order', () => {
    expect(QUOTA_DIMENSIONS).toEqual(['requests', 'tokens']);
    expect(Object.isFrozen(QUOTA_DIMENSIONS)).toBe(true);
    expectTypeOf(QUOTA_DIMENSIONS).toEqualTypeOf<readonly QuotaDimension[]>();
  });
});

// The two examples of the README, verbatim: they must keep type-checking against the contracts.
function withWriteLog(inner: TenantStore, log: (line: string) => void): TenantStore {
  return {
    get: (id) => inner.get(id),
    getByDomain: (domain) => inner.getByDomain(domain),
    list: (query) => inner.list(query),
    subscribe: (listener) => inner.subscribe(listener),
    async create(input) {
      const tenant = await inner.create(input);
      log(`created ${tenant.id}`);
      return tenant;
    },
    async update(id: string, patch: TenantPatch, options?: WriteOptions) {
      const tenant = await inner.update(id, patch, options);
      log(`updated ${id} to version ${tenant.version}`);
      return tenant;
    },
    async delete(id, options) {
      const tenant = await inner.delete(id, options);
      log(`deleted ${id}`);
      return tenant;
    },
    async restore(id, options) {
      const tenant = await inner.restore(id, options);
      log(`restored ${id} as ${tenant.status}`);
      return tenant;
    },
  };
}

const proExports: PolicyEvaluator = {
  evaluate(tenant, request) {
    const asked = request['features'];
    const features = typeof asked === 'string' ? [asked] : asked ?? [];
    if (features.includes('export') && tenant.plan !== 'pro') {
      return { allowed: false, reason: 'Exports need the pro plan', dimension: 'features', value: 'export' };
    }
    return { allowed: true };
  },
};

const config = (id: string, fields: Partial<TenantConfig> = {}): TenantConfig => ({
  id,
  status: 'active',
  quota: {},
  policy: {},
  domains: [],
  metadata: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
  ...fields,
});

describe('README examples', () => {
  it('the store wrapper delegates every method and logs writes', async () => {
    const calls: string[] = [];
    const record = <T>(name: string, value: T) => {
      calls.push(name);
      return Promise.resolve(value);
    };
    const inner: TenantStore = {
      get: (id) => record('get', config(id)),
      getByDomain: () => record('getByDomain', undefined),
      list: () => record('list', { items: [] }),
      create: (input) => record('create', config(input.id)),
      update: (id) => record('update', config(id, { version: 2 })),
      delete: (id) => record('delete', config(id, { status: 'deleted' })),
      restore: (id, options) => record('restore', config(id, { status: options?.status ?? 'active' })),
      subscribe: () => {
        calls.push('subscribe');
        return () => undefined;
      },
    };
    const log: string[] = [];
    const store = withWriteLog(inner, (line) => log.push(line));
    expect((await store.get('acme'))?.id).toBe('acme');
    expect(await store.getByDomain('acme.example.com')).toBeUndefined();
    expect(await store.list()).toEqual({ items: [] });
    store.subscribe(() => undefined)();
    await store.create({ id: 'acme' });
    await store.update('acme', { plan: 'pro' }, { expectedVersion: 1 });
    await store.delete('acme');
    await store.restore('acme', { status: 'suspended' });
    expect(calls).toEqual(['get', 'getByDomain', 'list', 'subscribe', 'create', 'update', 'delete', 'restore']);
    expect(log).toEqual(['created acme', 'updated acme to version 2', 'deleted acme', 'restored acme as suspended']);
  });

  it('the policy evaluator allows exports only on the pro plan', () => {
    expect(proExports.evaluate(config('acme', { plan: 'pro' }), { features: 'export' })).toEqual({ allowed: true });
    expect(proExports.evaluate(config('acme'), { features: ['search', 'export'] })).toEqual({
      allowed: false,
      reason: 'Exports need the pro plan',
      dimension: 'features',
      value: 'export',
    });
    expect(proExports.evaluate(config('acme'), { models: 'gpt-4o' })).toEqual({ allowed: true });
  });
});
