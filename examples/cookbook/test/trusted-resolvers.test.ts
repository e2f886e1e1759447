import { describe, expect, it } from 'vitest';
import { createMemoryTenantStore, createTenancy, type TenantRequest, type TenantResolver } from '@tenant/core';
import { member, resolve, unsafe } from '../src/trusted-resolvers.js';

// Request views as an adapter builds them: `principal` is what authentication verified.
const view = (headers: Record<string, string>, principal?: unknown): TenantRequest => ({
  method: 'GET',
  path: '/',
  query: '',
  host: headers['host'],
  header: (name) => headers[name.toLowerCase()],
  ...(principal === undefined ? {} : { principal }),
});

async function tenantOf(resolver: TenantResolver, request: TenantRequest) {
  const tenancy = createTenancy({ store: createMemoryTenantStore({ tenants: [{ id: 'acme' }, { id: 'globex' }] }), resolve: resolver, quota: false });
  const decision = await tenancy.handle(request);
  return decision.ok ? decision.tenant?.id : decision.code;
}

describe('security.md: resolver order', () => {
  it('the right chain keeps a verified tenant whatever the header or host says', async () => {
    expect(await tenantOf(resolve, view({ 'x-tenant-id': 'globex', host: 'globex.example.com' }, { tenant_id: 'acme' }))).toBe('acme');
    expect(await tenantOf(resolve, view({ host: 'globex.example.com' }))).toBe('globex');
    expect(await tenantOf(resolve, view({ 'x-tenant-id': 'globex' }))).toBe('globex');
  });

  it('the wrong chain lets a header override the verified tenant', async () => {
    expect(await tenantOf(unsafe, view({ 'x-tenant-id': 'globex' }, { tenant_id: 'acme' }))).toBe('globex');
  });

  it('refuses a claim that is not a string rather than falling through to the header', async () => {
    expect(await tenantOf(resolve, view({ 'x-tenant-id': 'globex' }, { tenant_id: 42 }))).toBe('tenant_invalid');
  });

  it('a header selects only among the verified memberships', async () => {
    const principal = { tenants: ['acme', 'globex'], defaultTenant: 'acme' };
    expect(await tenantOf(member, view({ 'x-tenant-id': 'globex' }, principal))).toBe('globex');
    expect(await tenantOf(member, view({}, principal))).toBe('acme');
    expect(await tenantOf(member, view({ 'x-tenant-id': 'globex' }, { tenants: ['acme'], defaultTenant: 'acme' }))).toBe('tenant_not_found');
    expect(await tenantOf(member, view({ 'x-tenant-id': 'globex' }))).toBe('tenant_missing');
  });
});
