import assert from 'node:assert/strict';
import type { ProblemDetails, TenantErrorCode } from '@tenant/core';
import type { ConformanceFixture } from './setup.js';
import type { TestResponse } from './http-client.js';

/** A response to a request the suite sent, with the id it carried. */
export interface SentResponse extends TestResponse {
  readonly requestId: string;
  /** The request, as `METHOD /path?query`, for failure messages. */
  readonly request?: string;
}

/** What the conformance handler answers (the whoami shape, and more on some routes). */
export interface HandlerAnswer {
  readonly requestId: string | null;
  readonly route: string;
  /** The conformance route the framework's router matched (`setup.routes`), or null for the catch-all. */
  readonly matched?: string | null;
  /** The tenant the framework exposed. */
  readonly tenant: string | null;
  /** The tenant of the async context. */
  readonly context: string | null;
  readonly contexts?: readonly (string | null)[];
  readonly [key: string]: unknown;
}

const describeResponse = (res: SentResponse): string => `${res.requestId}${res.request === undefined ? '' : ` (${res.request})`}: ${res.status} ${res.text().slice(0, 300)}`;

/**
 * Asserts a rejection: the status, `application/problem+json`, a problem
 * body with `type: urn:tenant:error:<code>`, `code` and `status`; that the
 * handler never ran for it; and that `onReject` fired exactly once.
 */
export function assertProblem(fixture: ConformanceFixture<unknown>, res: SentResponse, status: number, code: TenantErrorCode): ProblemDetails {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${describeResponse(res)}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `content-type of ${res.requestId}`);
  const body = res.json<ProblemDetails>();
  assert.equal(body.type, `urn:tenant:error:${code}`, `problem type of ${res.requestId}`);
  assert.equal(body.code, code, `problem code of ${res.requestId}`);
  assert.equal(body.status, status, `problem status of ${res.requestId}`);
  assert.equal(typeof body.title, 'string', `problem title of ${res.requestId}`);
  assert.equal(fixture.handlerCalls(res.requestId), 0, `the handler ran for rejected request ${res.requestId}: a rejection must stop the chain`);
  assert.equal(fixture.hookLog.record(res.requestId).counts.onReject, 1, `onReject calls for ${res.requestId}`);
  return body;
}

/**
 * Asserts an admitted request: 200, the framework exposed `tenantId` and
 * `currentTenant()` was the same in the handler (`null` for no tenant), and
 * the handler ran exactly once.
 */
export function assertServed(fixture: ConformanceFixture<unknown>, res: SentResponse, tenantId: string | null): HandlerAnswer {
  assert.equal(res.status, 200, `expected 200, got ${describeResponse(res)}`);
  const body = res.json<HandlerAnswer>();
  assert.equal(body.tenant, tenantId, `tenant exposed by the framework for ${res.requestId}`);
  assert.equal(body.context, tenantId, `currentTenant() in the handler for ${res.requestId}`);
  assert.equal(fixture.handlerCalls(res.requestId), 1, `handler calls for ${res.requestId}`);
  return body;
}

/** Asserts that every context seen along the way is `tenantId`. */
export function assertContexts(contexts: readonly (string | null)[] | undefined, tenantId: string | null, what: string): void {
  assert.ok(Array.isArray(contexts) && contexts.length > 0, `${what}: no contexts recorded`);
  contexts.forEach((context, i) => assert.equal(context, tenantId, `${what}: context at step ${i}`));
}
