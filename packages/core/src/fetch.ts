/**
 * `@tenant/core` for Web-standard runtimes and frameworks built on `Request`
 * and `Response` (Hono, Bun.serve, Deno.serve, Cloudflare Workers with
 * `nodejs_compat`, Next.js route handlers): everything of the main entry
 * except the `node:http` helpers, plus the fetch helpers and the
 * {@link withTenancy} wrapper. Its types never mention `node:http`: it
 * typechecks without `@types/node`.
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore, requireTenant, withTenancy } from '@tenant/core/fetch';
 *
 * const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
 * export default {
 *   fetch: withTenancy({ store }, async () => Response.json({ tenant: requireTenant().id })),
 * };
 * ```
 *
 * @packageDocumentation
 */
export * from '@tenant/interfaces';
export * from './common.js';
export {
  toFetchTenantRequest,
  adapterFetchRequest,
  adapterFetchRequestRouted,
  rejectionResponse,
  responseView,
  withDecisionHeaders,
  finishResponse,
  withTenancy,
  tenantOf,
} from './fetch-adapter.js';
export type { FetchAdapterExtras, FetchAdapterOptions, FinishResponseOptions, FetchHandler, WithTenancyOptions } from './fetch-adapter.js';
