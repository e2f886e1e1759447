/**
 * The framework-agnostic core of the `@tenant/*` toolkit: an in-memory
 * tenant store, tenant id validation, resolvers, the tenant context, a
 * fixed-window quota, an allow-list policy, hooks, and the pipeline that
 * adapters call.
 *
 * @packageDocumentation
 */
export * from '@tenant/interfaces';
export * from './common.js';
export { toTenantRequest } from './node-http.js';
export { adapterRequest, writeRejection, settleOnFinish } from './adapter.js';
export type { AdapterOptions, AdapterExtras } from './adapter.js';
