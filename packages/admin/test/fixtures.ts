import type { TenantStore } from '@tenant/core';
import { createTenantAdmin, type AdminAuditEntry, type AdminErrorEvent, type AdminRequest, type TenantAdminOptions } from '../src/index.js';

export interface Actor {
  readonly id: string;
  readonly role: 'admin' | 'viewer';
}

/** Bearer tokens the test authorize() knows. */
export const TOKENS: Record<string, Actor> = {
  'admin-token': { id: 'alice', role: 'admin' },
  'viewer-token': { id: 'victor', role: 'viewer' },
};

export const ADMIN = { authorization: 'Bearer admin-token' } as const;
export const VIEWER = { authorization: 'Bearer viewer-token' } as const;
export const JSON_CT = { 'content-type': 'application/json' } as const;

/** Role-based: viewers only read. Unknown tokens are unauthenticated (401). */
export const authorize: TenantAdminOptions<Actor>['authorize'] = ({ header, action }) => {
  const token = /^Bearer (.+)$/.exec(header('authorization') ?? '')?.[1];
  const actor = token === undefined ? undefined : TOKENS[token];
  if (actor === undefined) return undefined;
  if (actor.role === 'viewer' && !['tenant.list', 'tenant.get', 'tenant.domains.list'].includes(action)) return false;
  return actor;
};

/** An admin over `store` with the test authorize, collecting audits and errors. */
export function makeAdmin(store: TenantStore, options: Partial<TenantAdminOptions<Actor>> = {}) {
  const audits: AdminAuditEntry<Actor>[] = [];
  const errors: AdminErrorEvent[] = [];
  const admin = createTenantAdmin<Actor>({
    store,
    authorize,
    audit: (entry) => {
      audits.push(entry);
    },
    onError: (event) => {
      errors.push(event);
    },
    ...options,
  });
  /** Calls the admin as the admin actor, with a JSON body when given. */
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const request: AdminRequest = {
      method,
      path,
      headers: { ...ADMIN, ...(body === undefined ? {} : JSON_CT), ...headers },
      ...(body === undefined ? {} : { rawBody: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
    return admin.handle(request);
  };
  return { admin, audits, errors, call };
}
