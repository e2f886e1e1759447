/**
 * Multi-tenancy middleware for Express 4 and 5, on the `@tenant/core`
 * pipeline: resolves the tenant of each request, refuses what the pipeline
 * refuses (problem+json), and runs the rest of the request in the tenant's
 * context so that `currentTenant()` works everywhere below.
 *
 * @packageDocumentation
 */
import type { RequestHandler } from 'express';
import { adapterRequest, settleOnFinish, tenancyFrom, withDecision, writeRejection, type AdapterOptions, type PathRouting } from '@tenant/core';
import type { TenantAdmitted, TenantBypassed, TenantConfig, TenantDecision } from '@tenant/interfaces';

export type { AdapterOptions } from '@tenant/core';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The tenant of this request, set by `tenancy()`; `undefined` when the
       * request passed without one (a skipped path, a central host, or no
       * tenant where none is required).
       */
      tenant?: TenantConfig | undefined;
      /** The pipeline's decision for this request, set by `tenancy()` (headers, quota, bypass reason). */
      tenantDecision?: TenantAdmitted | TenantBypassed | undefined;
    }
  }
}

// Express matches paths undecoded and never merges slashes; case and the
// trailing slash follow the app's `case sensitive routing` and `strict
// routing` settings (both off by default).
const ROUTINGS: readonly PathRouting[] = [false, true].flatMap((caseSensitive) =>
  [false, true].map((strict) => Object.freeze({ caseSensitive, strict, mergeSlashes: false, semicolonDelimiter: false })),
);

/** How the app that runs this request matches paths, read from its settings. */
function routingOf(app: { get(setting: string): unknown } | undefined): PathRouting {
  const caseSensitive = app?.get('case sensitive routing') === true;
  const strict = app?.get('strict routing') === true;
  return ROUTINGS[(caseSensitive ? 2 : 0) + (strict ? 1 : 0)] as PathRouting;
}

/**
 * The tenancy middleware for Express 4 and 5.
 *
 * For each request it builds the neutral request view (from
 * `req.originalUrl`, so mounting under a path does not change what
 * `skipPaths` see), runs the pipeline, and then:
 * - on admission, sets `req.tenant` and `req.tenantDecision`, adds the
 *   decision's headers (`RateLimit`, `RateLimit-Policy`), and calls `next()`
 *   inside the tenant context: route handlers, awaits, timers, stream and
 *   database callbacks below it see `currentTenant()`;
 * - on rejection, writes the status, headers and `application/problem+json`
 *   body, and does not call `next()`.
 *
 * `policyRequest`, `cost` and `actualCost` receive the request with its
 * canonical path, read the way this app's router reads it: case and
 * trailing slash by the app's `case sensitive routing` and `strict routing`
 * settings, duplicate slashes kept apart (express does not merge them).
 * Declare `routing` for routers with other settings
 * (`express.Router({ caseSensitive: true })`). Used inside a route
 * (`app.post('/chat', tenancy(options), handler)`), the request view also
 * has the matched `route` (`req.route.path`).
 *
 * After the response, `options.actualCost` (if given) settles the real cost
 * against the estimate.
 *
 * @throws TypeError at setup, when the options make no sense (see `tenancyFrom`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createMemoryTenantStore, requireTenant } from '@tenant/core';
 * import { tenancy } from '@tenant/express';
 *
 * const app = express();
 * app.use(tenancy({ store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }), skipPaths: ['/health'] }));
 * app.get('/health', (_req, res) => res.send('ok'));
 * app.get('/whoami', (req, res) => res.json({ id: req.tenant?.id, same: requireTenant().id }));
 * app.listen(3000);
 * ```
 */
export function tenancy(options: AdapterOptions): RequestHandler {
  const pipeline = tenancyFrom(options);
  const { actualCost } = options;
  return (req, res, next) => {
    const route = (req.route as { path?: unknown } | undefined)?.path;
    const request = adapterRequest(req, options, req.originalUrl, { routing: routingOf(req.app), route: typeof route === 'string' ? route : undefined });
    const apply = (decision: TenantDecision): void => {
      if (!decision.ok) {
        writeRejection(res, decision);
        return;
      }
      req.tenant = decision.tenant;
      req.tenantDecision = decision;
      for (const name in decision.headers) res.setHeader(name, decision.headers[name] as string);
      settleOnFinish(pipeline, decision, request, res, actualCost);
      pipeline.run(decision, next);
    };
    // at once when the pipeline decides without a promise (see Tenancy.decide)
    withDecision(pipeline, request, apply, next);
  };
}
