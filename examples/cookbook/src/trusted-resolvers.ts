import { chain, fromClaim, fromHeader, fromSubdomain, TenantError } from '@tenant/core';

// Right: a verified claim wins; the subdomain and the header count only for callers without one.
export const resolve = chain(fromClaim('tenant_id'), fromSubdomain({ baseDomains: ['example.com'] }), fromHeader());

// Wrong: any caller overrides its token's tenant with a header.
export const unsafe = chain(fromHeader(), fromClaim('tenant_id'));

// A header as a selector among the tenants the caller is verified to belong to.
export const member = fromClaim((principal, request) => {
  const { tenants, defaultTenant } = principal as { tenants: readonly string[]; defaultTenant: string };
  const wanted = request.header('x-tenant-id');
  if (wanted === undefined) return defaultTenant;
  if (tenants.includes(wanted)) return wanted;
  throw new TenantError('tenant_not_found', 'No tenant of yours has this id'); // 404: says nothing of other tenants
});
