import type { IncomingMessage } from 'node:http';
import type { TenantRequest } from '@tenant/interfaces';

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
  const { path, query } = splitUrl(req.url ?? '/');
  const headers = req.headers;
  const forwarded = options.trustProxy === true ? headers['x-forwarded-host'] : undefined;
  const host = typeof forwarded === 'string' && forwarded.length > 0 ? forwarded.split(',')[0]?.trim() : (headers.host ?? (headers[':authority'] as string | undefined));
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
  };
  return view;
}

/** Splits a request target into path and query (origin-form or absolute-form). */
export function splitUrl(url: string): { readonly path: string; readonly query: string } {
  let target = url;
  if (!target.startsWith('/')) {
    try {
      const parsed = new URL(target);
      target = parsed.pathname + parsed.search;
    } catch {
      return { path: target, query: '' };
    }
  }
  const q = target.indexOf('?');
  if (q === -1) return { path: target, query: '' };
  const hash = target.indexOf('#', q);
  return { path: target.slice(0, q), query: target.slice(q + 1, hash === -1 ? undefined : hash) };
}
