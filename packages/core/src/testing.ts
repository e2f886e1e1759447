/**
 * Test helpers for code that runs inside a tenant context.
 *
 * @example
 * ```ts
 * import { withTestTenant } from '@tenant/core/testing';
 *
 * it('scopes by tenant', async () => {
 *   await withTestTenant({ id: 'acme', plan: 'pro' }, async () => {
 *     expect(await listOrders()).toEqual([]);
 *   });
 * });
 * ```
 *
 * @packageDocumentation
 */
import type { TenantConfig, TenantInput } from '@tenant/interfaces';
import { createTenantConfig } from './config.js';
import { runWithTenant } from './context.js';

/** A tenant's fields for tests: like `TenantInput`, and `id` defaults to `test-tenant`. */
export type TestTenantInput = Omit<Partial<TenantInput>, 'status'> & { readonly status?: TenantConfig['status'] };

/**
 * Builds a complete, valid, frozen tenant config from a few fields, through
 * the same validation every store applies.
 */
export function createTestTenant(input: TestTenantInput = {}): TenantConfig {
  const { status, ...rest } = input;
  const tenant = createTenantConfig({ id: 'test-tenant', ...rest }, { now: new Date(0) });
  if (status === undefined || status === tenant.status) return tenant;
  return Object.freeze({ ...tenant, status, ...(status === 'deleted' ? { deletedAt: tenant.updatedAt } : {}) });
}

/** Runs `fn` inside the context of a test tenant (a config, or fields to build one). */
export function withTestTenant<R>(tenant: TenantConfig | TestTenantInput, fn: () => R): R {
  const config = 'version' in tenant && 'createdAt' in tenant ? (tenant as TenantConfig) : createTestTenant(tenant);
  return runWithTenant(config, fn);
}
