import type { IncomingMessage } from 'node:http';
import type { PathRouting, TenantRequest } from '@tenant/interfaces';

/** Options of {@link toTenantRequest}. */
export interface ToTenantRequestOptions {
  /** The verified principal, when authentication ran first. */
  readonly principal?: unknown;
  /**
   * Take the host from `X-Forwarded-Host` (first value) when present. Only
   * behind a proxy that sets it: otherwise any client can choose its tenant.
   * @default false
   */
  readonly trustProxy?: boolean;
  /** The route pattern the framework matched, when known (see `TenantRequest.route`). */
  readonly route?: string | undefined;
  /** How the framework's router matches paths (see `TenantRequest.routing`). */
  readonly routing?: PathRouting | undefined;
}

/**
 * Builds the neutral request view from a `node:http` request: the one
 * translation a `node:http` server (or a framework built on it) needs.
 *
 * @example
 * ```ts
 * import { toTenantRequest } from '@tenant/core';
 *
 * const decision = await tenancy.handle(toTenantRequest(req));
 * ```
 */
export function toTenantRequest(req: IncomingMessage, options: ToTenantRequestOptions = {}): TenantRequest {
  const url = req.url ?? '/';
  const { path, query } = splitUrl(url);
  const headers = req.headers;
  const forwarded = options.trustProxy === true ? headers['x-forwarded-host'] : undefined;
  const host =
    typeof forwarded === 'string' && forwarded.length > 0
      ? forwarded.split(',')[0]?.trim()
      : ((url.startsWith('/') ? undefined : hostOfTarget(url)) ?? headers.host ?? (headers[':authority'] as string | undefined));
  const view: TenantRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    path,
    query,
    host,
    header(name: string) {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    ...(options.principal === undefined ? {} : { principal: options.principal }),
    ...(options.route === undefined ? {} : { route: options.route }),
    ...(options.routing === undefined ? {} : { routing: options.routing }),
  };
  return view;
}

/** An absolute-form request target (`http://host/path`): scheme and authority, then the rest. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

/**
 * Splits a request target into path and query (origin-form or absolute-form).
 * The path is kept as received: dot-segments are not resolved, so that skip
 * rules see what the router will see (and refuse what is ambiguous).
 */
export function splitUrl(url: string): { readonly path: string; readonly query: string } {
  let target = url;
  if (!target.startsWith('/')) {
    const absolute = ABSOLUTE_FORM.exec(target);
    if (absolute === null) return { path: target, query: '' };
    target = target.slice(absolute[0].length);
    if (!target.startsWith('/')) target = '/' + target;
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const q = target.indexOf('?');
  if (q === -1) return { path: target, query: '' };
  return { path: target.slice(0, q), query: target.slice(q + 1) };
}

/** The host of an absolute-form target, which takes precedence over the Host header (RFC 9112, 3.2.2). */
function hostOfTarget(url: string): string | undefined {
  const absolute = ABSOLUTE_FORM.exec(url);
  if (absolute === null) return undefined;
  const authority = absolute[1] as string;
  // User-info (`user@host`) has no place in a request target: keep the raw
  // authority, which host normalization refuses.
  return authority.length === 0 ? undefined : authority;
}
