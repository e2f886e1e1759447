import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTenantStore } from '@tenant/core';
import { bearer, createApiKeyApp, createKeyring } from '../src/api-keys.js';
import { listen, problem, sendRequest, type StartedServer } from './http.js';

describe('recipe: an API key per tenant (express)', () => {
  const keyring = createKeyring();
  const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }, { id: 'globex' }, { id: 'initech', status: 'suspended' }] });
  let server: StartedServer;
  const whoami = (headers: Record<string, string>) => sendRequest(server.url, { path: '/v1/whoami', headers });

  beforeAll(async () => {
    server = await listen(createServer(createApiKeyApp(store, keyring)));
  });
  afterAll(() => server.close());

  it('issues keys that are random, prefixed, and resolve to their tenant', async () => {
    const a = await keyring.issue('acme');
    const b = await keyring.issue('acme');
    expect(a.key).toMatch(/^tk_[0-9a-f]{8}_[\w-]{43}$/);
    expect(a.key).not.toBe(b.key);
    const response = await whoami({ authorization: `Bearer ${a.key}` });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ tenant: 'acme', keyId: a.keyId });
  });

  it('ignores a tenant header that names another tenant', async () => {
    const { key } = await keyring.issue('acme');
    const response = await whoami({ authorization: `Bearer ${key}`, 'x-tenant-id': 'globex' });
    expect(response.json()).toMatchObject({ tenant: 'acme' });
  });

  it('answers 401 without a key, with an unknown key, and with a revoked key', async () => {
    const { key, keyId } = await keyring.issue('globex');
    expect((await whoami({ authorization: `Bearer ${key}` })).status).toBe(200);
    await keyring.revoke(keyId);
    for (const headers of [{}, { 'x-tenant-id': 'globex' }, { authorization: 'Bearer tk_00000000_forged' }, { authorization: `Bearer ${key}` }]) {
      const response = await whoami(headers);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(problem(response).status).toBe(401);
    }
  });

  it('still applies the tenant status to a valid key', async () => {
    const { key } = await keyring.issue('initech');
    expect(problem(await whoami({ authorization: `Bearer ${key}` })).code).toBe('tenant_suspended');
  });

  it('parses only well-formed bearer tokens', () => {
    expect(bearer('Bearer abc_1-2')).toBe('abc_1-2');
    expect(bearer('Basic abc')).toBeUndefined();
    expect(bearer('Bearer a b')).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
  });
});
