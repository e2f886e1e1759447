import { describe, expect, it } from 'vitest';
import {
  CONFIG_LIMITS,
  applyTenantPatch,
  createTenantConfig,
  createTenantIdValidator,
  deepFreeze,
  parseTenantConfig,
  type TenantConfig,
  type TenantInput,
  type TenantPatch,
} from '../src/index.js';
import { fieldsOf, thrown } from './fixtures-a/errors.js';

const now = new Date('2026-01-02T03:04:05.000Z');
const later = new Date('2026-02-03T04:05:06.000Z');
const create = (input: unknown) => createTenantConfig(input as TenantInput, { now });
const patch = (current: TenantConfig, value: unknown) => applyTenantPatch(current, value as TenantPatch, { now: later });
const invalidCreate = (input: unknown) => fieldsOf(thrown(() => create(input), 'config_invalid'));
const invalidPatch = (value: unknown) => fieldsOf(thrown(() => patch(create({ id: 'acme' }), value), 'config_invalid'));

function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

describe('createTenantConfig', () => {
  it('fills in the defaults', () => {
    expect(create({ id: 'acme' })).toEqual({
      id: 'acme',
      status: 'active',
      quota: {},
      policy: {},
      domains: [],
      metadata: {},
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:05.000Z',
      version: 1,
    });
  });

  it('keeps every field, normalized, deeply frozen, and JSON-stable', () => {
    const input = {
      id: 'acme',
      name: 'Acme Corp',
      status: 'suspended',
      plan: 'pro:2026.v1',
      quota: { requests: { limit: 100, windowMs: 60_000 }, tokens: { limit: 0, windowMs: 1 } },
      policy: { models: ['gpt-4o', 'gpt-4o', 'claude'], tools: [], region_1: ['eu'] },
      domains: ['Acme.Example.COM', 'acme.example.com.', 'www.acme.test'],
      metadata: { tier: 1, tags: ['a', { b: null }], nested: { ok: true, n: -1.5 } },
    };
    const tenant = create(input);
    expect(tenant).toMatchObject({
      name: 'Acme Corp',
      status: 'suspended',
      plan: 'pro:2026.v1',
      quota: input.quota,
      policy: { models: ['gpt-4o', 'claude'], tools: [], region_1: ['eu'] },
      domains: ['acme.example.com', 'www.acme.test'],
      metadata: input.metadata,
    });
    expect(isDeeplyFrozen(tenant)).toBe(true);
    expect(JSON.parse(JSON.stringify(tenant))).toEqual(tenant);
    expect(parseTenantConfig(JSON.parse(JSON.stringify(tenant)))).toEqual(tenant);
  });

  it('copies the input: later changes to it do not reach the config', () => {
    const input = { id: 'acme', policy: { models: ['a'] }, domains: ['a.example.com'], metadata: { list: [1] }, quota: { requests: { limit: 1, windowMs: 1000 } } };
    const tenant = create(input);
    input.policy.models.push('b');
    input.domains.push('b.example.com');
    input.metadata.list.push(2);
    input.quota.requests.limit = 99;
    expect(tenant.policy['models']).toEqual(['a']);
    expect(tenant.domains).toEqual(['a.example.com']);
    expect(tenant.metadata).toEqual({ list: [1] });
    expect(tenant.quota.requests?.limit).toBe(1);
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('refuses a bad id with tenant_invalid before anything else', () => {
    thrown(() => create({ id: '../x', plan: '' }), 'tenant_invalid');
    thrown(() => create({ name: 'no id' }), 'tenant_invalid');
  });

  it('uses a custom id validator', () => {
    const validateId = createTenantIdValidator({ pattern: /^T[0-9]+$/ });
    expect(createTenantConfig({ id: 'T1' }, { now, validateId }).id).toBe('T1');
    thrown(() => createTenantConfig({ id: 'acme' }, { now, validateId }), 'tenant_invalid');
  });

  it.each([null, 'acme', 42, ['acme'], new (class Input { id = 'acme'; })()])('refuses the input %j', (input) => {
    expect(invalidCreate(input)).toEqual({ input: 'must be an object' });
  });

  it('reports every invalid field at once, with the tenant id', () => {
    const error = thrown(() =>
      create({ id: 'acme', name: '', status: 'deleted', plan: 'has space', quota: [], policy: 'x', domains: 'x', metadata: [], owner: 'me' }),
    );
    expect(error.code).toBe('config_invalid');
    expect(error.status).toBe(400);
    expect(error.tenantId).toBe('acme');
    expect(Object.keys(fieldsOf(error)).sort()).toEqual(['domains', 'metadata', 'name', 'owner', 'plan', 'policy', 'quota', 'status']);
    expect(fieldsOf(error)['owner']).toBe('is not a tenant field');
    expect(error.message).toContain('name must be a non-empty string');
    expect(error.message).toContain('owner is not a tenant field');
  });

  describe('name and plan', () => {
    it.each([
      [{ name: '' }, 'name', 'must be a non-empty string'],
      [{ name: 5 }, 'name', 'must be a non-empty string'],
      [{ name: 'a'.repeat(CONFIG_LIMITS.nameLength + 1) }, 'name', 'must be at most 200 characters'],
      [{ name: 'Acme\nCorp' }, 'name', 'must not contain control characters'],
      [{ name: 'Acme\u0085' }, 'name', 'must not contain control characters'],
      [{ plan: 'a'.repeat(CONFIG_LIMITS.planLength + 1) }, 'plan', 'must be at most 64 characters'],
      [{ plan: '-pro' }, 'plan', 'must match'],
      [{ plan: 'pro plan' }, 'plan', 'must match'],
      [{ plan: 'pro/1' }, 'plan', 'must match'],
      [{ plan: null }, 'plan', 'must be a non-empty string'],
    ])('refuses %j', (fields, field, message) => {
      expect(invalidCreate({ id: 'acme', ...fields })[field]).toContain(message);
    });

    it('accepts them at their limits', () => {
      const tenant = create({ id: 'acme', name: 'n'.repeat(CONFIG_LIMITS.nameLength), plan: 'p'.repeat(CONFIG_LIMITS.planLength) });
      expect(tenant.name).toHaveLength(200);
      expect(tenant.plan).toHaveLength(64);
    });
  });

  describe('status', () => {
    it.each(['active', 'suspended', 'inactive'])('accepts %s', (status) => {
      expect(create({ id: 'acme', status }).status).toBe(status);
    });

    it.each(['deleted', 'ACTIVE', '', 1, null])('refuses %j', (status) => {
      expect(invalidCreate({ id: 'acme', status })['status']).toContain('must be one of active, suspended, inactive');
    });
  });

  describe('quota', () => {
    it.each([
      [{ seats: { limit: 1, windowMs: 1 } }, 'quota.seats', 'is not a quota dimension'],
      [{ requests: 10 }, 'quota.requests', 'must be an object'],
      [{ requests: { limit: 1, windowMs: 1, burst: 2 } }, 'quota.requests', 'has unknown fields: burst'],
      [{ requests: { limit: -1, windowMs: 1 } }, 'quota.requests.limit', 'non-negative integer'],
      [{ requests: { limit: 1.5, windowMs: 1 } }, 'quota.requests.limit', 'non-negative integer'],
      [{ requests: { limit: '1', windowMs: 1 } }, 'quota.requests.limit', 'non-negative integer'],
      [{ requests: { limit: 2 ** 53, windowMs: 1 } }, 'quota.requests.limit', 'non-negative integer'],
      [{ requests: { limit: 1, windowMs: 0 } }, 'quota.requests.windowMs', 'integer from 1'],
      [{ requests: { limit: 1 } }, 'quota.requests.windowMs', 'integer from 1'],
      [{ tokens: { limit: 1, windowMs: CONFIG_LIMITS.maxWindowMs + 1 } }, 'quota.tokens.windowMs', 'integer from 1'],
    ])('refuses %j', (quota, field, message) => {
      expect(invalidCreate({ id: 'acme', quota })[field]).toContain(message);
    });

    it('accepts the longest window and skips undefined dimensions', () => {
      const quota = { tokens: { limit: 5, windowMs: CONFIG_LIMITS.maxWindowMs }, requests: undefined };
      expect(create({ id: 'acme', quota }).quota).toEqual({ tokens: { limit: 5, windowMs: CONFIG_LIMITS.maxWindowMs } });
    });
  });

  describe('policy', () => {
    it.each([
      [{ models: 'gpt-4o' }, 'policy.models', 'must be an array'],
      [{ models: [1] }, 'policy.models', 'must be a non-empty string'],
      [{ models: [''] }, 'policy.models', 'must be a non-empty string'],
      [{ models: ['a\0'] }, 'policy.models', 'control characters'],
      [{ models: ['m'.repeat(CONFIG_LIMITS.policyValueLength + 1)] }, 'policy.models', 'at most 256 characters'],
      [{ models: Array.from({ length: CONFIG_LIMITS.policyValues + 1 }, (_, i) => `m${i}`) }, 'policy.models', 'at most 1000'],
      [{ '1bad': ['x'] }, 'policy.1bad', 'not a valid dimension name'],
      [{ 'a b': ['x'] }, 'policy.a b', 'not a valid dimension name'],
    ])('refuses %j', (policy, field, message) => {
      expect(invalidCreate({ id: 'acme', policy })[field]).toContain(message);
    });

    it('limits the number of dimensions', () => {
      const policy = Object.fromEntries(Array.from({ length: CONFIG_LIMITS.policyDimensions + 1 }, (_, i) => [`d${i}`, ['x']]));
      expect(invalidCreate({ id: 'acme', policy })['policy']).toContain('at most 32 dimensions');
      const atLimit = Object.fromEntries(Array.from({ length: CONFIG_LIMITS.policyDimensions }, (_, i) => [`d${i}`, ['x']]));
      expect(Object.keys(create({ id: 'acme', policy: atLimit }).policy)).toHaveLength(32);
    });

    it('accepts a list at the value limit', () => {
      const models = Array.from({ length: CONFIG_LIMITS.policyValues }, (_, i) => `m${i}`);
      expect(create({ id: 'acme', policy: { models } }).policy['models']).toHaveLength(1000);
    });
  });

  describe('domains', () => {
    it.each([
      [['acme.com:8080'], 'domains.0'],
      [['acme.com', '10.0.0.1'], 'domains.1'],
      [['[::1]'], 'domains.0'],
      [['evil.com/@acme'], 'domains.0'],
      [[42], 'domains.0'],
      [[''], 'domains.0'],
    ])('refuses %j', (domains, field) => {
      expect(invalidCreate({ id: 'acme', domains })[field]).toContain('must be a host name without port');
    });

    it('limits their number', () => {
      const domains = Array.from({ length: CONFIG_LIMITS.domains + 1 }, (_, i) => `d${i}.example.com`);
      expect(invalidCreate({ id: 'acme', domains })['domains']).toContain('at most 100');
      expect(create({ id: 'acme', domains: domains.slice(1) }).domains).toHaveLength(100);
    });
  });

  describe('metadata', () => {
    it.each([
      [{ n: Number.NaN }, 'metadata.n', 'finite number'],
      [{ n: Number.POSITIVE_INFINITY }, 'metadata.n', 'finite number'],
      [{ d: new Date(0) }, 'metadata.d', 'must be JSON'],
      [{ f: () => 1 }, 'metadata.f', 'must be JSON'],
      [{ u: undefined }, 'metadata.u', 'must be JSON'],
      [{ b: 1n }, 'metadata.b', 'must be JSON'],
      [{ list: [1, new Map()] }, 'metadata.list.1', 'must be JSON'],
    ])('refuses %s', (metadata, field, message) => {
      expect(invalidCreate({ id: 'acme', metadata })[field]).toContain(message);
    });

    it.each([['array', []], ['string', 'x'], ['null', null]])('refuses a top-level %s', (_label, metadata) => {
      expect(invalidCreate({ id: 'acme', metadata })['metadata']).toBe('must be a JSON object');
    });

    it('limits the nesting below the metadata object', () => {
      const nest = (levels: number, leaf: unknown) => {
        let value = leaf;
        for (let i = 0; i < levels; i += 1) value = i % 2 === 0 ? { d: value } : [value];
        return { top: value };
      };
      const ok = nest(CONFIG_LIMITS.metadataDepth, 'leaf');
      expect(create({ id: 'acme', metadata: ok }).metadata).toEqual(ok);
      const fields = invalidCreate({ id: 'acme', metadata: nest(CONFIG_LIMITS.metadataDepth + 1, 'leaf') });
      expect(Object.values(fields)).toEqual(['is nested deeper than 16 levels']);
    });

    it('refuses a cycle without overflowing the stack', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      expect(Object.values(invalidCreate({ id: 'acme', metadata: cyclic })).join()).toContain('nested deeper');
    });

    it('limits the size', () => {
      const big = { blob: 'x'.repeat(CONFIG_LIMITS.metadataBytes) };
      expect(invalidCreate({ id: 'acme', metadata: big })['metadata']).toContain('at most 65536 bytes');
      const fits = { blob: 'x'.repeat(CONFIG_LIMITS.metadataBytes - '{"blob":""}'.length) };
      expect(create({ id: 'acme', metadata: fits }).metadata).toEqual(fits);
    });

    it('keeps a __proto__ key as plain data without touching prototypes', () => {
      const metadata = JSON.parse('{"__proto__":{"polluted":true},"x":1}') as Record<string, unknown>;
      const tenant = create({ id: 'acme', metadata });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.getPrototypeOf(tenant.metadata)).toBe(Object.prototype);
      expect(Object.keys(tenant.metadata)).toEqual(['__proto__', 'x']);
    });

    it('accepts objects without a prototype', () => {
      const metadata = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
      expect(create({ id: 'acme', metadata }).metadata).toEqual({ a: 1 });
    });
  });

  it('exposes frozen limits', () => {
    expect(Object.isFrozen(CONFIG_LIMITS)).toBe(true);
  });
});

describe('applyTenantPatch', () => {
  const base = create({ id: 'acme', name: 'Acme', plan: 'free', domains: ['acme.example.com'], metadata: { a: 1 } });

  it('applies fields, keeps the others, bumps the version and updatedAt', () => {
    const next = patch(base, { plan: 'pro', status: 'inactive', metadata: { b: 2 }, quota: { requests: { limit: 5, windowMs: 1000 } } });
    expect(next).toEqual({
      ...base,
      plan: 'pro',
      status: 'inactive',
      metadata: { b: 2 },
      quota: { requests: { limit: 5, windowMs: 1000 } },
      updatedAt: later.toISOString(),
      version: 2,
    });
    expect(next.createdAt).toBe(base.createdAt);
    expect(isDeeplyFrozen(next)).toBe(true);
    expect(base.version).toBe(1);
    expect(patch(next, {}).version).toBe(3);
  });

  it('clears name and plan with null', () => {
    const next = patch(base, { name: null, plan: null });
    expect('name' in next).toBe(false);
    expect('plan' in next).toBe(false);
    expect(next.version).toBe(2);
  });

  it('normalizes patched domains and policy', () => {
    const next = patch(base, { domains: ['WWW.Acme.test.'], policy: { tools: ['a', 'a', 'b'] } });
    expect(next.domains).toEqual(['www.acme.test']);
    expect(next.policy).toEqual({ tools: ['a', 'b'] });
  });

  it('refuses unknown fields, the id and deletion by status', () => {
    expect(invalidPatch({ id: 'other' })).toEqual({ id: 'is not a tenant field' });
    expect(invalidPatch({ version: 9 })).toEqual({ version: 'is not a tenant field' });
    expect(invalidPatch({ status: 'deleted' })['status']).toContain('delete with store.delete()');
  });

  it('reports every invalid field with the tenant id and changes nothing', () => {
    const error = thrown(() => patch(base, { name: '', plan: 'x y', quota: { requests: { limit: -1, windowMs: 1 } }, domains: ['a:1'], metadata: [] }), 'config_invalid');
    expect(error.tenantId).toBe('acme');
    expect(Object.keys(fieldsOf(error)).sort()).toEqual(['domains.0', 'metadata', 'name', 'plan', 'quota.requests.limit']);
    expect(base.version).toBe(1);
  });

  it.each([null, 'x', [], 7])('refuses the patch %j', (value) => {
    expect(invalidPatch(value)).toEqual({ patch: 'must be an object' });
  });
});

describe('parseTenantConfig', () => {
  const stored = JSON.parse(JSON.stringify(create({ id: 'acme', name: 'Acme', plan: 'pro', domains: ['acme.example.com'] }))) as Record<string, unknown>;
  const invalidParse = (value: unknown) => fieldsOf(thrown(() => parseTenantConfig(value), 'config_invalid'));

  it('parses a stored config into a frozen one', () => {
    const tenant = parseTenantConfig(stored);
    expect(tenant).toEqual(stored);
    expect(isDeeplyFrozen(tenant)).toBe(true);
  });

  it('parses a deleted tenant with deletedAt and fills absent collections', () => {
    const { quota: _q, policy: _p, domains: _d, metadata: _m, ...bare } = stored;
    const tenant = parseTenantConfig({ ...bare, status: 'deleted', deletedAt: '2026-03-01T00:00:00.000Z' });
    expect(tenant).toMatchObject({ status: 'deleted', deletedAt: '2026-03-01T00:00:00.000Z', quota: {}, policy: {}, domains: [], metadata: {} });
  });

  it('refuses a bad id with tenant_invalid', () => {
    thrown(() => parseTenantConfig({ ...stored, id: 'ACME' }), 'tenant_invalid');
    const validateId = createTenantIdValidator({ pattern: /^[A-Z]+$/ });
    expect(parseTenantConfig({ ...stored, id: 'ACME' }, { validateId }).id).toBe('ACME');
  });

  it.each([
    [{ status: 'gone' }, 'status', 'must be a tenant status'],
    [{ status: undefined }, 'status', 'must be a tenant status'],
    [{ createdAt: 'yesterday' }, 'createdAt', 'ISO 8601'],
    [{ updatedAt: 5 }, 'updatedAt', 'ISO 8601'],
    [{ deletedAt: 'never' }, 'deletedAt', 'ISO 8601'],
    [{ version: 0 }, 'version', 'positive integer'],
    [{ version: '1' }, 'version', 'positive integer'],
    [{ version: 1.5 }, 'version', 'positive integer'],
    [{ name: '' }, 'name', 'non-empty string'],
    [{ plan: 'a b' }, 'plan', 'must match'],
    [{ domains: ['x:1'] }, 'domains.0', 'host name'],
    [{ quota: { requests: { limit: 1 } } }, 'quota.requests.windowMs', 'integer'],
  ])('refuses %j', (change, field, message) => {
    expect(invalidParse({ ...stored, ...change })[field]).toContain(message);
  });

  it.each([null, 'x', [stored]])('refuses %j', (value) => {
    expect(invalidParse(value)).toEqual({ config: 'must be an object' });
  });
});

describe('deepFreeze', () => {
  it('freezes nested values and returns its argument', () => {
    const value = { a: { b: [1, { c: 2 }] } };
    expect(deepFreeze(value)).toBe(value);
    expect(isDeeplyFrozen(value)).toBe(true);
  });

  it('leaves primitives alone and handles cycles', () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze(null)).toBeNull();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(Object.isFrozen(deepFreeze(cyclic))).toBe(true);
  });
});
