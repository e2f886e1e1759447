import { describe, expect, it } from 'vitest';
import { createMemoryTenantStore } from '@tenant/core';
import { ADMIN, JSON_CT, makeAdmin } from './fixtures.js';

const setup = () => {
  const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
  return { store, ...makeAdmin(store) };
};
const errors = (body: unknown) => (body as { errors?: { field: string; message: string }[] }).errors ?? [];
const fields = (body: unknown) => Object.fromEntries(errors(body).map((e) => [e.field, e.message]));
const reserved = (field: string) => [{ field, message: expect.stringContaining('reserved key') }];

describe('hostile input', () => {
  it('refuses __proto__, constructor and prototype keys anywhere in a body, and pollutes nothing', async () => {
    const t = setup();
    const bodies = [
      '{"id":"evil","__proto__":{"polluted":true}}',
      '{"id":"evil","metadata":{"__proto__":{"polluted":true}}}',
      '{"id":"evil","metadata":{"a":[{"constructor":{"prototype":{"polluted":true}}}]}}',
      '{"id":"evil","policy":{"prototype":["x"]}}',
    ];
    const expected = ['__proto__', 'metadata.__proto__', 'metadata.a.0.constructor', 'policy.prototype'];
    for (const [i, rawBody] of bodies.entries()) {
      const res = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...ADMIN, ...JSON_CT }, rawBody });
      expect(res.status).toBe(400);
      expect(errors(res.body)).toEqual(reserved(expected[i] as string));
    }
    const patch = await t.admin.handle({ method: 'PATCH', path: '/tenants/acme', headers: { ...ADMIN, ...JSON_CT }, rawBody: '{"__proto__":{"status":"suspended"}}' });
    expect(errors(patch.body)).toEqual(reserved('__proto__'));
    const quota = await t.admin.handle({ method: 'PUT', path: '/tenants/acme/quota', headers: { ...ADMIN, ...JSON_CT }, rawBody: '{"__proto__":{"limit":1}}' });
    expect(errors(quota.body)).toEqual(reserved('quota.__proto__'));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(await t.store.get('evil')).toBeUndefined();
    expect((await t.store.get('acme'))?.version).toBe(1);
  });

  it('refuses a parsed body carrying an own __proto__ key', async () => {
    const t = setup();
    const body = JSON.parse('{"id":"evil","__proto__":{"x":1}}') as unknown;
    const res = await t.admin.handle({ method: 'POST', path: '/tenants', headers: ADMIN, body });
    expect(errors(res.body)).toEqual(reserved('__proto__'));
  });

  it('survives absurd nesting without overflowing the stack', async () => {
    const t = setup();
    const depth = 100_000;
    const rawBody = `{"id":"deep","metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const res = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...ADMIN, ...JSON_CT }, rawBody });
    expect(res.status).toBe(400);
    expect(await t.store.get('deep')).toBeUndefined();
  });

  it('refuses malformed ids in paths before authorize or the store sees them', async () => {
    const t = setup();
    const ids = ['%2e%2e', '..%2f..', 'ACME', 'a%20b', 'a%00b', '%E0%A4%A', 'x'.repeat(65), '%F0%9F%98%80', 'acme%0a', 'acme;drop', 'a%E2%80%8Bb'];
    for (const id of ids) {
      const res = await t.admin.handle({ method: 'DELETE', path: `/tenants/${id}`, headers: ADMIN });
      expect(res.status, id).toBe(400);
      expect((res.body as { code: string }).code, id).toBe('tenant_invalid');
      expect(JSON.stringify(res.body)).not.toContain('drop');
    }
    expect(t.audits).toEqual([]);
  });

  it('refuses wrong types field by field', async () => {
    const t = setup();
    const res = await t.call('POST', '/tenants', {
      id: 'typed',
      name: ['x'],
      status: 1,
      plan: {},
      quota: 'lots',
      policy: ['models'],
      domains: { 0: 'a.example.com' },
      metadata: 'none',
    });
    expect(res.status).toBe(400);
    expect(Object.keys(fields(res.body)).sort()).toEqual(['domains', 'metadata', 'name', 'plan', 'policy', 'quota', 'status']);
    expect(fields((await t.call('GET', '/tenants?limit=1e3')).body)).toEqual({ limit: 'must be an integer from 1 to 1000' });
    expect(fields((await t.call('GET', '/tenants?limit=-1')).body)).toEqual({ limit: 'must be an integer from 1 to 1000' });
  });

  it('refuses a body over the limit before parsing it', async () => {
    const t = setup();
    const rawBody = `{"id":"huge","metadata":{"x":"${'a'.repeat(2 * 1024 * 1024)}"}}`;
    const res = await t.admin.handle({ method: 'POST', path: '/tenants', headers: { ...ADMIN, ...JSON_CT }, rawBody });
    expect(res.status).toBe(413);
    expect(await t.store.get('huge')).toBeUndefined();
  });

  it('does not echo hostile values in problem bodies', async () => {
    const t = setup();
    const res = await t.admin.handle({ method: 'GET', path: '/<script>alert(1)</script>', headers: ADMIN });
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain('script');
  });
});
