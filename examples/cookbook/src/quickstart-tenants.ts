import { chain, createMemoryTenantStore, fromHeader, fromSubdomain, type TenancyOptions } from '@tenant/core';

/** The options every quick start passes to its adapter: the same pipeline in every framework. */
export function quickstartOptions(): TenancyOptions {
  return {
    store: createMemoryTenantStore({
      tenants: [
        { id: 'acme', plan: 'pro', quota: { requests: { limit: 100, windowMs: 60_000 } } },
        { id: 'globex', status: 'suspended' },
      ],
    }),
    // acme.localhost:3000 first, then an X-Tenant-Id header.
    resolve: chain(fromSubdomain({ baseDomains: ['localhost'] }), fromHeader('x-tenant-id')),
    skipPaths: ['/health'],
  };
}
