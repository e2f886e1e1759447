/**
 * Every error code the toolkit uses, with the HTTP status it maps to. Codes
 * are stable: the same string appears in thrown errors, problem+json bodies,
 * logs and metrics labels. Adding a code is a minor change; renaming or
 * removing one is a major change.
 */
export const TENANT_ERROR_STATUS = {
  /** No tenant could be resolved from the request and one is required. */
  tenant_missing: 400,
  /** The tenant id is malformed (empty, too long, forbidden characters, ambiguous). */
  tenant_invalid: 400,
  /**
   * The request path has no single canonical form (an encoded slash,
   * backslash, percent sign or control character, a dot segment, bad
   * percent-encoding), and a policy or cost would be keyed on it.
   */
  path_invalid: 400,
  /**
   * A query parameter that a policy or cost reads (through `queryParam`) has
   * no single value: given more than once, also in a nested spelling
   * (`name[]`, `[name]`, `name.x`), or with bad percent-encoding.
   */
  query_invalid: 400,
  /** No tenant has this id (or domain). */
  tenant_not_found: 404,
  /** The tenant exists but is suspended. */
  tenant_suspended: 403,
  /** The tenant exists but is not (yet, or any more) active. */
  tenant_inactive: 403,
  /** The tenant was deleted. */
  tenant_deleted: 410,
  /** The tenant's policy does not allow what the request asks for. */
  policy_denied: 403,
  /** The tenant's quota for the current window is used up. */
  quota_exceeded: 429,
  /** The quota backend could not answer, and the manager fails closed. */
  quota_unavailable: 503,
  /** The tenant store could not answer and no cached copy was available. */
  store_unavailable: 503,
  /** Code asked for the current tenant outside of any tenant context. */
  tenant_context_missing: 500,
  /** A write carried an expected version that is not the current one. */
  version_conflict: 409,
  /** A tenant with this id already exists. */
  tenant_exists: 409,
  /** A domain is already assigned to another tenant. */
  domain_taken: 409,
  /** A tenant config (or part of one) given to a store is invalid. */
  config_invalid: 400,
  /** A data operation would cross or escape the tenant's scope, and was refused. */
  isolation_violation: 500,
  /** An unexpected failure inside the toolkit. */
  internal_error: 500,
} as const satisfies Record<string, number>;

/** A stable error code: see {@link TENANT_ERROR_STATUS} for the list and meanings. */
export type TenantErrorCode = keyof typeof TENANT_ERROR_STATUS;

const BRAND = Symbol.for('@tenant/interfaces.TenantError');

/** Options for {@link TenantError}. */
export interface TenantErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** Overrides the HTTP status that the code maps to. */
  readonly status?: number;
  /** The tenant involved, when known and safe to report. */
  readonly tenantId?: string;
  /** Structured, JSON-serializable details (for example field-level messages). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of the toolkit: a stable {@link TenantErrorCode}, an
 * HTTP `status`, an optional `cause`. Use {@link TenantError.is} rather than
 * `instanceof`, which fails when two copies of this package are installed.
 *
 * @example
 * ```ts
 * import { TenantError } from '@tenant/interfaces';
 *
 * try {
 *   await store.update('acme', { plan: 'pro' }, { expectedVersion: 3 });
 * } catch (error) {
 *   if (TenantError.is(error, 'version_conflict')) {
 *     // reload and retry
 *   } else throw error;
 * }
 * ```
 */
export class TenantError extends Error {
  /** The stable error code. */
  readonly code: TenantErrorCode;
  /** The HTTP status this error maps to. */
  readonly status: number;
  /** The tenant involved, when known. */
  readonly tenantId: string | undefined;
  /** Structured details, JSON-serializable. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: TenantErrorCode, message: string, options: TenantErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TenantError';
    this.code = code;
    this.status = options.status ?? TENANT_ERROR_STATUS[code];
    this.tenantId = options.tenantId;
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Whether `error` is a TenantError (from any installed copy of this
   * package, ESM or CJS), optionally with one of the given codes. Copies
   * recognise each other by a brand registered with `Symbol.for`; an object
   * that merely has `name: 'TenantError'` and a known `code` is refused, so
   * that an error from elsewhere cannot pass for one of ours.
   */
  static is(error: unknown, ...codes: readonly TenantErrorCode[]): error is TenantError {
    if (typeof error !== 'object' || error === null) return false;
    const candidate = error as { [BRAND]?: unknown; code?: unknown };
    if (candidate[BRAND] !== true) return false;
    if (typeof candidate.code !== 'string' || !isTenantErrorCode(candidate.code)) return false;
    return codes.length === 0 || codes.includes(candidate.code);
  }
}

/** Whether `value` is one of the stable {@link TenantErrorCode}s. */
export function isTenantErrorCode(value: string): value is TenantErrorCode {
  return Object.prototype.hasOwnProperty.call(TENANT_ERROR_STATUS, value);
}
