/**
 * Shared contracts of the `@tenant/*` toolkit: the tenant config, the store,
 * resolver, quota, policy and hook interfaces, the pipeline decision, and the
 * one error class. No runtime dependencies.
 *
 * @packageDocumentation
 */
export { TENANT_ERROR_STATUS, TenantError, isTenantErrorCode } from './errors.js';
export type { TenantErrorCode, TenantErrorOptions } from './errors.js';
export { TENANT_STATUSES, QUOTA_DIMENSIONS } from './tenant.js';
export type {
  TenantStatus,
  QuotaLimit,
  QuotaDimension,
  TenantQuota,
  TenantPolicy,
  JsonValue,
  TenantConfig,
  TenantInput,
  TenantPatch,
} from './tenant.js';
export type {
  WriteOptions,
  TenantListQuery,
  TenantPage,
  TenantChangeType,
  TenantChangeEvent,
  TenantChangeListener,
  Unsubscribe,
  TenantStore,
} from './store.js';
export type { TenantRequest, TenantResolver, MaybePromise, PathRouting } from './request.js';
export type {
  QuotaCost,
  QuotaDimensionState,
  QuotaDenialReason,
  QuotaDegradation,
  QuotaTicket,
  QuotaResult,
  QuotaManager,
} from './quota.js';
export type { PolicyRequest, PolicyDecision, PolicyEvaluator } from './policy.js';
export type {
  ProblemDetails,
  ResponseHeaders,
  TenantAdmitted,
  TenantBypassed,
  BypassReason,
  TenantRejected,
  TenantDecision,
} from './decision.js';
export type {
  ResolveEvent,
  PolicyEvent,
  QuotaEvent,
  SettleEvent,
  RejectEvent,
  ErrorPhase,
  ErrorEvent,
  TenantHooks,
} from './hooks.js';
