import type { PathRouting, QuotaCost, TenantDecision, TenantRequest } from '@tenant/interfaces';
import { routedRequest, type RoutedRequest } from './path.js';
import { isPromiseLike } from './resolvers.js';
import { emitTenantWarning } from './runtime.js';
import { createTenancy, type AuthorizeInput, type Tenancy, type TenancyOptions } from './pipeline.js';

/**
 * What an adapter needs to know of a finished response: its status and its
 * headers. A `node:http` `ServerResponse` is one; an adapter whose framework
 * keeps headers elsewhere (fastify's `reply`) passes its own view, and the
 * fetch helpers pass a view of the Web `Response`.
 */
export interface TenantResponseView {
  /** The status code sent (or about to be sent). */
  readonly statusCode: number;
  /** A response header by name (case-insensitive). */
  getHeader(name: string): number | string | readonly string[] | undefined;
}

/**
 * What every adapter accepts besides the pipeline, generic over the request
 * type the framework hands to `principal`: `IncomingMessage` for the
 * `node:http` adapters (the default of `@tenant/core`'s main entry), the Web
 * `Request` for fetch adapters (`@tenant/core/fetch`). `Args` are the
 * further arguments an adapter passes to `principal` (none by default; the
 * fetch wrapper passes the runtime's extra arguments, `@tenant/hono` the
 * Hono context).
 */
export interface BaseAdapterExtras<Req, Args extends unknown[] = []> {
  /**
   * The real cost of a request, known after the response (for example the
   * tokens a model used, read from a response header): settled against the
   * estimate that `cost` charged up front. Return `undefined` to keep the
   * estimate. Like `cost`, it receives the request with its canonical path
   * (see `RoutedRequest`). Called once per admitted request whose tenant has
   * a quota: after the response (`node:http`), or once its body has been
   * read to the end or cancelled (fetch).
   * Headers given to `res.writeHead(status, headers)` cannot be read back by
   * `node:http`: set the header you read here with `setHeader` (express
   * `res.set`, koa `ctx.set`, fastify `reply.header`).
   * @default undefined (estimates stand)
   */
  readonly actualCost?: (request: RoutedRequest, response: TenantResponseView) => QuotaCost | undefined;
  /**
   * The verified identity of the caller, read from the framework's request
   * once authentication ran (for claim resolvers, `fromClaim`).
   * @default undefined (no principal)
   */
  readonly principal?: (req: Req, ...args: Args) => unknown;
  /**
   * Take the host from `X-Forwarded-Host`. Only behind a proxy that sets it:
   * otherwise any client can choose its tenant by host.
   * @default false
   */
  readonly trustProxy?: boolean;
  /**
   * How your router matches paths, when the adapter cannot read it from the
   * app (koa, a sub-router with its own settings): it decides the canonical
   * path that `policyRequest`, `cost` and `actualCost` receive. Fields given
   * here override what the adapter read (express: `case sensitive routing`,
   * `strict routing`; fastify: `caseSensitive`, `ignoreTrailingSlash`,
   * `ignoreDuplicateSlashes`, `useSemicolonDelimiter`; hono: `strict`).
   * Declare the loosest router of the app: a policy keyed on a path then
   * covers every variant some router sends to it.
   * @default undefined (what the adapter read, else a lax router: see `PathRouting`)
   */
  readonly routing?: PathRouting;
}

/** What an adapter knows of how its framework routes a request, for `adapterRequest` and `adapterFetchRequest`. */
export interface AdapterRouting {
  /** The route pattern matched, when known at decision time (fastify `request.routeOptions.url`). */
  readonly route?: string | undefined;
  /** How the framework's router matches paths, read from the app's settings. */
  readonly routing?: PathRouting | undefined;
}

/**
 * The routing of a request view: the adapter options' own `routing` fields
 * win over what the adapter read from the framework.
 */
export function mergeRouting(options: { readonly routing?: PathRouting | undefined }, routed: AdapterRouting): PathRouting | undefined {
  return options.routing === undefined ? routed.routing : routed.routing === undefined ? options.routing : overRouting(routed.routing, options.routing);
}

/** The routing an adapter read, with the fields the options declare (those not `undefined`) over it. */
function overRouting(read: PathRouting, declared: PathRouting): PathRouting {
  const merged: Record<string, boolean | undefined> = { ...read };
  for (const [key, value] of Object.entries(declared)) if (value !== undefined) merged[key] = value as boolean;
  return merged as PathRouting;
}

/**
 * Options every adapter accepts, generic over the framework's request type:
 * the pipeline's own options (a `store` is required), or an existing
 * pipeline as `{ tenancy }`; plus {@link BaseAdapterExtras}.
 */
export type BaseAdapterOptions<Req, Args extends unknown[] = []> = (TenancyOptions | { readonly tenancy: Tenancy }) & BaseAdapterExtras<Req, Args>;

const ADAPTER_KEYS = new Set(['tenancy', 'actualCost', 'principal', 'trustProxy', 'routing']);
const ROUTING_KEYS = ['caseSensitive', 'strict', 'mergeSlashes', 'semicolonDelimiter'];

/**
 * The pipeline an adapter runs: the one given as `{ tenancy }`, or a new one
 * built from the pipeline options. Checks the adapter's own options.
 *
 * @throws TypeError when the options are not an object, when `tenancy` is
 * not a pipeline or comes with pipeline options beside it, or when
 * `actualCost` / `principal` are not functions.
 *
 * @example
 * ```ts
 * import { tenancyFrom } from '@tenant/core';
 *
 * export function myAdapter(options: AdapterOptions) {
 *   const tenancy = tenancyFrom(options);
 *   // ...
 * }
 * ```
 */
export function tenancyFrom<Req, Args extends unknown[] = []>(options: BaseAdapterOptions<Req, Args>): Tenancy {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('[@tenant/core] Adapter options must be an object: { store, ... } or { tenancy }');
  }
  const { actualCost, principal, trustProxy } = options;
  if (actualCost !== undefined && typeof actualCost !== 'function') throw new TypeError('[@tenant/core] actualCost must be a function');
  if (principal !== undefined && typeof principal !== 'function') throw new TypeError('[@tenant/core] principal must be a function');
  if (trustProxy !== undefined && typeof trustProxy !== 'boolean') throw new TypeError('[@tenant/core] trustProxy must be a boolean');
  const { routing } = options;
  if (routing !== undefined) {
    if (typeof routing !== 'object' || routing === null) throw new TypeError('[@tenant/core] routing must be an object such as { caseSensitive: true, strict: false }');
    for (const [key, value] of Object.entries(routing)) {
      if (!ROUTING_KEYS.includes(key)) throw new TypeError(`[@tenant/core] routing has no option ${key} (${ROUTING_KEYS.join(', ')})`);
      if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`[@tenant/core] routing.${key} must be a boolean`);
    }
  }
  if ('tenancy' in options && options.tenancy !== undefined) {
    const { tenancy } = options;
    if (typeof tenancy !== 'object' || tenancy === null || typeof tenancy.handle !== 'function' || typeof tenancy.run !== 'function' || typeof tenancy.settle !== 'function') {
      throw new TypeError('[@tenant/core] tenancy must be a pipeline made by createTenancy()');
    }
    const extra = Object.keys(options).filter((key) => !ADAPTER_KEYS.has(key));
    if (extra.length > 0) {
      throw new TypeError(`[@tenant/core] Give either { tenancy } or the pipeline options, not both (found ${extra.join(', ')} beside tenancy)`);
    }
    // A pipeline made before `decide` existed: its `handle` serves.
    if (typeof tenancy.decide !== 'function') return Object.freeze({ ...tenancy, decide: (request: TenantRequest, input?: AuthorizeInput) => tenancy.handle(request, input) });
    return tenancy;
  }
  return createTenancy(options as TenancyOptions);
}

/**
 * Decides a request and hands the decision to `apply`: at once when the
 * pipeline decided without a promise (see {@link Tenancy.decide}), or when
 * its promise settles. In the second case `fail` receives what rejects
 * (`decide` itself never rejects; a pipeline of another make might).
 *
 * @example
 * ```ts
 * import { withDecision } from '@tenant/core';
 *
 * withDecision(pipeline, request, (decision) => {
 *   if (!decision.ok) return writeRejection(res, decision);
 *   pipeline.run(decision, next);
 * }, next);
 * ```
 */
export function withDecision(
  tenancy: Tenancy,
  request: TenantRequest,
  apply: (decision: TenantDecision) => void,
  // typed as a promise's rejection handler is, so that framework callbacks (`next`, fastify's `done`) fit
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fail: (error: any) => void,
): void {
  const decided = tenancy.decide(request);
  if (isPromiseLike(decided)) Promise.resolve(decided).then(apply, fail);
  else apply(decided);
}

/**
 * Settles an admitted decision's quota with `actualCost(request, view)`;
 * never throws (a throwing `actualCost`, or a pipeline whose `settle` fails,
 * is reported as a `TenantWarning`, and the estimate stands). The adapter
 * helpers call it once the response is complete.
 */
export function settleActualCost(
  tenancy: Tenancy,
  decision: TenantDecision,
  request: TenantRequest,
  view: TenantResponseView,
  actualCost: NonNullable<BaseAdapterExtras<unknown>['actualCost']>,
): void {
  const warn = (error: unknown): void => {
    emitTenantWarning(`[@tenant/core] Settling the actual cost failed; the estimate stands: ${error instanceof Error ? error.message : String(error)}`);
  };
  try {
    const actual = actualCost(routedRequest(request), view);
    // createTenancy's settle never rejects; a pipeline of another make might throw or reject
    if (actual !== undefined) Promise.resolve(tenancy.settle(decision, actual)).catch(warn);
  } catch (error) {
    warn(error);
  }
}
