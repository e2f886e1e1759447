/**
 * A conformance suite for @tenant/* framework adapters, run over real HTTP.
 *
 * @packageDocumentation
 */
import type { TenantConfig } from '@tenant/interfaces';

/**
 * Replace this example export with the package's API.
 *
 * @example
 * ```ts
 * import { describeTenant } from '@tenant/adapter-testkit';
 *
 * describeTenant(tenant); // 'acme (active)'
 * ```
 */
export function describeTenant(tenant: TenantConfig): string {
  return `${tenant.id} (${tenant.status})`;
}
