/**
 * The neutral view of an HTTP request that adapters build and the pipeline
 * reads. Adapters translate their framework's request into this shape once;
 * nothing else of the framework reaches the core.
 */
export interface TenantRequest {
  /** The HTTP method, upper-case. */
  readonly method: string;
  /** The path, without the query string, as received (not decoded). */
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
