import type { IncomingMessage } from 'node:http';
import type { TenantRequest } from '@tenant/interfaces';
import { hostOfTarget, splitUrl, type ToTenantRequestOptions } from './url.js';

export { splitUrl, type ToTenantRequestOptions } from './url.js';

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
  const view: { -readonly [K in keyof TenantRequest]: TenantRequest[K] } = {
    method: (req.method ?? 'GET').toUpperCase(),
    path,
    query,
    host,
    header(name: string) {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
  // assigned rather than spread into the literal (V8's slow path for spreads); present only when given
  if (options.principal !== undefined) view.principal = options.principal;
  if (options.route !== undefined) view.route = options.route;
  if (options.routing !== undefined) view.routing = options.routing;
  return view;
}
