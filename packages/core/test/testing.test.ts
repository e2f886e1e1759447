import { describe, expect, it } from 'vitest';
import { currentTenant, currentTenantId, parseTenantConfig, requireTenant } from '../src/index.js';
import { createTestTenant, withTestTenant } from '../src/testing.js';
import { thrown } from './fixtures-a/errors.js';
import { tenant } from './fixtures-a/tenants.js';

describe('createTestTenant', () => {
  it('builds a complete, valid, frozen config with defaults', () => {
    const config = createTestTenant();
    expect(config).toEqual({
      id: 'test-tenant',
      status: 'active',
      quota: {},
      policy: {},
      domains: [],
      metadata: {},
      createdAt: '1970-01-01T00:00:00.000Z',
      updatedAt: '1970-01-01T00:00:00.000Z',
      version: 1,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(parseTenantConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('takes the given fields, normalized', () => {
    const config = createTestTenant({ id: 'acme', plan: 'pro', domains: ['Acme.Example.com'], policy: { models: ['a'] } });
    expect(config).toMatchObject({ id: 'acme', plan: 'pro', domains: ['acme.example.com'], policy: { models: ['a'] } });
  });

  it.each(['suspended', 'inactive'] as const)('builds a %s tenant', (status) => {
    const config = createTestTenant({ status });
    expect(config.status).toBe(status);
    expect('deletedAt' in config).toBe(false);
  });

  it('builds a deleted tenant with deletedAt, which parses as stored', () => {
    const config = createTestTenant({ id: 'gone', status: 'deleted' });
    expect(config).toMatchObject({ status: 'deleted', deletedAt: config.updatedAt });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.domains)).toBe(true);
    expect(parseTenantConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('validates like a store', () => {
    thrown(() => createTestTenant({ id: 'Not Valid' }), 'tenant_invalid');
    thrown(() => createTestTenant({ plan: '' }), 'config_invalid');
  });
});

describe('withTestTenant', () => {
  it('runs a callback in the context of a tenant built from fields', () => {
    const seen = withTestTenant({ id: 'acme', plan: 'pro' }, () => ({ id: currentTenantId(), plan: requireTenant().plan }));
    expect(seen).toEqual({ id: 'acme', plan: 'pro' });
    expect(currentTenant()).toBeUndefined();
  });

  it('uses the default test tenant', () => {
    expect(withTestTenant({}, () => currentTenantId())).toBe('test-tenant');
  });

  it('uses a complete config as is', () => {
    const config = tenant('globex', { plan: 'team' });
    expect(withTestTenant(config, () => currentTenant())).toBe(config);
  });

  it('keeps the context across awaits and returns the promise', async () => {
    await expect(
      withTestTenant({ id: 'acme' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return currentTenantId();
      }),
    ).resolves.toBe('acme');
  });
});
