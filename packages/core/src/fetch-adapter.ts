import type { TenantConfig, TenantDecision, TenantRejected, TenantRequest } from '@tenant/interfaces';
import { mergeRouting, settleActualCost, tenancyFrom, type AdapterRouting, type BaseAdapterExtras, type BaseAdapterOptions, type TenantResponseView } from './adapter-options.js';
import type { Tenancy } from './pipeline.js';
import { isPromiseLike } from './resolvers.js';
import type { ToTenantRequestOptions } from './url.js';

/**
 * What every fetch adapter accepts besides the pipeline: `principal` reads
 * the Web `Request` (and the further arguments `Args` the adapter passes,
 * such as a Hono context or a Workers `env`).
 */
export type FetchAdapterExtras<Args extends unknown[] = []> = BaseAdapterExtras<Request, Args>;

/**
 * Options of a fetch adapter: the pipeline's options (a `store` is
 * required) or `{ tenancy }`, plus `actualCost`, `principal` (reads the Web
 * `Request`) and `trustProxy`.
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore, type FetchAdapterOptions } from '@tenant/core/fetch';
 *
 * const options: FetchAdapterOptions = {
 *   store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }),
 *   principal: (request) => verifiedClaims.get(request),
 * };
 * ```
 */
export type FetchAdapterOptions<Args extends unknown[] = []> = BaseAdapterOptions<Request, Args>;

/**
 * Builds the neutral request view from a Web `Request`: method, the path and
 * query of `request.url` (as the URL parser left them: dot segments
 * resolved, percent-encoding kept), the host of `request.url` (or the first
 * `X-Forwarded-Host` with `trustProxy`), headers and the principal.
 *
 * @example
 * ```ts
 * import { toFetchTenantRequest } from '@tenant/core/fetch';
 *
 * const decision = await tenancy.handle(toFetchTenantRequest(request));
 * ```
 */
export function toFetchTenantRequest(request: Request, options: ToTenantRequestOptions = {}): TenantRequest {
  const url = request.url;
  const scheme = url.indexOf('://');
  const authority = scheme === -1 ? 0 : scheme + 3;
  let end = authority;
  while (end < url.length && url.charCodeAt(end) !== 47 /* / */ && url.charCodeAt(end) !== 63 /* ? */ && url.charCodeAt(end) !== 35 /* # */) end += 1;
  const hash = url.indexOf('#', end);
  const target = hash === -1 ? url.slice(end) : url.slice(end, hash);
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const headers = request.headers;
  const forwarded = options.trustProxy === true ? headers.get('x-forwarded-host') : null;
  const host = forwarded !== null && forwarded.length > 0 ? forwarded.split(',')[0]?.trim() : authority === end ? (headers.get('host') ?? undefined) : url.slice(authority, end);
  return {
    method: request.method.toUpperCase(),
    path: path === '' ? '/' : path,
    query: q === -1 ? '' : target.slice(q + 1),
    host,
    header: (name: string) => headers.get(name) ?? undefined,
    ...(options.principal === undefined ? {} : { principal: options.principal }),
    ...(options.route === undefined ? {} : { route: options.route }),
    ...(options.routing === undefined ? {} : { routing: options.routing }),
  };
}

/**
 * Builds the neutral request view from a Web `Request`, with the adapter
 * options' `principal` (called with the request and `args`), `trustProxy`
 * and `routing`. Every fetch adapter calls this once per request; one that
 * knows the route its framework matched, or how its router matches paths,
 * uses {@link adapterFetchRequestRouted}.
 *
 * @example
 * ```ts
 * import { adapterFetchRequest } from '@tenant/core/fetch';
 *
 * const request = adapterFetchRequest(c.req.raw, options, c);
 * ```
 */
export function adapterFetchRequest<Args extends unknown[]>(request: Request, options: FetchAdapterExtras<Args>, ...args: Args): TenantRequest {
  return adapterFetchRequestRouted(request, options, {}, ...args);
}

/**
 * {@link adapterFetchRequest} with what the framework knows of the routing:
 * the matched route pattern and the router's matching rules (the options'
 * own `routing` fields win over these), for the canonical path that
 * `policyRequest`, `cost` and `actualCost` receive.
 *
 * @example
 * ```ts
 * import { adapterFetchRequestRouted } from '@tenant/core/fetch';
 *
 * // Hono, whose router tells /a from /a/ unless `strict: false`
 * const request = adapterFetchRequestRouted(c.req.raw, options, { routing: { caseSensitive: true, strict: true } }, c);
 * ```
 */
export function adapterFetchRequestRouted<Args extends unknown[]>(request: Request, options: FetchAdapterExtras<Args>, routed: AdapterRouting, ...args: Args): TenantRequest {
  const routing = mergeRouting(options, routed);
  const { route } = routed;
  if (options.principal === undefined && options.trustProxy !== true && routing === undefined && route === undefined) return toFetchTenantRequest(request);
  const principal = options.principal?.(request, ...args);
  return toFetchTenantRequest(request, { trustProxy: options.trustProxy === true, route, routing, ...(principal === undefined ? {} : { principal }) });
}

/**
 * A rejection as a Web `Response`: its status, its headers (with
 * `content-type: application/problem+json`) and the problem body as JSON.
 *
 * @example
 * ```ts
 * import { rejectionResponse } from '@tenant/core/fetch';
 *
 * const decision = await tenancy.handle(request);
 * if (!decision.ok) return rejectionResponse(decision);
 * ```
 */
export function rejectionResponse(rejection: TenantRejected): Response {
  return new Response(JSON.stringify(rejection.body), { status: rejection.status, headers: { ...rejection.headers } });
}

/** A Web `Response` as the view `actualCost` reads: its status and headers. */
export function responseView(response: Response): TenantResponseView {
  return { statusCode: response.status, getHeader: (name) => response.headers.get(name) ?? undefined };
}

/**
 * Adds an admitted decision's headers (`RateLimit`, `RateLimit-Policy`) to a
 * response, leaving any the handler set itself. Returns the response, or a
 * copy with the same body when its headers are immutable (a `Response` from
 * `fetch()`). Returns `response` as it is for a rejection (whose headers its
 * own response already has), a decision without headers, or a network error
 * (`Response.error()`).
 */
export function withDecisionHeaders(response: Response, decision: TenantDecision): Response {
  // a network error (`Response.error()`) has no headers to add and cannot be copied
  if (!decision.ok || response.type === 'error') return response;
  const names = Object.keys(decision.headers);
  if (names.length === 0) return response;
  let target = response;
  for (const name of names) {
    if (target.headers.has(name)) continue;
    try {
      target.headers.set(name, decision.headers[name] as string);
    } catch {
      // immutable headers: copy once, then set
      target = new Response(target.body, target);
      target.headers.set(name, decision.headers[name] as string);
    }
  }
  return target;
}

/** Options of {@link finishResponse}. */
export interface FinishResponseOptions {
  /** Settled once the body has been read to the end or cancelled (see `AdapterOptions.actualCost`). */
  readonly actualCost?: BaseAdapterExtras<unknown>['actualCost'];
  /**
   * Read the body inside the tenant context: a `ReadableStream` whose
   * `pull()` the server calls after the handler returned then runs in the
   * tenant's context (its own `start()` and anything started in the handler,
   * such as Hono's `stream()`, already do). Costs a stream per response.
   * @default true
   */
  readonly holdContext?: boolean;
}

/**
 * Completes an admitted request's response: adds the decision's headers
 * ({@link withDecisionHeaders}), and, when needed, wraps the body so that
 * - `actualCost` is settled once the body has been read to the end, has
 *   failed, or has been cancelled by the client (not when the `Response`
 *   object is made: its headers may still change, and a stream may still be
 *   producing); a response without a body settles at once;
 * - the body is read inside the tenant context (`holdContext`).
 *
 * Returns `response` itself when there is nothing to do. Never throws for a
 * failing `actualCost` (see `settleOnFinish`).
 *
 * @example
 * ```ts
 * import { finishResponse } from '@tenant/core/fetch';
 *
 * const response = await pipeline.run(decision, () => handler(request));
 * return finishResponse(pipeline, decision, view, response, { actualCost });
 * ```
 */
export function finishResponse(tenancy: Tenancy, decision: TenantDecision, request: TenantRequest, response: Response, options: FinishResponseOptions = {}): Response {
  if (!decision.ok || response.type === 'error') return response;
  let result = withDecisionHeaders(response, decision);
  const { actualCost } = options;
  const settles = actualCost !== undefined && decision.tenant !== undefined && decision.quota?.ticket !== undefined;
  const holds = options.holdContext !== false && decision.tenant !== undefined;
  if (!settles && !holds) return result;
  let settled = false;
  const settle = (): void => {
    if (settled || !settles) return;
    settled = true;
    settleActualCost(tenancy, decision, request, responseView(result), actualCost);
  };
  const body = result.body;
  if (body === null) {
    settle();
    return result;
  }
  if (body.locked) {
    // someone reads it already: settle now rather than never
    settle();
    return result;
  }
  const reader = body.getReader();
  const read = (): ReturnType<typeof reader.read> => (holds ? tenancy.run(decision, () => reader.read()) : reader.read());
  const wrapped = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await read();
        } catch (error) {
          settle();
          controller.error(error);
          return;
        }
        if (chunk.done) {
          controller.close();
          settle();
        } else {
          controller.enqueue(chunk.value);
        }
      },
      cancel(reason) {
        settle();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  result = new Response(wrapped, { status: result.status, statusText: result.statusText, headers: result.headers });
  return result;
}

/** Options of {@link withTenancy}: {@link FetchAdapterOptions} and `holdContext`. */
export type WithTenancyOptions<Args extends unknown[] = []> = FetchAdapterOptions<Args> & {
  /**
   * Read the response body in the tenant context, so that a `ReadableStream`
   * whose `pull()` runs after the handler returned sees the tenant (see
   * {@link FinishResponseOptions.holdContext}). It costs a stream per
   * response of a tenant; turn it off when no handler answers such a stream.
   * @default true
   */
  readonly holdContext?: boolean;
};

/** A fetch handler: a request (and the runtime's further arguments) in, a response out. */
export type FetchHandler<Args extends unknown[] = []> = (request: Request, ...args: Args) => Response | Promise<Response>;

const tenants = new WeakMap<Request, TenantConfig>();

/**
 * The tenant {@link withTenancy} admitted `request` for, or `undefined`
 * (a skipped path, or a request it never saw). Works outside the tenant
 * context too, for example in a callback that lost it.
 */
export function tenantOf(request: Request): TenantConfig | undefined {
  return tenants.get(request);
}

/**
 * Wraps a fetch handler with tenancy, for runtimes with no framework:
 * `Bun.serve({ fetch })`, `Deno.serve(handler)`, a Workers module's
 * `fetch`, a Next.js route handler. Each request is decided by the
 * pipeline; a refused one gets its problem+json `Response` and `handler`
 * never runs; an admitted one runs `handler` inside the tenant context
 * (`currentTenant()` works in it, across awaits, and while its response
 * body is read), gets the decision's headers, and settles `actualCost` once
 * its body is done. Errors of `handler` are not caught: the runtime answers
 * them (a 500).
 *
 * `args` (Deno's `info`, Workers' `env` and `ctx`, Next.js' `{ params }`)
 * pass through to `handler` and to `principal`. `holdContext: false` leaves
 * response bodies as the handler made them (faster; a raw stream then binds
 * its callbacks with `bindTenant`).
 *
 * @throws TypeError at setup, when the options make no sense (see {@link tenancyFrom}).
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore, requireTenant } from '@tenant/core';
 * import { withTenancy } from '@tenant/core/fetch';
 *
 * const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
 * Bun.serve({
 *   fetch: withTenancy({ store, skipPaths: ['/health'] }, async () => Response.json({ tenant: requireTenant().id })),
 * });
 * ```
 */
export function withTenancy<Args extends unknown[] = []>(options: WithTenancyOptions<Args>, handler: FetchHandler<Args>): (request: Request, ...args: Args) => Promise<Response> {
  if (typeof options !== 'object' || options === null) throw new TypeError('[@tenant/core] withTenancy needs options: { store, ... } or { tenancy }');
  const { holdContext, ...adapterOptions } = options;
  if (holdContext !== undefined && typeof holdContext !== 'boolean') throw new TypeError('[@tenant/core] holdContext must be a boolean');
  const pipeline = tenancyFrom(adapterOptions);
  if (typeof handler !== 'function') throw new TypeError('[@tenant/core] withTenancy needs a handler function');
  const { actualCost } = options;
  const finish: FinishResponseOptions = { holdContext: holdContext !== false, ...(actualCost === undefined ? {} : { actualCost }) };
  return async (request, ...args) => {
    const view = adapterFetchRequest(request, adapterOptions, ...args);
    const decided = pipeline.decide(view);
    const decision = isPromiseLike(decided) ? await decided : decided;
    if (!decision.ok) return rejectionResponse(decision);
    if (decision.tenant !== undefined) tenants.set(request, decision.tenant);
    const response = await pipeline.run(decision, () => handler(request, ...args));
    return finishResponse(pipeline, decision, view, response, finish);
  };
}
