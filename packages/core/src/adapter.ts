import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TenantDecision, TenantRejected, TenantRequest } from '@tenant/interfaces';
import { toTenantRequest } from './node-http.js';
import type { Tenancy } from './pipeline.js';
import { byteLength } from './runtime.js';
import { mergeRouting, settleActualCost, type AdapterRouting, type BaseAdapterExtras, type BaseAdapterOptions, type TenantResponseView } from './adapter-options.js';

/**
 * What every adapter accepts besides the pipeline; `principal` reads the
 * framework's request, the raw `node:http` `IncomingMessage` unless another
 * type is given (see {@link BaseAdapterExtras}).
 */
export type AdapterExtras<Req = IncomingMessage, Args extends unknown[] = []> = BaseAdapterExtras<Req, Args>;

/**
 * Options every adapter accepts: the pipeline's own options (a `store` is
 * required), or an existing pipeline as `{ tenancy }`; plus
 * {@link AdapterExtras}. Generic over the request type that `principal`
 * reads: `IncomingMessage` by default; fetch adapters use
 * `AdapterOptions<Request>` (or `FetchAdapterOptions` of `@tenant/core/fetch`).
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore, type AdapterOptions } from '@tenant/core';
 *
 * const options: AdapterOptions = {
 *   store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }),
 *   skipPaths: ['/health'],
 *   actualCost: (_request, response) => ({ tokens: Number(response.getHeader('x-tokens-used') ?? 0) }),
 * };
 * ```
 */
export type AdapterOptions<Req = IncomingMessage, Args extends unknown[] = []> = BaseAdapterOptions<Req, Args>;

/**
 * Builds the neutral request view from the raw `node:http` request, with the
 * adapter options' `principal` and `trustProxy`. Every adapter calls this
 * once per request.
 *
 * @param url The request target when the framework rewrote `req.url` (for
 *   example express strips a mount path: pass `req.originalUrl`).
 *   @default req.url
 * @param routed What the framework knows of the routing: the matched route
 *   pattern, and the router's matching rules read from the app (the
 *   options' own `routing` fields win over these).
 *   @default {} (no route; the options' `routing`, else a lax router)
 *
 * @example
 * ```ts
 * import { adapterRequest } from '@tenant/core';
 *
 * // fastify, in an onRequest hook
 * const view = adapterRequest(request.raw, options, request.url, { route: request.routeOptions.url, routing: { caseSensitive: true, strict: true } });
 * ```
 */
export function adapterRequest(req: IncomingMessage, options: AdapterExtras<IncomingMessage>, url?: string, routed: AdapterRouting = {}): TenantRequest {
  // A plain object with what the view reads, rather than `Object.create(req)`:
  // an object used as a prototype gets a map of its own in V8, which makes
  // every later access to the request (node, the framework) slow.
  const target = url === undefined || url === req.url ? req : ({ url, method: req.method, headers: req.headers } as IncomingMessage);
  const routing = mergeRouting(options, routed);
  const { route } = routed;
  if (options.principal === undefined && options.trustProxy !== true && routing === undefined && route === undefined) return toTenantRequest(target);
  const principal = options.principal?.(req);
  return toTenantRequest(target, { trustProxy: options.trustProxy === true, route, routing, ...(principal === undefined ? {} : { principal }) });
}

/**
 * Writes a rejection: status, headers (with `content-type:
 * application/problem+json`) and the problem body as JSON, and ends the
 * response. Does nothing when the headers were already sent (the response
 * is committed and cannot become a problem any more).
 *
 * @example
 * ```ts
 * import { writeRejection } from '@tenant/core';
 *
 * const decision = await tenancy.handle(request);
 * if (!decision.ok) return writeRejection(res, decision);
 * ```
 */
export function writeRejection(res: ServerResponse, rejection: TenantRejected): void {
  if (res.headersSent) return;
  const body = JSON.stringify(rejection.body);
  res.statusCode = rejection.status;
  for (const [name, value] of Object.entries(rejection.headers)) res.setHeader(name, value);
  res.setHeader('content-length', byteLength(body));
  res.end(body);
}

/**
 * After the response, settles an admitted decision's quota with the actual
 * cost (`actualCost(request, response)`). Runs once, on `finish` or `close`
 * of `res`, whichever comes first; never throws (a throwing `actualCost`, or
 * a pipeline whose `settle` fails, is reported as a `TenantWarning` (`process.emitWarning`),
 * and the estimate stands). Costs
 * nothing when there is nothing to settle: no `actualCost`, no tenant, or
 * no quota ticket.
 *
 * @param view Where to read the status and headers, when not from `res`
 *   (for example fastify's `reply`). @default res
 */
export function settleOnFinish(
  tenancy: Tenancy,
  decision: TenantDecision,
  request: TenantRequest,
  res: ServerResponse,
  actualCost?: AdapterExtras['actualCost'],
  view: TenantResponseView = res,
): void {
  if (actualCost === undefined || !decision.ok || decision.tenant === undefined || decision.quota?.ticket === undefined) return;
  let done = false;
  const settle = (): void => {
    if (done) return;
    done = true;
    res.off('finish', settle);
    res.off('close', settle);
    settleActualCost(tenancy, decision, request, view, actualCost);
  };
  res.once('finish', settle);
  res.once('close', settle);
}
