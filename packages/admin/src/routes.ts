import type { AdminAction } from './types.js';

/** The route a request matched, with its raw (still encoded) path parameters. */
export type RouteMatch =
  | { readonly kind: 'route'; readonly action: AdminAction; readonly id: string | undefined; readonly domain: string | undefined }
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not_found' };

type Methods = Readonly<Record<string, AdminAction>>;

const COLLECTION: Methods = { GET: 'tenant.list', POST: 'tenant.create' };
const TENANT: Methods = { GET: 'tenant.get', PATCH: 'tenant.update', DELETE: 'tenant.delete' };
const SUB: Readonly<Record<string, Methods>> = {
  restore: { POST: 'tenant.restore' },
  suspend: { POST: 'tenant.suspend' },
  resume: { POST: 'tenant.resume' },
  quota: { PUT: 'tenant.quota.set' },
  policy: { PUT: 'tenant.policy.set' },
  domains: { GET: 'tenant.domains.list', POST: 'tenant.domains.add' },
};
const DOMAIN: Methods = { DELETE: 'tenant.domains.remove' };

/**
 * Matches a path relative to the mount point (`/tenants/acme/quota`) and a
 * method against the admin routes. Paths are matched exactly: no trailing
 * slash, no empty segment.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const segments = path.split('/');
  if (segments[0] !== '' || segments[1] !== 'tenants' || segments.some((segment, i) => i > 0 && segment === '')) return { kind: 'not_found' };
  const [, , id, sub, domain, ...rest] = segments;
  let methods: Methods | undefined;
  if (id === undefined) methods = COLLECTION;
  else if (sub === undefined) methods = TENANT;
  else if (domain === undefined) methods = Object.hasOwn(SUB, sub) ? SUB[sub] : undefined;
  else if (sub === 'domains' && rest.length === 0) methods = DOMAIN;
  if (methods === undefined) return { kind: 'not_found' };
  const action = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (action === undefined) return { kind: 'method_not_allowed', allow: Object.keys(methods) };
  return { kind: 'route', action, id, domain };
}
