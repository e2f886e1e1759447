import { TenantError, type TenantRequest, type TenantResolver, type TenantStore, type MaybePromise } from '@tenant/interfaces';
import { normalizeHost } from './host.js';

/**
 * A resolver from a function: the building block for resolvers of your own.
 *
 * @example
 * ```ts
 * import { createResolver } from '@tenant/core';
 *
 * const fromApiKey = createResolver('api-key', async (req) => keys.tenantOf(req.header('x-api-key')));
 * ```
 */
export function createResolver(name: string, resolve: (request: TenantRequest) => MaybePromise<string | undefined>): TenantResolver {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('[@tenant/core] A resolver needs a name');
  if (typeof resolve !== 'function') throw new TypeError('[@tenant/core] A resolver needs a resolve function');
  return Object.freeze({ name, resolve });
}

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Reads the tenant id from a request header.
 *
 * A header is easy to forge: use it behind a gateway that sets it, or put a
 * verified claim resolver before it in a {@link chain}.
 *
 * @param name - The header name. @default 'x-tenant-id'
 */
export function fromHeader(name = 'x-tenant-id'): TenantResolver {
  const header = name.toLowerCase();
  if (!TOKEN.test(header)) throw new TypeError(`[@tenant/core] Not a valid header name: ${name}`);
  // Repeated headers arrive joined by ", ", which no id format accepts: they fail validation.
  return createResolver('header', (request) => emptyToUndefined(request.header(header)?.trim()));
}

/**
 * Reads the tenant id from a query parameter. A parameter given more than
 * once is refused (`tenant_invalid`) rather than guessed.
 *
 * @param name - The parameter name. @default 'tenant'
 */
export function fromQuery(name = 'tenant'): TenantResolver {
  return createResolver('query', (request) => {
    if (request.query.length === 0) return undefined;
    const values = new URLSearchParams(request.query).getAll(name);
    if (values.length > 1) throw new TenantError('tenant_invalid', `[@tenant/core] Query parameter "${name}" is given more than once`);
    return emptyToUndefined(values[0]);
  });
}

/** Options of {@link fromPath}. */
export interface PathResolverOptions {
  /**
   * The path prefix before the tenant segment, such as `/t` for `/t/acme/...`.
   * @default '' (the first segment: `/acme/...`)
   */
  readonly prefix?: string;
}

/**
 * Reads the tenant id from the path segment after `prefix`: with prefix
 * `/t`, `/t/acme/orders` gives `acme`. The segment is percent-decoded, so
 * an encoded `/` or `.` fails id validation instead of passing through.
 */
export function fromPath(options: PathResolverOptions = {}): TenantResolver {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  if (prefix !== '' && !prefix.startsWith('/')) throw new TypeError('[@tenant/core] fromPath prefix must start with "/"');
  const start = prefix + '/';
  return createResolver('path', (request) => {
    if (!request.path.startsWith(start)) return undefined;
    const end = request.path.indexOf('/', start.length);
    const segment = request.path.slice(start.length, end === -1 ? undefined : end);
    if (segment.length === 0) return undefined;
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment; // malformed escapes fail validation
    }
  });
}

/** Options of {@link fromSubdomain}. */
export interface SubdomainResolverOptions {
  /** The domains tenants are subdomains of, such as `['example.com']`. */
  readonly baseDomains: readonly string[];
  /**
   * Subdomain labels that are not tenants (they resolve nothing).
   * @default ['www']
   */
  readonly ignore?: readonly string[];
}

/**
 * Reads the tenant id from the first label of a host under one of the base
 * domains: `acme.example.com` gives `acme`. Hosts with more than one label
 * before the base domain (`a.b.example.com`) and the base domain itself
 * resolve nothing.
 */
export function fromSubdomain(options: SubdomainResolverOptions): TenantResolver {
  const bases = (options.baseDomains ?? []).map((domain) => {
    const host = normalizeHost(domain);
    if (host === undefined) throw new TypeError(`[@tenant/core] fromSubdomain: not a domain name: ${String(domain)}`);
    return '.' + host;
  });
  if (bases.length === 0) throw new TypeError('[@tenant/core] fromSubdomain needs at least one base domain');
  const ignore = new Set((options.ignore ?? ['www']).map((label) => label.toLowerCase()));
  return createResolver('subdomain', (request) => {
    const host = normalizeHost(request.host);
    if (host === undefined) return undefined;
    for (const base of bases) {
      if (!host.endsWith(base)) continue;
      const label = host.slice(0, -base.length);
      if (label.length === 0 || label.includes('.') || ignore.has(label)) return undefined;
      return label;
    }
    return undefined;
  });
}

/**
 * Resolves the tenant that owns the request's host name, through the
 * store's domain index (custom domains: `shop.acme.com` → `acme`). Store
 * failures surface as `store_unavailable`.
 */
export function fromHost(store: Pick<TenantStore, 'getByDomain'>): TenantResolver {
  return createResolver('host', async (request) => {
    const host = normalizeHost(request.host);
    if (host === undefined) return undefined;
    try {
      return (await store.getByDomain(host))?.id;
    } catch (cause) {
      if (TenantError.is(cause)) throw cause;
      throw new TenantError('store_unavailable', '[@tenant/core] The tenant store could not look up the host', { cause });
    }
  });
}

/**
 * Reads the tenant id from the verified principal (`request.principal`) that
 * authentication attached: by claim name, or with a function of your own.
 * This is the trustworthy source; put it first in a {@link chain}.
 *
 * @example
 * ```ts
 * import { chain, fromClaim, fromHeader } from '@tenant/core';
 *
 * const resolver = chain(fromClaim('tenant_id'), fromHeader());
 * const custom = fromClaim((principal) => (principal as { org?: string }).org);
 * ```
 */
export function fromClaim(claim: string | ((principal: unknown, request: TenantRequest) => MaybePromise<string | undefined>)): TenantResolver {
  if (typeof claim === 'function') {
    return createResolver('claim', (request) => (request.principal == null ? undefined : claim(request.principal, request)));
  }
  return createResolver('claim', (request) => {
    const principal = request.principal;
    if (typeof principal !== 'object' || principal === null || !Object.prototype.hasOwnProperty.call(principal, claim)) return undefined;
    const value = (principal as Record<string, unknown>)[claim];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new TenantError('tenant_invalid', `[@tenant/core] Claim "${claim}" is not a string`);
    return value;
  });
}

/**
 * Tries resolvers in order and takes the first id found. Order is priority:
 * put verified sources (claims) before forgeable ones (headers, query).
 * Decisions and hooks report the name of the member that matched.
 */
export function chain(...resolvers: readonly TenantResolver[]): ChainResolver {
  if (resolvers.length === 0) throw new TypeError('[@tenant/core] chain() needs at least one resolver');
  const list = Object.freeze(flattenResolvers(resolvers));
  return Object.freeze({
    name: 'chain',
    resolvers: list,
    resolve(request: TenantRequest) {
      const found = resolveWith(list, request);
      return isPromiseLike(found) ? Promise.resolve(found).then((f) => f?.id) : found?.id;
    },
  });
}

/** A resolver made by {@link chain}: it also exposes its members, in order (nested chains flattened). */
export interface ChainResolver extends TenantResolver {
  readonly resolvers: readonly TenantResolver[];
}

/** What {@link resolveWith} found: the raw id and the name of the resolver that found it. */
export interface ResolvedId {
  readonly id: string;
  readonly source: string;
}

/** Expands nested chains into one ordered list of resolvers. */
export function flattenResolvers(resolvers: readonly TenantResolver[]): TenantResolver[] {
  const flat: TenantResolver[] = [];
  for (const resolver of resolvers) {
    if (typeof resolver?.resolve !== 'function') throw new TypeError('[@tenant/core] Expected a resolver ({ name, resolve(request) })');
    const members = (resolver as Partial<ChainResolver>).resolvers;
    if (Array.isArray(members)) flat.push(...flattenResolvers(members));
    else flat.push(resolver);
  }
  return flat;
}

/**
 * Runs resolvers in order and returns the first id found with its source
 * (`undefined` and `null` mean "not found": the next resolver is tried).
 * Synchronous while the resolvers are; a promise from the first one that is not.
 */
export function resolveWith(resolvers: readonly TenantResolver[], request: TenantRequest, from = 0): MaybePromise<ResolvedId | undefined> {
  for (let i = from; i < resolvers.length; i += 1) {
    const resolver = resolvers[i] as TenantResolver;
    const id = resolver.resolve(request);
    if (isPromiseLike(id)) {
      return Promise.resolve(id).then((value) =>
        value != null ? { id: value, source: resolver.name } : resolveWith(resolvers, request, i + 1),
      );
    }
    // `null` (what many lookups return for "none") counts as not found, like `undefined`.
    if (id != null) return { id, source: resolver.name };
  }
  return undefined;
}

/** Whether a value is a promise or another thenable. */
export function isPromiseLike<T>(value: MaybePromise<T> | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.length === 0 ? undefined : value;
}
