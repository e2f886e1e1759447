/**
 * Tenant configs in PostgreSQL, MySQL/MariaDB and SQLite, and tenant data isolation (row-level plugin, RLS, schema per tenant, shard routing) with kysely.
 *
 * @packageDocumentation
 */
import type { TenantConfig } from '@tenant/interfaces';

/**
 * Replace this example export with the package's API.
 *
 * @example
 * ```ts
 * import { describeTenant } from '@tenant/store-sql';
 *
 * describeTenant(tenant); // 'acme (active)'
 * ```
 */
export function describeTenant(tenant: TenantConfig): string {
  return `${tenant.id} (${tenant.status})`;
}
