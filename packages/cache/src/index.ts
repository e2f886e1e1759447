/**
 * Tenant-isolated caching (memory and Redis) and a layered, cross-instance TenantStore cache.
 *
 * @packageDocumentation
 */
import type { TenantConfig } from '@tenant/interfaces';

/**
 * Replace this example export with the package's API.
 *
 * @example
 * ```ts
 * import { describeTenant } from '@tenant/cache';
 *
 * describeTenant(tenant); // 'acme (active)'
 * ```
 */
export function describeTenant(tenant: TenantConfig): string {
  return `${tenant.id} (${tenant.status})`;
}
