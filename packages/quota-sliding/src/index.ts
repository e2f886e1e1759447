/**
 * Exact, distributed sliding-window and fixed-window per-tenant quotas, in memory and on Redis (ioredis, Cluster-safe).
 *
 * @packageDocumentation
 */
import type { TenantConfig } from '@tenant/interfaces';

/**
 * Replace this example export with the package's API.
 *
 * @example
 * ```ts
 * import { describeTenant } from '@tenant/quota-sliding';
 *
 * describeTenant(tenant); // 'acme (active)'
 * ```
 */
export function describeTenant(tenant: TenantConfig): string {
  return `${tenant.id} (${tenant.status})`;
}
