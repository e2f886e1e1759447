import type { PathRouting } from '@tenant/interfaces';

/** Options of `toTenantRequest` (node:http) and `toFetchTenantRequest` (fetch). */
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
export function hostOfTarget(url: string): string | undefined {
  const absolute = ABSOLUTE_FORM.exec(url);
  if (absolute === null) return undefined;
  const authority = absolute[1] as string;
  // User-info (`user@host`) has no place in a request target: keep the raw
  // authority, which host normalization refuses.
  return authority.length === 0 ? undefined : authority;
}
