/**
 * Multi-tenancy middleware for Koa 2 and 3, on the @tenant/core pipeline.
 *
 * @packageDocumentation
 */
import type { TenantConfig } from '@tenant/interfaces';

/**
 * Replace this example export with the package's API.
 *
 * @example
 * ```ts
 * import { describeTenant } from '@tenant/koa';
 *
 * describeTenant(tenant); // 'acme (active)'
 * ```
 */
export function describeTenant(tenant: TenantConfig): string {
  return `${tenant.id} (${tenant.status})`;
}
