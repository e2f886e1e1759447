import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { writeRejection, type TenantRejected } from '@tenant/core';
import { TenancyException } from './exception.js';

/**
 * Answers a request with a pipeline rejection through Nest's HTTP adapter,
 * on express and fastify alike: the status, every header of the rejection
 * (`content-type: application/problem+json`, `Retry-After`, `RateLimit`…)
 * and the problem body. For your own exception filters: log, count, then
 * answer as the module would.
 *
 * Does nothing when the response has already started (it cannot become a
 * problem any more).
 *
 * @example
 * ```ts
 * import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
 * import { HttpAdapterHost } from '@nestjs/core';
 * import { TenancyException, replyWithRejection } from '@tenant/nestjs';
 *
 * @Catch(TenancyException)
 * export class CountingFilter implements ExceptionFilter {
 *   constructor(private readonly adapterHost: HttpAdapterHost) {}
 *   catch(exception: TenancyException, host: ArgumentsHost) {
 *     refusals.inc({ code: exception.code });
 *     replyWithRejection(this.adapterHost.httpAdapter, host.switchToHttp().getResponse(), exception.rejection);
 *   }
 * }
 * ```
 */
export function replyWithRejection(httpAdapter: AbstractHttpAdapter, response: unknown, rejection: TenantRejected): void {
  if (httpAdapter.isHeadersSent(response)) return;
  if (isFastifyReply(response)) {
    // a Buffer, so that fastify sends the content-type as it is (no charset added), as @tenant/fastify does
    void response.code(rejection.status).headers(rejection.headers).send(Buffer.from(JSON.stringify(rejection.body)));
  } else if (isNodeResponse(response)) {
    // express (a ServerResponse), written as every @tenant/* adapter writes it
    writeRejection(response, rejection);
  } else {
    for (const [name, value] of Object.entries(rejection.headers)) httpAdapter.setHeader(response, name, value);
    httpAdapter.reply(response, JSON.stringify(rejection.body), rejection.status);
  }
}

interface FastifyReplyLike {
  readonly raw: unknown;
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload: Buffer): unknown;
}

const isFastifyReply = (value: unknown): value is FastifyReplyLike =>
  typeof value === 'object' && value !== null && 'raw' in value && typeof (value as { code?: unknown }).code === 'function' && typeof (value as { send?: unknown }).send === 'function';

const isNodeResponse = (value: unknown): value is ServerResponse =>
  typeof value === 'object' && value !== null && typeof (value as { setHeader?: unknown }).setHeader === 'function' && typeof (value as { end?: unknown }).end === 'function';

/**
 * The exception filter the module registers globally: it answers a
 * {@link TenancyException} with the pipeline's status, headers and
 * `application/problem+json` body, instead of Nest's default error shape.
 *
 * The module adds it before any filter of the application, and Nest tries
 * the last added first: filters of yours (`@UseFilters()` on a handler or
 * controller, `APP_FILTER` providers, `app.useGlobalFilters()`) see these
 * exceptions before it. Answer with {@link replyWithRejection} there to keep
 * the problem format.
 */
@Catch(TenancyException)
export class TenancyExceptionFilter implements ExceptionFilter<TenancyException> {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  /** Answers an HTTP request with the rejection; hands the exception back to other kinds of handlers. */
  catch(exception: TenancyException, host: ArgumentsHost): void {
    // Other kinds of handlers (GraphQL) turn exceptions into their own errors: hand it back to them.
    if (host.getType() !== 'http') throw exception;
    replyWithRejection(this.adapterHost.httpAdapter, host.switchToHttp().getResponse(), exception.rejection);
  }
}
