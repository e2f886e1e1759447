/**
 * Multi-tenancy middleware for Koa 2 and 3, on the `@tenant/core` pipeline:
 * resolves the tenant of each request, refuses what the pipeline refuses
 * (problem+json), and runs the rest of the request in the tenant's context
 * so that `currentTenant()` works everywhere downstream.
 *
 * @packageDocumentation
 */
import type { Middleware } from 'koa';
import { adapterRequest, isPromiseLike, settleOnFinish, tenancyFrom, type AdapterOptions } from '@tenant/core';
import type { TenantAdmitted, TenantBypassed, TenantConfig } from '@tenant/interfaces';

export type { AdapterOptions } from '@tenant/core';

/** What `tenancy()` puts in `ctx.state`. */
export interface TenantState {
  /**
   * The tenant of this request; `undefined` when the request passed without
   * one (a skipped path, a central host, or no tenant where none is required).
   */
  tenant?: TenantConfig | undefined;
  /** The pipeline's decision for this request (headers, quota, bypass reason). */
  tenantDecision?: TenantAdmitted | TenantBypassed | undefined;
}

declare module 'koa' {
  // Declaration merging: `ctx.state.tenant` is typed in every middleware.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface DefaultState extends TenantState {}
}

/**
 * The tenancy middleware for Koa 2 and 3.
 *
 * For each request it builds the neutral request view (from
 * `ctx.originalUrl`, so a router prefix does not change what `skipPaths`
 * see), runs the pipeline, and then:
 * - on admission, sets `ctx.state.tenant` and `ctx.state.tenantDecision`,
 *   adds the decision's headers (`RateLimit`, `RateLimit-Policy`), and runs
 *   `await next()` inside the tenant context: downstream middleware, awaits,
 *   timers, stream and database callbacks see `currentTenant()`;
 * - on rejection, sets `ctx.status`, the headers and the
 *   `application/problem+json` body (Koa sends it) and does not call `next()`.
 *
 * `policyRequest`, `cost` and `actualCost` receive the request with its
 * canonical path. Koa has no router of its own, so the adapter cannot read
 * how yours matches paths: the default is a lax router's (case-insensitive,
 * trailing slash ignored, duplicate slashes merged, as @koa/router's
 * defaults and more); declare `routing` when yours is stricter. Used inside
 * a koa-router route, the request view also has the matched `route`
 * (`ctx._matchedRoute`).
 *
 * After the response, `options.actualCost` (if given) settles the real cost
 * against the estimate; set the header it reads with `ctx.set`.
 *
 * @throws TypeError at setup, when the options make no sense (see `tenancyFrom`).
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { createMemoryTenantStore, requireTenant } from '@tenant/core';
 * import { tenancy } from '@tenant/koa';
 *
 * const app = new Koa();
 * app.use(tenancy({ store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }), skipPaths: ['/health'] }));
 * app.use((ctx) => {
 *   ctx.body = { id: ctx.state.tenant?.id, same: ctx.path === '/health' ? null : requireTenant().id };
 * });
 * app.listen(3000);
 * ```
 */
export function tenancy(options: AdapterOptions): Middleware {
  const pipeline = tenancyFrom(options);
  const { actualCost } = options;
  return async (ctx, next) => {
    // koa-router sets _matchedRoute when tenancy runs inside a route (router.post('/chat', tenancy(options), ...))
    const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
    const request = adapterRequest(ctx.req, options, ctx.originalUrl, typeof matched === 'string' ? { route: matched } : undefined);
    // Awaited only when the pipeline could not decide without a promise (see Tenancy.decide).
    const decided = pipeline.decide(request);
    const decision = isPromiseLike(decided) ? await decided : decided;
    if (!decision.ok) {
      ctx.status = decision.status;
      ctx.set(decision.headers);
      // a string body keeps the content-type set above (problem+json)
      ctx.body = JSON.stringify(decision.body);
      return;
    }
    const state = ctx.state as TenantState;
    state.tenant = decision.tenant;
    state.tenantDecision = decision;
    ctx.set(decision.headers);
    settleOnFinish(pipeline, decision, request, ctx.res, actualCost);
    await pipeline.run(decision, next);
  };
}
