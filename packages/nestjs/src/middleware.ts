import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Optional, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { adapterRequest, type AdapterOptions, type PathRouting, type Tenancy, type TenantDecision } from '@tenant/core';
import { setState } from './state.js';
import { TENANCY_OPTIONS, TENANCY_PIPELINE } from './tokens.js';

/**
 * The module's middleware, applied to every route: it resolves the tenant
 * (skip rules, resolvers, id, store, status) and calls `next()` inside the
 * tenant context, so that guards, interceptors, pipes, controllers, services
 * and everything they start see `currentTenant()`. It refuses nothing
 * itself: the guard does, once Nest knows the route (so `@SkipTenancy()`
 * routes can pass).
 *
 * Nest hands it the raw `node:http` request and response on both platforms
 * (on fastify it runs in an `onRequest` hook, and `next` completes the hook,
 * so the rest of the request starts inside the context).
 */
@Injectable()
export class TenancyMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(
    @Inject(TENANCY_PIPELINE) private readonly pipeline: Tenancy,
    @Inject(TENANCY_OPTIONS) private readonly options: AdapterOptions,
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
  ) {}

  // Read at the first request, once the platform's router exists.
  private routing: PathRouting | undefined;

  /**
   * How the platform's router matches paths (Nest's `getRouteMatchingOptions()`
   * of express and fastify), so that the canonical path `policyRequest` and
   * `cost` see names what the router routes. The options' own `routing` wins.
   */
  private routingOf(): PathRouting {
    if (this.routing !== undefined) return this.routing;
    const matching = (this.adapterHost?.httpAdapter as { getRouteMatchingOptions?: () => { caseSensitive?: boolean; ignoreTrailingSlash?: boolean } } | undefined)?.getRouteMatchingOptions?.();
    this.routing = Object.freeze(matching === undefined ? {} : { caseSensitive: matching.caseSensitive === true, strict: matching.ignoreTrailingSlash !== true });
    return this.routing;
  }

  /** Resolves the tenant of `req`, then calls `next()` inside its context (or explicitly in none). Never throws. */
  use(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (error?: unknown) => void): void {
    // both platforms may strip the middleware's path from req.url; originalUrl is what the client sent
    const view = adapterRequest(req, this.options, req.originalUrl ?? req.url, { routing: this.routingOf() });
    const { pipeline } = this;
    pipeline.resolve(view).then((resolved: TenantDecision) => {
      setState(req, { view, res, resolved, tenant: resolved.ok ? resolved.tenant : undefined });
      // a refused request runs explicitly without a tenant until the guard answers it
      pipeline.run(resolved, next);
    }, next);
  }
}
