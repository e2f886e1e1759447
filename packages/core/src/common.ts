// Everything of @tenant/core that neither `node:http` nor the fetch API
// appears in: the main entry (`@tenant/core`) and the fetch entry
// (`@tenant/core/fetch`) both export it.
export { systemClock, withinTime } from './clock.js';
export type { Clock } from './clock.js';
export { createTenantIdValidator, validateTenantId, isValidTenantId, DEFAULT_TENANT_ID_PATTERN } from './id.js';
export type { TenantIdFormat, TenantIdValidator } from './id.js';
export { normalizeHost } from './host.js';
export { queryParam, QUERY_PARAM_LIMIT } from './query.js';
export { createTenantConfig, applyTenantPatch, parseTenantConfig, deepFreeze, CONFIG_LIMITS } from './config.js';
export { PAGE_LIMITS, pageLimit, encodeCursor, decodeCursor } from './paging.js';
export { createMemoryTenantStore } from './memory-store.js';
export type { MemoryTenantStore, MemoryTenantStoreOptions } from './memory-store.js';
export {
  runWithTenant,
  runWithoutTenant,
  currentTenant,
  currentTenantId,
  requireTenant,
  bindTenant,
  captureTenant,
  runWithSnapshot,
  statusError,
  checkStoreAnswer,
} from './context.js';
export type { TenantContext, TenantSnapshot, RunWithSnapshotOptions } from './context.js';
export { createResolver, fromHeader, fromQuery, fromPath, fromSubdomain, fromHost, fromClaim, chain, resolveWith, flattenResolvers, isPromiseLike } from './resolvers.js';
export type { PathResolverOptions, SubdomainResolverOptions, ChainResolver, ResolvedId } from './resolvers.js';
export { createMemoryQuota } from './quota/memory-fixed-window.js';
export type { MemoryQuota, MemoryQuotaOptions } from './quota/memory-fixed-window.js';
export { rateLimitHeaders } from './quota/headers.js';
export { checkQuotaCost } from './quota/cost.js';
export { promisedQuotaMethods } from './quota/sync.js';
export { createIncrementalSweep, type IncrementalSweep } from './quota/sweep.js';
export { createPolicyEvaluator, evaluatePolicy } from './policy.js';
export { createHookRunner } from './hooks.js';
export type { HookRunner } from './hooks.js';
export { toRejection, defaultProblemType, PROBLEM_TITLES } from './problem.js';
export type { ProblemTypeFn } from './problem.js';
export { createTenancy } from './pipeline.js';
export type { Tenancy, TenancyOptions, AuthorizeInput, SkipPath } from './pipeline.js';
export { canonicalPath, routedRequest } from './path.js';
export type { RoutedRequest } from './path.js';
export { splitUrl } from './url.js';
export type { ToTenantRequestOptions } from './url.js';
export { tenancyFrom, withDecision } from './adapter-options.js';
export type { BaseAdapterExtras, BaseAdapterOptions, AdapterRouting, TenantResponseView } from './adapter-options.js';
