/**
 * Multi-tenancy plugin for Fastify 5, on the `@tenant/core` pipeline:
 * resolves the tenant of each request, refuses what the pipeline refuses
 * (problem+json), and runs the rest of the request in the tenant's context
 * so that `currentTenant()` works in hooks, handlers and everything they start.
 *
 * @packageDocumentation
 */
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { adapterRequest, settleOnFinish, tenancyFrom, withDecision, type AdapterOptions, type PathRouting, type Tenancy } from '@tenant/core';
import type { TenantAdmitted, TenantBypassed, TenantConfig, TenantDecision } from '@tenant/interfaces';

export type { AdapterOptions } from '@tenant/core';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The tenant of this request, set by `fastifyTenancy`; `undefined` when
     * the request passed without one (a skipped path, a central host, or no
     * tenant where none is required).
     */
    tenant: TenantConfig | undefined;
    /** The pipeline's decision for this request (headers, quota, bypass reason). */
    tenantDecision: TenantAdmitted | TenantBypassed | undefined;
  }
}

/** The router settings that decide which paths reach one route. */
interface RouterSettings {
  readonly caseSensitive?: boolean | undefined;
  readonly ignoreTrailingSlash?: boolean | undefined;
  readonly ignoreDuplicateSlashes?: boolean | undefined;
  readonly useSemicolonDelimiter?: boolean | undefined;
}

/**
 * How this instance's router (find-my-way) matches paths, from its initial
 * config (`routerOptions` first, then the top-level settings fastify 5 still
 * reads): it decodes percent-encoding, and the rest is configurable.
 */
function routingOf(config: RouterSettings & { readonly routerOptions?: RouterSettings | undefined }): PathRouting {
  const router = config.routerOptions ?? {};
  return Object.freeze({
    caseSensitive: (router.caseSensitive ?? config.caseSensitive) !== false,
    strict: (router.ignoreTrailingSlash ?? config.ignoreTrailingSlash) !== true,
    mergeSlashes: (router.ignoreDuplicateSlashes ?? config.ignoreDuplicateSlashes) === true,
    semicolonDelimiter: (router.useSemicolonDelimiter ?? config.useSemicolonDelimiter) === true,
  });
}

const plugin: FastifyPluginCallback<AdapterOptions> = (fastify, options, done) => {
  let pipeline: Tenancy;
  try {
    pipeline = tenancyFrom(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  const { actualCost } = options;
  const routing = routingOf(fastify.initialConfig as RouterSettings & { readonly routerOptions?: RouterSettings });
  fastify.decorateRequest('tenant', undefined);
  fastify.decorateRequest('tenantDecision', undefined);

  // A callback-style hook: the context is entered with `run(…, done)`, so the
  // hooks and handler that follow start inside it (an async hook cannot do
  // that). Fastify 5 parses bodies inside an AsyncResource made in this
  // context, so the context also holds after parsing (tested).
  fastify.addHook('onRequest', (request, reply, hookDone) => {
    // fastify routes before onRequest: the matched route is known (undefined for a 404)
    const view = adapterRequest(request.raw, options, request.url, { routing, route: request.routeOptions.url });
    const apply = (decision: TenantDecision): void => {
      if (!decision.ok) {
        // a Buffer, so that fastify keeps the content-type as is (no charset added)
        void reply.code(decision.status).headers(decision.headers).send(Buffer.from(JSON.stringify(decision.body)));
        return;
      }
      request.tenant = decision.tenant;
      request.tenantDecision = decision;
      // on the raw response, so they go out however the route answers (reply.send or, hijacked, raw writes)
      const raw = reply.raw;
      for (const name in decision.headers) raw.setHeader(name, decision.headers[name] as string);
      settleOnFinish(pipeline, decision, view, reply.raw, actualCost, reply);
      pipeline.run(decision, hookDone);
    };
    // at once when the pipeline decides without a promise (see Tenancy.decide)
    withDecision(pipeline, view, apply, hookDone);
  });

  done();
};

/**
 * The tenancy plugin for Fastify 5, registered with {@link AdapterOptions}
 * (the pipeline's options, or `{ tenancy }`). It is wrapped with
 * `fastify-plugin` (name `@tenant/fastify`), so its hooks apply to every
 * route of the instance it is registered on.
 *
 * For each request, an `onRequest` hook builds the neutral request view,
 * runs the pipeline, and then:
 * - on admission, sets `request.tenant` and `request.tenantDecision`, adds
 *   the decision's headers (`RateLimit`, `RateLimit-Policy`), and runs the
 *   rest of the request inside the tenant context: later hooks, the handler,
 *   awaits, timers, stream and database callbacks see `currentTenant()`
 *   (also after body parsing);
 * - on rejection, replies with the status, headers and
 *   `application/problem+json` body; the route never runs.
 *
 * `policyRequest`, `cost` and `actualCost` receive the request with its
 * canonical path, read the way this instance's router reads it (decoded;
 * case, trailing slash, duplicate slashes and `;` by its `caseSensitive`,
 * `ignoreTrailingSlash`, `ignoreDuplicateSlashes` and
 * `useSemicolonDelimiter` settings), and the matched route pattern as
 * `request.route` (`request.routeOptions.url`; `undefined` for a 404).
 *
 * After the response, `options.actualCost` (if given) settles the real cost
 * against the estimate; it reads headers through `reply.getHeader`.
 *
 * @throws TypeError at registration, when the options make no sense (see `tenancyFrom`).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createMemoryTenantStore, requireTenant } from '@tenant/core';
 * import { fastifyTenancy } from '@tenant/fastify';
 *
 * const app = Fastify();
 * await app.register(fastifyTenancy, { store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }), skipPaths: ['/health'] });
 * app.get('/health', async () => 'ok');
 * app.get('/whoami', async (request) => ({ id: request.tenant?.id, same: requireTenant().id }));
 * await app.listen({ port: 3000 });
 * ```
 */
export const fastifyTenancy = fp(plugin, { name: '@tenant/fastify', fastify: '5.x' });
