import type { TenantConfig } from './tenant.js';
import type { MaybePromise } from './request.js';

/**
 * What a request asks for, by policy dimension (the same names as in
 * `TenantPolicy`): `{ models: 'gpt-4o', tools: ['search', 'browse'] }`.
 */
export interface PolicyRequest {
  readonly [dimension: string]: string | readonly string[] | undefined;
}

/** The answer of a policy evaluation. */
export type PolicyDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** A human-readable reason, safe to show to the caller. */
      readonly reason: string;
      /** The dimension that refused. */
      readonly dimension: string;
      /** The value that was not allowed. */
      readonly value: string;
    };

/** Decides whether a tenant may do what a request asks for. */
export interface PolicyEvaluator {
  evaluate(tenant: TenantConfig, request: PolicyRequest): MaybePromise<PolicyDecision>;
}
