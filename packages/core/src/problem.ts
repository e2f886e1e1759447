import { TenantError, type ProblemDetails, type TenantErrorCode, type TenantRejected } from '@tenant/interfaces';

/** Human-readable titles of the stable error codes, used in problem bodies. */
export const PROBLEM_TITLES: { readonly [C in TenantErrorCode]: string } = Object.freeze({
  tenant_missing: 'Tenant required',
  tenant_invalid: 'Invalid tenant id',
  path_invalid: 'Ambiguous request path',
  query_invalid: 'Ambiguous query parameter',
  tenant_not_found: 'Tenant not found',
  tenant_suspended: 'Tenant suspended',
  tenant_inactive: 'Tenant inactive',
  tenant_deleted: 'Tenant deleted',
  policy_denied: 'Not allowed by tenant policy',
  quota_exceeded: 'Quota exceeded',
  quota_unavailable: 'Quota service unavailable',
  store_unavailable: 'Tenant store unavailable',
  tenant_context_missing: 'Internal error',
  version_conflict: 'Version conflict',
  tenant_exists: 'Tenant already exists',
  domain_taken: 'Domain already in use',
  config_invalid: 'Invalid tenant configuration',
  isolation_violation: 'Internal error',
  internal_error: 'Internal error',
});

// Codes whose messages describe internals: the caller gets the title only.
const OPAQUE = new Set<TenantErrorCode>(['internal_error', 'tenant_context_missing', 'isolation_violation', 'store_unavailable', 'quota_unavailable']);

/** Builds the `type` URI of a problem from its code. */
export type ProblemTypeFn = (code: TenantErrorCode) => string;

/** The default problem type: `urn:tenant:error:<code>`. */
export const defaultProblemType: ProblemTypeFn = (code) => `urn:tenant:error:${code}`;

/**
 * Turns any error into a rejection with an `application/problem+json` body.
 * A `TenantError` keeps its code and status; anything else becomes a 500
 * `internal_error` whose message is not shown to the caller.
 */
export function toRejection(
  error: unknown,
  options: { readonly problemType?: ProblemTypeFn; readonly headers?: Record<string, string>; readonly extensions?: Record<string, unknown> } = {},
): TenantRejected {
  const tenantError = TenantError.is(error)
    ? error
    : new TenantError('internal_error', '[@tenant/core] Unexpected error', { cause: error });
  const { code, status } = tenantError;
  const members: ProblemDetails = {
    type: (options.problemType ?? defaultProblemType)(code),
    title: PROBLEM_TITLES[code],
    status,
    ...(OPAQUE.has(code) ? {} : { detail: tenantError.message.replace(/^\[@tenant\/[a-z-]+\] /, '') }),
    code,
  };
  // Extensions add members; they never replace the standard ones (a body
  // whose `status` or `code` disagrees with the response would mislead).
  const body: ProblemDetails = options.extensions === undefined ? members : { ...members, ...options.extensions, ...members };
  return {
    ok: false,
    status,
    code,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...options.headers },
    body,
    error: tenantError,
  };
}
