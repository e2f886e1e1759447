import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Express } from 'express';
import { fromClaim, requireTenant, type TenantStore } from '@tenant/core';
import { tenancy } from '@tenant/express';

/** What a verified API key says about its caller. */
export interface ApiKeyPrincipal {
  readonly tenant_id: string;
  readonly keyId: string;
}

/** API keys, stored as SHA-256 hashes only: a leaked table gives no usable key. */
export interface Keyring {
  issue(tenantId: string): Promise<{ keyId: string; key: string }>;
  verify(key: string): Promise<ApiKeyPrincipal | undefined>;
  revoke(keyId: string): Promise<void>;
}

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

/** In memory here; in production, a table `api_keys (hash primary key, key_id, tenant_id, revoked_at)`. */
export function createKeyring(): Keyring {
  const byHash = new Map<string, ApiKeyPrincipal & { revoked: boolean }>();
  return {
    async issue(tenantId) {
      const keyId = randomBytes(4).toString('hex');
      const key = `tk_${keyId}_${randomBytes(32).toString('base64url')}`; // 256 random bits: no salt needed
      byHash.set(sha256(key), { tenant_id: tenantId, keyId, revoked: false });
      return { keyId, key }; // shown once, never stored
    },
    async verify(key) {
      const entry = byHash.get(sha256(key));
      return entry === undefined || entry.revoked ? undefined : { tenant_id: entry.tenant_id, keyId: entry.keyId };
    },
    async revoke(keyId) {
      for (const entry of byHash.values()) if (entry.keyId === keyId) entry.revoked = true;
    },
  };
}

/** The bearer token of an `Authorization` header, if any. */
export const bearer = (header: string | undefined) => /^Bearer ([\w-]{1,200})$/.exec(header ?? '')?.[1];

/** A 401 problem body: no key, or a key that is unknown or revoked. */
export const UNAUTHORIZED = { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'A valid API key is required' };

/** An API where the key alone names the tenant: no header can choose another one. */
export function createApiKeyApp(store: TenantStore, keyring: Keyring): Express {
  const principals = new WeakMap<IncomingMessage, ApiKeyPrincipal>();
  const app = express();

  // 1. Authentication (yours: API keys here; JWTs or sessions work the same way).
  app.use(async (req, res, next) => {
    const key = bearer(req.get('authorization'));
    const principal = key === undefined ? undefined : await keyring.verify(key);
    if (principal === undefined) {
      res.status(401).set({ 'www-authenticate': 'Bearer', 'content-type': 'application/problem+json' }).send(JSON.stringify(UNAUTHORIZED));
      return;
    }
    principals.set(req, principal);
    next();
  });

  // 2. Tenancy reads the verified principal only: the tenant is the key's, whatever the headers say.
  app.use(tenancy({ store, principal: (req) => principals.get(req), resolve: fromClaim('tenant_id') }));

  app.get('/v1/whoami', (req, res) => {
    res.json({ tenant: requireTenant().id, keyId: principals.get(req)?.keyId });
  });
  return app;
}
