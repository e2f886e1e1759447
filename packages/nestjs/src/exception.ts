import { HttpException } from '@nestjs/common';
import type { ProblemDetails, ResponseHeaders, TenantErrorCode, TenantRejected } from '@tenant/core';

/**
 * A rejection of the `@tenant/core` pipeline as a Nest `HttpException`: the
 * guard (and `TenancyService.authorize`) throw it, so it goes through Nest's
 * exception layer and the exception filters you register see it.
 *
 * `getStatus()` is the pipeline's status and `getResponse()` its problem
 * body; `headers` are the headers to send with it (`content-type:
 * application/problem+json`, `Retry-After`, `RateLimit`…). The module's
 * {@link TenancyExceptionFilter} writes all three; Nest's own default filter
 * would write the body as `application/json` without the headers.
 *
 * @example
 * ```ts
 * import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
 * import { TenancyException } from '@tenant/nestjs';
 *
 * @Catch(TenancyException)
 * export class LogTenancyRejections implements ExceptionFilter {
 *   catch(exception: TenancyException, host: ArgumentsHost) {
 *     console.warn('refused', exception.code, exception.problem.detail);
 *     // ...then answer, for example with TenancyExceptionFilter's writeRejection
 *   }
 * }
 * ```
 */
export class TenancyException extends HttpException {
  /** The pipeline's rejection, as it is. */
  readonly rejection: TenantRejected;

  constructor(rejection: TenantRejected) {
    super(rejection.body, rejection.status, { cause: rejection.error });
    this.name = 'TenancyException';
    this.rejection = rejection;
  }

  /** The stable error code (`tenant_missing`, `policy_denied`, `quota_exceeded`…). */
  get code(): TenantErrorCode {
    return this.rejection.code;
  }

  /** The `application/problem+json` body. */
  get problem(): ProblemDetails {
    return this.rejection.body;
  }

  /** The headers to send with the problem, by lower-case name. */
  get headers(): ResponseHeaders {
    return this.rejection.headers;
  }

  /**
   * Whether `value` is a `TenancyException`, by name and shape rather than
   * `instanceof` (which fails when two copies of this package are installed).
   */
  static is(value: unknown): value is TenancyException {
    if (value instanceof TenancyException) return true;
    if (typeof value !== 'object' || value === null) return false;
    const candidate = value as { name?: unknown; rejection?: { ok?: unknown; status?: unknown } };
    return candidate.name === 'TenancyException' && candidate.rejection?.ok === false && typeof candidate.rejection.status === 'number';
  }
}
