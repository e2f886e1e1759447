import type { TenantErrorCode, TenantError } from './errors.js';
import type { QuotaResult } from './quota.js';
import type { TenantConfig } from './tenant.js';

/**
 * An RFC 9457 problem details body, as sent with `application/problem+json`.
 * `code` is the stable error code; extension members may follow.
 */
export interface ProblemDetails {
  /** A URI reference identifying the problem type. */
  readonly type: string;
  /** A short, human-readable summary of the problem type. */
  readonly title: string;
  /** The HTTP status code. */
  readonly status: number;
  /** A human-readable explanation of this occurrence. */
  readonly detail?: string;
  /** The stable error code. */
  readonly code: TenantErrorCode;
  readonly [extension: string]: unknown;
}

/** Response headers, by lower-case name. */
export type ResponseHeaders = { readonly [name: string]: string };

/** The request is admitted for a tenant: run the rest of the chain in its context. */
export interface TenantAdmitted {
  readonly ok: true;
  readonly tenant: TenantConfig;
  /** The name of the resolver that found the tenant. */
  readonly source: string;
  /** Headers to add to the response (for example `RateLimit`). */
  readonly headers: ResponseHeaders;
  /** The quota check, when the tenant has a quota. */
  readonly quota?: QuotaResult;
}

/**
 * Why a request passed without a tenant: a skipped path or method
 * (`skip`), a central (landlord) host (`central_host`), or no tenant
 * where one is optional (`no_tenant`).
 */
export type BypassReason = 'skip' | 'central_host' | 'no_tenant';

/** The request passes without a tenant context. */
export interface TenantBypassed {
  readonly ok: true;
  readonly tenant: undefined;
  readonly bypass: BypassReason;
  readonly headers: ResponseHeaders;
}

/** The request is refused: write `status`, `headers` and `body` (JSON) and stop. */
export interface TenantRejected {
  readonly ok: false;
  readonly status: number;
  readonly code: TenantErrorCode;
  /** Includes `content-type: application/problem+json`. */
  readonly headers: ResponseHeaders;
  /** The problem details body, to serialize as JSON. */
  readonly body: ProblemDetails;
  /** The error behind the rejection. */
  readonly error: TenantError;
}

/** What the pipeline decided about a request. */
export type TenantDecision = TenantAdmitted | TenantBypassed | TenantRejected;
