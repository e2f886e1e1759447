/**
 * The neutral view of an HTTP request that adapters build and the pipeline
 * reads. Adapters translate their framework's request into this shape once;
 * nothing else of the framework reaches the core.
 */
export interface TenantRequest {
  /** The HTTP method, upper-case. */
  readonly method: string;
  /**
   * The path, without the query string, as received (not decoded). The
   * pipeline's `policyRequest` and `cost` receive the canonical path here
   * instead (see `RoutedRequest` in `@tenant/core`).
   */
  readonly path: string;
  /** The raw query string, without the leading `?` (empty when none). */
  readonly query: string;
  /**
   * The host the client asked for, as the framework reports it (it may carry
   * a port). Adapters decide whether proxy headers are trusted.
   */
  readonly host: string | undefined;
  /**
   * A header value by lower-case name; repeated headers arrive joined by the
   * framework's rules (usually `, `).
   */
  header(name: string): string | undefined;
  /**
   * The verified identity of the caller, when authentication ran before
   * tenancy (for example a decoded, verified JWT). Read by claim resolvers.
   */
  readonly principal?: unknown;
  /**
   * The route pattern the framework matched for this request, such as
   * `/projects/:id/export`, when it is known at decision time (fastify's
   * `request.routeOptions.url`; express's `req.route.path` and koa-router's
   * `ctx._matchedRoute` when tenancy runs inside the route).
   * @default undefined (not known)
   */
  readonly route?: string;
  /**
   * How the framework's router matches paths, so that the canonical path
   * given to `policyRequest` and `cost` names what the router routes.
   * Adapters fill it from the app's settings where they can.
   * @default undefined (see {@link PathRouting} for the defaults)
   */
  readonly routing?: PathRouting;
}

/**
 * How a router matches request paths. The canonical path (`canonicalPath`
 * in `@tenant/core`) treats as one path what the router treats as one
 * route. Every field is optional; the defaults are those of a lax router
 * (the safer guess: a policy keyed on a path then also covers the
 * variants such a router would send to it).
 */
export interface PathRouting {
  /**
   * Whether `/Chat` and `/chat` are different routes (express `case
   * sensitive routing`, fastify `caseSensitive`). When false, the canonical
   * path is lower-case.
   * @default false
   */
  readonly caseSensitive?: boolean;
  /**
   * Whether `/chat/` and `/chat` are different routes (express `strict
   * routing`, fastify: not `ignoreTrailingSlash`). When false, the canonical
   * path has no trailing slash (except `/`).
   * @default false
   */
  readonly strict?: boolean;
  /**
   * Whether the router reads `//` as `/` (fastify `ignoreDuplicateSlashes`).
   * When true, the canonical path has no empty segment.
   * @default true
   */
  readonly mergeSlashes?: boolean;
  /**
   * Whether the router ends the path at the first `;` (fastify
   * `useSemicolonDelimiter`). When true, the canonical path stops there.
   * @default false
   */
  readonly semicolonDelimiter?: boolean;
}

/** Something that may be a promise. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Finds the tenant id a request asks for. Resolvers return the raw candidate
 * id or `undefined` when the request does not carry one in their way; the
 * pipeline validates the id. A resolver may throw a `TenantError` (for
 * example `tenant_invalid` for an ambiguous value) to stop resolution.
 */
export interface TenantResolver {
  /** A short name for logs, hooks and metrics, such as `header` or `subdomain`. */
  readonly name: string;
  resolve(request: TenantRequest): MaybePromise<string | undefined>;
}
