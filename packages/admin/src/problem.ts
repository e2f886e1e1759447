import { TenantError, toRejection } from '@tenant/core';
import type { AdminErrorCode, AdminFieldError, AdminResponse } from './types.js';

/**
 * The codes of the HTTP layer that only the admin API uses, with their
 * status. They appear in problem bodies next to the
 * {@link TenantErrorCode}s of `@tenant/interfaces`.
 */
export const ADMIN_ERROR_STATUS = Object.freeze({
  /** The request cannot be read: the body is not JSON, a header is malformed. */
  request_invalid: 400,
  /** `authorize` did not recognise the caller. */
  unauthorized: 401,
  /** `authorize` refused the caller this action. */
  forbidden: 403,
  /** No admin route has this path. */
  route_not_found: 404,
  /** The route exists, not with this method; `Allow` lists those it has. */
  method_not_allowed: 405,
  /** The body is larger than `maxBodyBytes`. */
  payload_too_large: 413,
  /** The body is not `application/json`. */
  unsupported_media_type: 415,
  /** `requireIfMatch` is on and a write came without `If-Match`. */
  precondition_required: 428,
} as const);


/** A code of the admin HTTP layer: see {@link ADMIN_ERROR_STATUS}. */
export type AdminHttpErrorCode = keyof typeof ADMIN_ERROR_STATUS;

const TITLES: { readonly [C in AdminHttpErrorCode]: string } = {
  request_invalid: 'Invalid request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  route_not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  precondition_required: 'Precondition required',
};

/** Builds the `type` URI of a problem from its code. */
export type AdminProblemType = (code: AdminErrorCode) => string;

const PROBLEM_HEADERS = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' } as const;

/** A problem of the admin HTTP layer. */
export function httpProblem(
  problemType: AdminProblemType,
  code: AdminHttpErrorCode,
  detail: string,
  extra: { readonly headers?: Readonly<Record<string, string>>; readonly errors?: readonly AdminFieldError[] } = {},
): AdminResponse {
  const status = ADMIN_ERROR_STATUS[code];
  return {
    status,
    headers: { ...PROBLEM_HEADERS, ...extra.headers },
    body: { type: problemType(code), title: TITLES[code], status, detail, code, ...(extra.errors === undefined ? {} : { errors: extra.errors }) },
  };
}

/**
 * The field-level messages of a validation error: `details.fields` of a
 * `config_invalid` error, the id of a `tenant_invalid` one.
 */
export function fieldErrors(error: TenantError): readonly AdminFieldError[] | undefined {
  if (error.code === 'tenant_invalid') return [{ field: 'id', message: error.message.replace(/^\[@tenant\/[a-z-]+\] /, '') }];
  const fields = error.details?.['fields'];
  if (error.code !== 'config_invalid' || typeof fields !== 'object' || fields === null) return undefined;
  return Object.entries(fields as Record<string, unknown>).map(([field, message]) => ({ field, message: String(message) }));
}

/**
 * A problem for any error: a `TenantError` keeps its code and status (and
 * gets `errors` when it is a validation error); anything else is a 500
 * `internal_error` whose message is not shown.
 */
export function errorProblem(problemType: AdminProblemType, error: unknown): AdminResponse {
  const rejection = toRejection(error, { problemType });
  const errors = fieldErrors(rejection.error);
  return {
    status: rejection.status,
    headers: { ...PROBLEM_HEADERS },
    body: errors === undefined ? rejection.body : { ...rejection.body, errors },
  };
}

/** A validation problem (400 `config_invalid`) with its field messages. */
export function invalid(problemType: AdminProblemType, errors: readonly AdminFieldError[]): AdminResponse {
  const detail = `Invalid input: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`;
  const response = errorProblem(problemType, new TenantError('config_invalid', detail));
  return { ...response, body: { ...(response.body as object), errors } };
}
