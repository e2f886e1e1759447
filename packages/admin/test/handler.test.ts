import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TenantError, createMemoryTenantStore, type TenantConfig, type TenantStore } from '@tenant/core';
import { createTenantAdmin, type AdminResponse } from '../src/index.js';
import { ADMIN, JSON_CT, VIEWER, authorize, makeAdmin } from './fixtures.js';
import { STORES } from './stores.js';

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

const problem = (response: AdminResponse): Problem => {
  expect(response.headers['content-type']).toBe('application/problem+json');
  const body = response.body as Problem;
  expect(body.status).toBe(response.status);
  expect(body.type).toBe(`urn:tenant:error:${body.code}`);
  return body;
};
const tenant = (response: AdminResponse): TenantConfig => {
  expect(response.headers['content-type']).toBe('application/json');
  const body = response.body as TenantConfig;
  expect(response.headers['etag']).toBe(`"${body.version}"`);
  return body;
};
const fields = (response: AdminResponse) => Object.fromEntries((problem(response).errors ?? []).map((e) => [e.field, e.message]));

describe.each(STORES)('admin handler over the $name store', (kind) => {
  let store: TenantStore;
  let close: () => Promise<void>;
  let t: ReturnType<typeof makeAdmin>;

  beforeEach(async () => {
    ({ store, close } = await kind.create());
    t = makeAdmin(store, { clock: { now: () => Date.parse('2030-01-02T03:04:05.000Z') } });
  });
  afterEach(() => close());

  describe('create', () => {
    it('creates a tenant: 201, Location, ETag, audit with no before', async () => {
      const res = await t.call('POST', '/tenants', { id: 'acme', name: 'Acme', plan: 'pro', domains: ['Acme.Example.com'] });
      expect(res.status).toBe(201);
      expect(res.headers['location']).toBe('tenants/acme');
      expect(res.headers['cache-control']).toBe('no-store');
      const created = tenant(res);
      expect(created).toMatchObject({ id: 'acme', name: 'Acme', plan: 'pro', status: 'active', version: 1, domains: ['acme.example.com'] });
      expect(await store.get('acme')).toEqual(created);
      expect(t.audits).toEqual([
        { action: 'tenant.create', actor: { id: 'alice', role: 'admin' }, tenantId: 'acme', before: undefined, after: created, at: '2030-01-02T03:04:05.000Z' },
      ]);
    });

    it('refuses a taken id with 409 tenant_exists and audits nothing', async () => {
      await t.call('POST', '/tenants', { id: 'acme' });
      const res = await t.call('POST', '/tenants', { id: 'acme', plan: 'other' });
      expect(res.status).toBe(409);
      expect(problem(res).code).toBe('tenant_exists');
      expect(t.audits).toHaveLength(1);
      expect((await store.get('acme'))?.plan).toBeUndefined();
    });

    it('gives a message per invalid field and writes nothing', async () => {
      const res = await t.call('POST', '/tenants', {
        id: 'acme',
        plan: 'not a plan',
        quota: { requests: { limit: -1, windowMs: 0 }, coffee: { limit: 1, windowMs: 1 } },
        policy: { models: 'gpt' },
        domains: ['ok.example.com', 'bad host:80'],
        metadata: { n: 1 },
        color: 'red',
      });
      expect(res.status).toBe(400);
      expect(problem(res).code).toBe('config_invalid');
      expect(fields(res)).toEqual({
        plan: expect.stringContaining('must match'),
        'quota.requests.limit': 'must be a non-negative integer',
        'quota.requests.windowMs': expect.stringMatching(/^must be an integer from 1 to \d+$/),
        'quota.coffee': 'is not a quota dimension (requests, tokens)',
        'policy.models': expect.stringContaining('must be an array'),
        'domains.1': expect.stringContaining('must be a host name'),
        color: 'is not a tenant field',
      });
      expect(await store.get('acme')).toBeUndefined();
      expect(t.audits).toEqual([]);
    });

    it('refuses a malformed or missing id as tenant_invalid on the id field', async () => {
      for (const id of ['Acme', '../etc', 'a b', '', 'x'.repeat(65), 42, undefined]) {
        const res = await t.call('POST', '/tenants', id === undefined ? { name: 'no id' } : { id });
        expect(res.status).toBe(400);
        expect(problem(res).code).toBe('tenant_invalid');
        expect(problem(res).errors).toEqual([{ field: 'id', message: expect.stringContaining('Invalid tenant id') }]);
      }
      expect((await store.list()).items).toEqual([]);
    });

    it('refuses a body that is not an object, and a missing body', async () => {
      for (const body of [[{ id: 'acme' }], 'null', '"acme"', '3']) {
        const res = await t.call('POST', '/tenants', body);
        expect(res.status).toBe(400);
        expect(fields(res)).toEqual({ body: 'must be a JSON object' });
      }
      const missing = await t.call('POST', '/tenants');
      expect(missing.status).toBe(400);
      expect(fields(missing)).toEqual({ body: 'is required (a JSON object)' });
    });
  });

  describe('read and list', () => {
    beforeEach(async () => {
      for (const [id, plan] of [['alpha', 'pro'], ['bravo', 'free'], ['charlie', 'pro'], ['delta', 'pro'], ['echo', 'free']] as const) {
        await store.create({ id, plan });
      }
      await store.update('charlie', { status: 'suspended' });
      await store.delete('echo');
    });

    it('gets one tenant (soft-deleted ones too) with its ETag', async () => {
      expect(tenant(await t.call('GET', '/tenants/alpha'))).toMatchObject({ id: 'alpha', version: 1 });
      expect(tenant(await t.call('GET', '/tenants/echo'))).toMatchObject({ id: 'echo', status: 'deleted', version: 2 });
    });

    it('answers a conditional GET whose ETag still matches with 304 and no body', async () => {
      for (const path of ['/tenants/alpha', '/tenants/alpha/domains']) {
        for (const tag of ['"1"', 'W/"1"', '"5", "1"', '*']) {
          const res = await t.call('GET', path, undefined, { 'if-none-match': tag });
          expect(res.status, `${path} ${tag}`).toBe(304);
          expect(res.body).toBeUndefined();
          expect(res.headers['etag']).toBe('"1"');
        }
        expect((await t.call('GET', path, undefined, { 'if-none-match': '"2"' })).status).toBe(200);
      }
    });

    it('answers 404 tenant_not_found for an unknown id and 400 for a malformed one', async () => {
      const missing = await t.call('GET', '/tenants/zulu');
      expect(missing.status).toBe(404);
      expect(problem(missing).code).toBe('tenant_not_found');
      const bad = await t.call('GET', '/tenants/ALPHA');
      expect(bad.status).toBe(400);
      expect(problem(bad).errors).toEqual([{ field: 'id', message: expect.stringContaining('lower-case') }]);
    });

    it('pages through every tenant but the deleted ones, in id order', async () => {
      const first = await t.call('GET', '/tenants?limit=2');
      expect(first.status).toBe(200);
      const page1 = first.body as { items: TenantConfig[]; nextCursor?: string };
      expect(page1.items.map((x) => x.id)).toEqual(['alpha', 'bravo']);
      expect(page1.nextCursor).toEqual(expect.any(String));
      const second = (await t.admin.handle({ method: 'GET', path: '/tenants', headers: ADMIN, query: { limit: '2', cursor: page1.nextCursor } })).body as {
        items: TenantConfig[];
        nextCursor?: string;
      };
      expect(second.items.map((x) => x.id)).toEqual(['charlie', 'delta']);
      expect(second.nextCursor).toBeUndefined();
    });

    it('filters by plan and by one or several statuses', async () => {
      const ids = async (query: string) => ((await t.call('GET', `/tenants?${query}`)).body as { items: TenantConfig[] }).items.map((x) => x.id);
      expect(await ids('plan=pro')).toEqual(['alpha', 'charlie', 'delta']);
      expect(await ids('status=suspended')).toEqual(['charlie']);
      expect(await ids('status=deleted')).toEqual(['echo']);
      expect(await ids('status=suspended,deleted')).toEqual(['charlie', 'echo']);
      expect(await ids('status=active&status=deleted&plan=free')).toEqual(['bravo', 'echo']);
      const statuses = { status: ['active', 'deleted'], plan: 'free' };
      expect(((await t.admin.handle({ method: 'GET', path: '/tenants', headers: ADMIN, query: statuses })).body as { items: TenantConfig[] }).items.map((x) => x.id)).toEqual(['bravo', 'echo']);
      const query = new URLSearchParams({ plan: 'free' });
      expect(((await t.admin.handle({ method: 'GET', path: '/tenants', headers: ADMIN, query })).body as { items: TenantConfig[] }).items.map((x) => x.id)).toEqual(['bravo']);
    });

    it('refuses bad query parameters field by field', async () => {
      const res = await t.call('GET', '/tenants?limit=0&status=gone&sort=id');
      expect(res.status).toBe(400);
      expect(fields(res)).toEqual({
        limit: 'must be an integer from 1 to 1000',
        status: 'must be one or more of active, suspended, inactive, deleted',
        sort: 'is not a query parameter (status, plan, limit, cursor)',
      });
      expect(fields(await t.call('GET', '/tenants?limit=abc'))).toEqual({ limit: 'must be an integer from 1 to 1000' });
      expect(fields(await t.call('GET', '/tenants?limit=1001'))).toEqual({ limit: 'must be an integer from 1 to 1000' });
      expect(fields(await t.call('GET', '/tenants?plan=a&plan=b'))).toEqual({ plan: 'must be given once' });
      expect(fields(await t.call('GET', '/tenants?cursor=not-a-cursor!'))).toEqual({ cursor: 'is not a cursor from a previous page' });
    });
  });

  describe('update', () => {
    beforeEach(async () => {
      await store.create({ id: 'acme', name: 'Acme', plan: 'free' });
    });

    it('applies a patch (null clears) and audits before and after', async () => {
      const res = await t.call('PATCH', '/tenants/acme', { name: 'Acme Inc', plan: null, metadata: { tier: 2 } });
      expect(res.status).toBe(200);
      const after = tenant(res);
      expect(after).toMatchObject({ name: 'Acme Inc', version: 2, metadata: { tier: 2 } });
      expect(after.plan).toBeUndefined();
      expect(t.audits).toHaveLength(1);
      expect(t.audits[0]).toMatchObject({ action: 'tenant.update', tenantId: 'acme', actor: { id: 'alice' } });
      expect(t.audits[0]?.before).toMatchObject({ version: 1, name: 'Acme', plan: 'free' });
      expect(t.audits[0]?.after).toEqual(after);
    });

    it('applies If-Match: the current version passes, another is a 412 that changes nothing', async () => {
      const ok = await t.call('PATCH', '/tenants/acme', { plan: 'pro' }, { 'if-match': '"1"' });
      expect(ok.status).toBe(200);
      const stale = await t.call('PATCH', '/tenants/acme', { plan: 'enterprise' }, { 'if-match': '"1"' });
      expect(stale.status).toBe(412);
      expect(problem(stale).code).toBe('version_conflict');
      expect((await store.get('acme'))?.plan).toBe('pro');
      expect((await t.call('PATCH', '/tenants/acme', { plan: 'team' }, { 'if-match': '"7", "2"' })).status).toBe(200);
      expect((await t.call('PATCH', '/tenants/acme', { plan: 'x' }, { 'if-match': '*' })).status).toBe(200);
      // weak tags never match for If-Match (strong comparison)
      expect((await t.call('PATCH', '/tenants/acme', { plan: 'y' }, { 'if-match': 'W/"4"' })).status).toBe(412);
      expect(t.audits.map((a) => a.after.version)).toEqual([2, 3, 4]);
    });

    it('refuses a malformed If-Match with 400 request_invalid', async () => {
      const res = await t.call('PATCH', '/tenants/acme', { plan: 'pro' }, { 'if-match': '1' });
      expect(res.status).toBe(400);
      expect(problem(res).code).toBe('request_invalid');
      expect(fields(res)).toEqual({ 'If-Match': expect.stringContaining('entity tags') });
    });

    it('of two concurrent writes on the same version, one wins and the other is a 412', async () => {
      const results = await Promise.all([
        t.call('PATCH', '/tenants/acme', { plan: 'a' }, { 'if-match': '"1"' }),
        t.call('PATCH', '/tenants/acme', { plan: 'b' }, { 'if-match': '"1"' }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = results.find((r) => r.status === 200)?.body as TenantConfig;
      expect(await store.get('acme')).toEqual(winner);
      expect(t.audits).toHaveLength(1);
    });

    it('without If-Match, concurrent writes all apply and each audit has the exact version it replaced', async () => {
      const results = await Promise.all(
        ['a.example.com', 'b.example.com', 'c.example.com'].map((domain) => t.call('POST', '/tenants/acme/domains', { domain })),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      expect([...((await store.get('acme'))?.domains ?? [])].sort()).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
      const versions = t.audits.map((a) => [a.before?.version, a.after.version]).sort();
      expect(versions).toEqual([
        [1, 2],
        [2, 3],
        [3, 4],
      ]);
    });

    it('refuses deletion by status, an id in the patch, and wrong types', async () => {
      const res = await t.call('PATCH', '/tenants/acme', { status: 'deleted', id: 'other', name: 5, domains: 'acme.example.com' });
      expect(res.status).toBe(400);
      expect(fields(res)).toEqual({
        status: 'must be one of active, suspended, inactive (delete with store.delete())',
        id: 'is not a tenant field',
        name: 'must be a non-empty string',
        domains: 'must be an array of at most 100 host names',
      });
      expect((await store.get('acme'))?.version).toBe(1);
    });

    it('answers an empty patch with the current tenant, writing nothing', async () => {
      const res = await t.call('PATCH', '/tenants/acme', {});
      expect(tenant(res).version).toBe(1);
      expect(t.audits).toEqual([]);
      expect((await t.call('PATCH', '/tenants/acme', {}, { 'if-match': '"9"' })).status).toBe(412);
    });

    it('answers 404 for an unknown tenant', async () => {
      const res = await t.call('PATCH', '/tenants/nobody', { plan: 'pro' });
      expect(res.status).toBe(404);
      expect(problem(res).code).toBe('tenant_not_found');
    });

    it('with requireIfMatch, refuses writes without If-Match (428) but not creates', async () => {
      const strict = makeAdmin(store, { requireIfMatch: true });
      const res = await strict.call('PATCH', '/tenants/acme', { plan: 'pro' });
      expect(res.status).toBe(428);
      expect(problem(res).code).toBe('precondition_required');
      expect((await strict.call('POST', '/tenants/acme/suspend')).status).toBe(428);
      expect((await strict.call('PATCH', '/tenants/acme', { plan: 'pro' }, { 'if-match': '"1"' })).status).toBe(200);
      expect((await strict.call('POST', '/tenants', { id: 'new' })).status).toBe(201);
    });
  });

  describe('soft delete, restore, suspend, resume', () => {
    beforeEach(async () => {
      await store.create({ id: 'acme', domains: ['acme.example.com'] });
    });

    it('soft-deletes: the tenant stays readable, its domains reserved, and a second delete changes nothing', async () => {
      const res = await t.call('DELETE', '/tenants/acme');
      expect(res.status).toBe(200);
      expect(tenant(res)).toMatchObject({ status: 'deleted', version: 2, deletedAt: expect.any(String) });
      expect(tenant(await t.call('GET', '/tenants/acme')).status).toBe('deleted');
      const again = await t.call('DELETE', '/tenants/acme');
      expect(again.status).toBe(200);
      expect(tenant(again).version).toBe(2);
      expect(t.audits.map((a) => a.action)).toEqual(['tenant.delete']);
      await store.create({ id: 'other' });
      const taken = await t.call('POST', '/tenants/other/domains', { domain: 'acme.example.com' });
      expect(taken.status).toBe(409);
      expect(problem(taken).code).toBe('domain_taken');
    });

    it('refuses changes to a deleted tenant with 410 until it is restored', async () => {
      await t.call('DELETE', '/tenants/acme');
      for (const [method, path, body] of [
        ['PATCH', '/tenants/acme', { plan: 'pro' }],
        ['POST', '/tenants/acme/suspend', undefined],
        ['PUT', '/tenants/acme/quota', {}],
      ] as const) {
        const res = await t.call(method, path, body);
        expect(res.status).toBe(410);
        expect(problem(res).code).toBe('tenant_deleted');
      }
      const restored = await t.call('POST', '/tenants/acme/restore');
      expect(tenant(restored)).toMatchObject({ status: 'active', version: 3 });
      expect(tenant(restored).deletedAt).toBeUndefined();
      expect(t.audits.map((a) => [a.action, a.before?.status, a.after.status])).toEqual([
        ['tenant.delete', 'active', 'deleted'],
        ['tenant.restore', 'deleted', 'active'],
      ]);
    });

    it('restores into a given status, refuses a bad one, and restoring a live tenant changes nothing', async () => {
      await t.call('DELETE', '/tenants/acme');
      expect(fields(await t.call('POST', '/tenants/acme/restore', { status: 'deleted' }))).toEqual({ status: 'must be one of active, suspended, inactive' });
      expect(fields(await t.call('POST', '/tenants/acme/restore', { state: 'active' }))).toEqual({ state: 'is not a field of this request (expected status)' });
      expect(tenant(await t.call('POST', '/tenants/acme/restore', { status: 'suspended' })).status).toBe('suspended');
      const noop = await t.call('POST', '/tenants/acme/restore');
      expect(tenant(noop).version).toBe(3);
      expect(t.audits).toHaveLength(2);
    });

    it('suspends and resumes, each once', async () => {
      expect(tenant(await t.call('POST', '/tenants/acme/suspend'))).toMatchObject({ status: 'suspended', version: 2 });
      expect(tenant(await t.call('POST', '/tenants/acme/suspend'))).toMatchObject({ status: 'suspended', version: 2 });
      expect(tenant(await t.call('POST', '/tenants/acme/resume'))).toMatchObject({ status: 'active', version: 3 });
      expect(tenant(await t.call('POST', '/tenants/acme/resume'))).toMatchObject({ status: 'active', version: 3 });
      expect(t.audits.map((a) => [a.action, a.before?.status, a.after.status])).toEqual([
        ['tenant.suspend', 'active', 'suspended'],
        ['tenant.resume', 'suspended', 'active'],
      ]);
    });
  });

  describe('quota, policy, domains', () => {
    beforeEach(async () => {
      await store.create({ id: 'acme', quota: { tokens: { limit: 5, windowMs: 1000 } }, policy: { tools: ['search'] } });
    });

    it('replaces the quota, and {} makes it unlimited', async () => {
      const quota = { requests: { limit: 100, windowMs: 60_000 } };
      const res = await t.call('PUT', '/tenants/acme/quota', quota);
      expect(tenant(res).quota).toEqual(quota);
      expect(t.audits[0]).toMatchObject({ action: 'tenant.quota.set', before: { quota: { tokens: { limit: 5, windowMs: 1000 } } }, after: { quota } });
      expect(tenant(await t.call('PUT', '/tenants/acme/quota', {})).quota).toEqual({});
    });

    it('names the invalid quota fields from the quota root', async () => {
      const res = await t.call('PUT', '/tenants/acme/quota', { requests: { limit: 1.5, windowMs: 1000, burst: 2 }, tokens: 7 });
      expect(res.status).toBe(400);
      expect(fields(res)).toEqual({
        'quota.requests': 'has unknown fields: burst',
        'quota.requests.limit': 'must be a non-negative integer',
        'quota.tokens': 'must be an object { limit, windowMs }',
      });
      expect(fields(await t.call('PUT', '/tenants/acme/quota', [1]))).toEqual({ quota: 'must be a JSON object' });
      expect((await store.get('acme'))?.version).toBe(1);
    });

    it('replaces the policy, with field messages for bad dimensions', async () => {
      expect(tenant(await t.call('PUT', '/tenants/acme/policy', { models: ['gpt-4o'], features: [] })).policy).toEqual({ models: ['gpt-4o'], features: [] });
      const res = await t.call('PUT', '/tenants/acme/policy', { 'bad name': ['x'], tools: [''] });
      expect(fields(res)).toEqual({ 'policy.bad name': expect.stringContaining('not a valid dimension name'), 'policy.tools': 'must be a non-empty string' });
      expect(t.audits.map((a) => a.action)).toEqual(['tenant.policy.set']);
    });

    it('lists, adds (normalized, primary first) and removes domains', async () => {
      expect((await t.call('GET', '/tenants/acme/domains')).body).toEqual({ domains: [] });
      expect(tenant(await t.call('POST', '/tenants/acme/domains', { domain: 'Acme.Example.COM' })).domains).toEqual(['acme.example.com']);
      expect(tenant(await t.call('POST', '/tenants/acme/domains', { domain: 'acme.example.com' })).version).toBe(2);
      expect(tenant(await t.call('POST', '/tenants/acme/domains', { domain: 'b.example.com', primary: true })).domains).toEqual(['b.example.com', 'acme.example.com']);
      expect(tenant(await t.call('POST', '/tenants/acme/domains', { domain: 'acme.example.com', primary: true })).domains).toEqual(['acme.example.com', 'b.example.com']);
      expect((await store.getByDomain('b.example.com'))?.id).toBe('acme');
      expect(tenant(await t.call('DELETE', '/tenants/acme/domains/B.example.com')).domains).toEqual(['acme.example.com']);
      expect(await store.getByDomain('b.example.com')).toBeUndefined();
      expect(tenant(await t.call('DELETE', '/tenants/acme/domains/zzz.example.com')).version).toBe(5);
      expect(t.audits.map((a) => a.action)).toEqual(['tenant.domains.add', 'tenant.domains.add', 'tenant.domains.add', 'tenant.domains.remove']);
    });

    it('refuses malformed domains and fields', async () => {
      expect(fields(await t.call('POST', '/tenants/acme/domains', { domain: 'acme.example.com:8080' }))).toEqual({ domain: expect.stringContaining('host name') });
      expect(fields(await t.call('POST', '/tenants/acme/domains', { domain: '127.0.0.1' }))).toEqual({ domain: expect.stringContaining('host name') });
      expect(fields(await t.call('POST', '/tenants/acme/domains', { domain: 5 }))).toEqual({ domain: expect.stringContaining('host name') });
      expect(fields(await t.call('POST', '/tenants/acme/domains', { domain: 'a.example.com', primary: 'yes', www: true }))).toEqual({
        primary: 'must be a boolean',
        www: 'is not a field of this request (expected domain, primary)',
      });
      expect(fields(await t.call('DELETE', '/tenants/acme/domains/%ZZ'))).toEqual({ domain: expect.stringContaining('host name') });
      expect(fields(await t.call('DELETE', '/tenants/acme/domains/evil.com%2F..'))).toEqual({ domain: expect.stringContaining('host name') });
      expect((await store.get('acme'))?.version).toBe(1);
    });
  });
});

describe('authorization', () => {
  it('is required: no authorize, or not a function, is a TypeError', () => {
    const store = createMemoryTenantStore();
    expect(() => createTenantAdmin({ store } as never)).toThrow(/authorize is required/);
    expect(() => createTenantAdmin({ store, authorize: true } as never)).toThrow(/authorize is required/);
    expect(() => createTenantAdmin({ store: {} as never, authorize })).toThrow(/store must be a TenantStore/);
  });

  it('401 without credentials, 403 for a viewer writing: nothing is written or audited', async () => {
    const store = createMemoryTenantStore();
    const t = makeAdmin(store);
    const anonymous = await t.admin.handle({ method: 'POST', path: '/tenants', headers: JSON_CT, rawBody: '{"id":"acme"}' });
    expect(anonymous.status).toBe(401);
    expect(problem(anonymous).code).toBe('unauthorized');
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="tenant-admin"');
    const basic = makeAdmin(store, { challenge: 'Basic realm="ops", charset="UTF-8"' });
    expect((await basic.admin.handle({ method: 'GET', path: '/tenants' })).headers['www-authenticate']).toBe('Basic realm="ops", charset="UTF-8"');
    expect(() => makeAdmin(store, { challenge: 'Bearer\r\nx-injected: 1' })).toThrow(/challenge/);
    const viewer = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...VIEWER, ...JSON_CT }, rawBody: '{"id":"acme"}' });
    expect(viewer.status).toBe(403);
    expect(problem(viewer).code).toBe('forbidden');
    expect(await store.get('acme')).toBeUndefined();
    expect(t.audits).toEqual([]);
    await store.create({ id: 'acme' });
    expect((await t.admin.handle({ method: 'GET', path: '/tenants/acme', headers: VIEWER })).status).toBe(200);
  });

  it('is asked before body errors are answered, with the action, the validated tenant id and the principal', async () => {
    const store = createMemoryTenantStore();
    await store.create({ id: 'acme' });
    const seen: unknown[] = [];
    const admin = createTenantAdmin({
      store,
      authorize: ({ action, tenantId, principal, header }) => {
        seen.push({ action, tenantId, principal, h: header('X-Custom') });
        return undefined;
      },
    });
    const res = await admin.handle({ method: 'PUT', path: '/tenants/acme/quota', headers: { 'x-custom': ['a', 'b'] }, rawBody: 'not json', principal: { sub: 'u1' } });
    expect(res.status).toBe(401);
    expect(seen).toEqual([{ action: 'tenant.quota.set', tenantId: 'acme', principal: { sub: 'u1' }, h: 'a, b' }]);
    await admin.handle({ method: 'get', path: '/tenants' });
    expect(seen[1]).toMatchObject({ action: 'tenant.list', tenantId: undefined });
  });

  it('sees the parsed body, to allow a patch by the fields it changes', async () => {
    const store = createMemoryTenantStore();
    await store.create({ id: 'acme' });
    const bodies: unknown[] = [];
    const admin = createTenantAdmin({
      store,
      authorize: ({ action, body }) => {
        bodies.push(body);
        // support staff may rename tenants, nothing else
        if (action === 'tenant.update') return Object.keys(body as object).every((field) => field === 'name') ? { id: 'support' } : false;
        return action === 'tenant.create' && (body as { id?: unknown }).id === 'support-made' ? { id: 'support' } : false;
      },
    });
    const patch = (rawBody: string) => admin.handle({ method: 'PATCH', path: '/tenants/acme', headers: JSON_CT, rawBody });
    expect((await patch('{"name":"Acme"}')).status).toBe(200);
    expect((await patch('{"name":"Acme","quota":{}}')).status).toBe(403);
    expect((await admin.handle({ method: 'POST', path: '/tenants', body: { id: 'support-made' } })).status).toBe(201);
    expect((await admin.handle({ method: 'POST', path: '/tenants', body: { id: 'other' } })).status).toBe(403);
    expect(bodies).toEqual([{ name: 'Acme' }, { name: 'Acme', quota: {} }, { id: 'support-made' }, { id: 'other' }]);
    expect((await store.get('acme'))?.quota).toEqual({});
    expect((await store.get('acme'))?.version).toBe(2);
  });

  it('a throwing authorize is a 500 that shows nothing, reported to onError', async () => {
    const store = createMemoryTenantStore();
    const errors: unknown[] = [];
    const admin = createTenantAdmin({
      store,
      authorize: async () => {
        throw new Error('token service down: secret=hunter2');
      },
      onError: (event) => errors.push(event),
    });
    const res = await admin.handle({ method: 'GET', path: '/tenants' });
    expect(res.status).toBe(500);
    expect(problem(res).code).toBe('internal_error');
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    expect(errors).toEqual([{ phase: 'authorize', error: expect.any(Error), action: 'tenant.list', tenantId: undefined }]);
  });
});

describe('audit', () => {
  it('a throwing audit does not undo or fail the write; the error goes to onError', async () => {
    const store = createMemoryTenantStore();
    const t = makeAdmin(store, {
      audit: () => {
        throw new Error('audit log full');
      },
    });
    const res = await t.call('POST', '/tenants', { id: 'acme' });
    expect(res.status).toBe(201);
    expect(await store.get('acme')).toEqual(res.body);
    expect(t.errors).toEqual([{ phase: 'audit', error: expect.objectContaining({ message: 'audit log full' }), action: 'tenant.create', tenantId: 'acme' }]);
  });

  it('is awaited before the response, and a rejecting audit is reported the same way', async () => {
    const store = createMemoryTenantStore();
    await store.create({ id: 'acme' });
    let finished = false;
    const t = makeAdmin(store, {
      audit: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        finished = true;
        throw new Error('late failure');
      },
    });
    const res = await t.call('POST', '/tenants/acme/suspend');
    expect(finished).toBe(true);
    expect(res.status).toBe(200);
    expect((await store.get('acme'))?.status).toBe('suspended');
    expect(t.errors.map((e) => e.phase)).toEqual(['audit']);
  });

  it('an onError that throws is ignored', async () => {
    const store = createMemoryTenantStore();
    const t = makeAdmin(store, {
      audit: () => {
        throw new Error('a');
      },
      onError: () => {
        throw new Error('b');
      },
    });
    expect((await t.call('POST', '/tenants', { id: 'acme' })).status).toBe(201);
  });
});

describe('options', () => {
  it('refuses options of the wrong type at construction', async () => {
    const store = createMemoryTenantStore();
    expect(() => createTenantAdmin(null as never)).toThrow(TypeError);
    expect(() => createTenantAdmin({ store, authorize, audit: 'log' as never })).toThrow(/audit must be a function/);
    expect(() => createTenantAdmin({ store, authorize, onError: {} as never })).toThrow(/onError must be a function/);
    expect(() => createTenantAdmin({ store, authorize, maxBodyBytes: 0 })).toThrow(RangeError);
    expect(() => createTenantAdmin({ store, authorize, maxBodyBytes: 1.5 })).toThrow(RangeError);
    expect(() => createTenantAdmin({ store, authorize, requireIfMatch: 'yes' as never })).toThrow(/requireIfMatch/);
    expect(() => createTenantAdmin({ store, authorize, clock: {} as never })).toThrow(/clock/);
  });

  it('without onError, failures become process warnings', async () => {
    const store = createMemoryTenantStore();
    const admin = createTenantAdmin({
      store,
      authorize: () => ({ id: 'ops' }),
      audit: () => {
        throw new Error('audit sink down');
      },
    });
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    expect((await admin.handle({ method: 'POST', path: '/tenants', body: { id: 'acme' } })).status).toBe(201);
    const emitted = await warning;
    expect(emitted.message).toBe('[@tenant/admin] audit failed (tenant.create): audit sink down');
    expect((emitted as Error & { code?: string }).code).toBe('TENANT_ADMIN_ERROR');
  });
});

describe('routes, bodies and failures', () => {
  const setup = async (options = {}) => makeAdmin(createMemoryTenantStore(), options);

  it('404 route_not_found for unknown paths, 405 with Allow for unknown methods', async () => {
    const t = await setup();
    for (const path of ['/', '/tenant', '/tenants/', '/tenants//x', '/tenants/acme/bogus', '/tenants/acme/domains/a.com/x', '/admin/tenants']) {
      const res = await t.call('GET', path);
      expect(res.status, path).toBe(404);
      expect(problem(res).code).toBe('route_not_found');
    }
    const res = await t.call('PUT', '/tenants/acme');
    expect(res.status).toBe(405);
    expect(problem(res).code).toBe('method_not_allowed');
    expect(res.headers['allow']).toBe('GET, PATCH, DELETE');
    expect((await t.call('GET', '/tenants/acme/suspend')).headers['allow']).toBe('POST');
  });

  it('415 for a body that is not JSON by content-type, 400 for bytes that are not JSON, 413 past maxBodyBytes', async () => {
    const t = await setup({ maxBodyBytes: 64 });
    const plain = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...ADMIN, 'content-type': 'text/plain' }, rawBody: '{"id":"acme"}' });
    expect(plain.status).toBe(415);
    expect(problem(plain).code).toBe('unsupported_media_type');
    const latin1 = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...ADMIN, 'content-type': 'application/json; charset=latin1' }, rawBody: '{"id":"acme"}' });
    expect(latin1.status).toBe(415);
    const merge = await t.admin.handle({ method: 'PATCH', path: '/tenants/nobody', headers: { ...ADMIN, 'content-type': 'application/merge-patch+json; charset=UTF-8' }, rawBody: '{}' });
    expect(merge.status).toBe(404);
    const broken = await t.call('POST', '/tenants', '{"id": "acme",');
    expect(broken.status).toBe(400);
    expect(problem(broken).code).toBe('request_invalid');
    const badUtf8 = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...ADMIN, ...JSON_CT }, rawBody: Uint8Array.from([0x7b, 0xff, 0x7d]) });
    expect(badUtf8.status).toBe(400);
    const big = await t.call('POST', '/tenants', { id: 'acme', name: 'x'.repeat(100) });
    expect(big.status).toBe(413);
    expect(problem(big).code).toBe('payload_too_large');
  });

  it('takes an already parsed body without checking content-type', async () => {
    const t = await setup();
    expect((await t.admin.handle({ method: 'POST', path: '/tenants', headers: ADMIN, body: { id: 'acme' } })).status).toBe(201);
  });

  it('a store that fails is a 503 store_unavailable that shows nothing, reported to onError', async () => {
    const failing = { ...createMemoryTenantStore(), get: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.5')) };
    const t = makeAdmin(failing as TenantStore);
    const res = await t.call('GET', '/tenants/acme');
    expect(res.status).toBe(503);
    expect(problem(res).code).toBe('store_unavailable');
    expect(JSON.stringify(res.body)).not.toContain('10.0.0.5');
    expect(t.errors).toEqual([{ phase: 'store', error: expect.any(Error), action: 'tenant.get', tenantId: 'acme' }]);
  });

  it("a store's own store_unavailable (a SQL store's wrapped driver error, a cache with nothing cached) is reported too, and shows nothing", async () => {
    const driverError = new Error('connect ECONNREFUSED 10.0.0.5:5432');
    const wrapped = new TenantError('store_unavailable', '[@tenant/store-sql] The database could not answer: connect ECONNREFUSED 10.0.0.5:5432', { cause: driverError });
    const failing = { ...createMemoryTenantStore(), list: () => Promise.reject(wrapped) };
    const t = makeAdmin(failing as TenantStore);
    const res = await t.call('GET', '/tenants');
    expect(res.status).toBe(503);
    expect(problem(res).code).toBe('store_unavailable');
    expect(JSON.stringify(res.body)).not.toContain('10.0.0.5');
    expect(t.errors).toEqual([{ phase: 'store', error: wrapped, action: 'tenant.list' }]);
    // and keeps the status the store gave it
    const slow = new TenantError('store_unavailable', 'no answer in time', { status: 504 });
    const timedOut = makeAdmin({ ...createMemoryTenantStore(), list: () => Promise.reject(slow) } as TenantStore);
    expect((await timedOut.call('GET', '/tenants')).status).toBe(504);
    expect(timedOut.errors).toHaveLength(1);
  });

  it('gives up with 409 version_conflict when concurrent writes keep winning', async () => {
    const store = createMemoryTenantStore();
    await store.create({ id: 'acme' });
    let attempts = 0;
    const busy: TenantStore = {
      ...store,
      update: async (id, _patch, options) => {
        attempts += 1;
        // another writer gets in between every read and write
        await store.update(id, { metadata: { n: attempts } });
        return store.update(id, { plan: 'mine' }, options);
      },
    };
    const t = makeAdmin(busy);
    const res = await t.call('PATCH', '/tenants/acme', { plan: 'mine' });
    expect(res.status).toBe(409);
    expect(problem(res).code).toBe('version_conflict');
    expect(attempts).toBe(3);
    expect((await store.get('acme'))?.plan).toBeUndefined();
    expect(t.audits).toEqual([]);
  });

  it('never rejects, even on a request that is not one', async () => {
    const t = await setup();
    const res = await t.admin.handle(null as never);
    expect(res.status).toBe(500);
    expect(t.errors.map((e) => e.phase)).toEqual(['internal']);
  });

  it('uses problemType for every problem', async () => {
    const t = await setup({ problemType: (code: string) => `https://docs.example.com/errors/${code}` });
    expect((await t.call('GET', '/nowhere')).body).toMatchObject({ type: 'https://docs.example.com/errors/route_not_found' });
    expect((await t.call('GET', '/tenants/nobody')).body).toMatchObject({ type: 'https://docs.example.com/errors/tenant_not_found' });
  });
});
