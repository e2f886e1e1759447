/**
 * Multi-tenancy middleware for Hono 4, on the `@tenant/core` pipeline, on
 * every runtime Hono runs on (Node, Bun, Deno, Cloudflare Workers with
 * `nodejs_compat`): resolves the tenant of each request, answers what the
 * pipeline refuses with a problem+json response that the middleware around
 * it (CORS, secure headers, logging) still sees, and runs the rest of the
 * chain in the tenant's context, so that `currentTenant()` works everywhere
 * below.
 *
 * @packageDocumentation
 */
import type { MiddlewareHandler, Context } from 'hono';
import {
  adapterFetchRequest,
  finishResponse,
  isPromiseLike,
  rejectionResponse,
  tenancyFrom,
  type FetchAdapterOptions,
  type FinishResponseOptions,
  type TenantAdmitted,
  type TenantBypassed,
  type TenantConfig,
} from '@tenant/core/fetch';

/** The variables `tenancy()` sets on the Hono context (`c.get('tenant')`). */
export interface TenancyVariables {
  /**
   * The tenant of this request; `undefined` when the request passed without
   * one (a skipped path, a central host, or no tenant where none is required).
   */
  tenant: TenantConfig | undefined;
  /** The pipeline's decision for this request (headers, quota, bypass reason). */
  tenantDecision: TenantAdmitted | TenantBypassed;
}

/**
 * The Hono environment of `tenancy()`: `new Hono<TenancyEnv>()` (or chain
 * `app.use(tenancy(...))`) types `c.get('tenant')`.
 */
export interface TenancyEnv {
  Variables: TenancyVariables;
}

/**
 * Options of {@link tenancy}: the pipeline's options (a `store` is
 * required) or `{ tenancy }`, plus `actualCost`, `trustProxy`, a
 * `principal` that reads the Web `Request` and the Hono context (for
 * example `(_request, c) => c.get('jwtPayload')` after `hono/jwt`), and
 * `holdContext`.
 */
export type HonoTenancyOptions = FetchAdapterOptions<[c: Context]> & {
  /**
   * Read the response body in the tenant context, so that a raw
   * `ReadableStream` whose `pull()` runs after the handler returned (when
   * the server reads the body) sees `currentTenant()`. It wraps every body
   * of a tenant's response in a stream, which takes the runtime off its fast
   * path for fixed bodies (on `@hono/node-server`, a hello route served a
   * third as many requests): off by default. Hono's `stream()`,
   * `streamText()` and `streamSSE()` hold the context without it; for a raw
   * stream, bind its callbacks with `bindTenant`, or turn this on.
   * @default false
   */
  readonly holdContext?: boolean;
};

/**
 * The tenancy middleware for Hono 4.
 *
 * For each request it builds the neutral request view from `c.req.raw`
 * (the full URL, also under `app.route()` or `basePath()`), runs the
 * pipeline, and then:
 * - on rejection, returns the problem+json response (status, headers such as
 *   `Retry-After` and `RateLimit`): no later middleware or handler runs, and
 *   the middleware mounted before it (`hono/cors`, `hono/secure-headers`,
 *   `hono/logger`) still sees and decorates the response;
 * - on admission, sets `c.get('tenant')` and `c.get('tenantDecision')`, runs
 *   the rest of the chain inside the tenant context, adds the decision's
 *   headers (`RateLimit`, `RateLimit-Policy`) to the response, and settles
 *   `options.actualCost` once the response body has been sent (or cancelled).
 *
 * Errors after admission are Hono's: `app.onError` answers them.
 *
 * @throws TypeError at setup, when the options make no sense (see `tenancyFrom`).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createMemoryTenantStore, requireTenant } from '@tenant/core/fetch';
 * import { tenancy, type TenancyEnv } from '@tenant/hono';
 *
 * const app = new Hono<TenancyEnv>();
 * app.use(tenancy({ store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }), skipPaths: ['/health'] }));
 * app.get('/health', (c) => c.text('ok'));
 * app.get('/whoami', (c) => c.json({ id: c.get('tenant')?.id, same: requireTenant().id }));
 * export default app;
 * ```
 */
export function tenancy(options: HonoTenancyOptions): MiddlewareHandler<TenancyEnv> {
  if (typeof options !== 'object' || options === null) throw new TypeError('[@tenant/hono] tenancy() needs options: { store, ... } or { tenancy }');
  const { holdContext, ...adapterOptions } = options;
  if (holdContext !== undefined && typeof holdContext !== 'boolean') throw new TypeError('[@tenant/hono] holdContext must be a boolean');
  const pipeline = tenancyFrom(adapterOptions);
  const finish: FinishResponseOptions = { holdContext: holdContext === true, ...(options.actualCost === undefined ? {} : { actualCost: options.actualCost }) };
  return async (c, next) => {
    // policyRequest and cost get the canonical path of c.req.raw's URL, folded
    // by the options' `routing` (else the lax defaults, which cover Hono's
    // case-sensitive, strict router). Hono's matched route is not passed as
    // `route`: at this point c.req.matchedRoutes mixes middleware and handlers
    // registered with the same method ('ALL'), so the handler's route cannot
    // be told apart reliably; the canonical path is the key (path-variants
    // conformance case).
    const request = adapterFetchRequest(c.req.raw, adapterOptions, c);
    const decided = pipeline.decide(request);
    const decision = isPromiseLike(decided) ? await decided : decided;
    // Returned, not thrown: Hono makes it c.res, and the middleware around this one still applies.
    if (!decision.ok) return rejectionResponse(decision);
    c.set('tenant', decision.tenant);
    c.set('tenantDecision', decision);
    await pipeline.run(decision, next);
    const response = finishResponse(pipeline, decision, request, c.res, finish);
    if (response !== c.res) {
      // replace without merging the old response's headers back in (they are already on `response`)
      c.res = undefined;
      c.res = response;
    }
    return undefined;
  };
}

export type { FetchAdapterOptions } from '@tenant/core/fetch';
