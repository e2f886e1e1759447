import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createTenantAdmin, type AdminAuditEntry } from '@tenant/admin';
import type { TenantStore } from '@tenant/core';
import type { AppDatabase } from './db.js';

/** Who called the admin API: here, whoever holds the admin token. */
export interface AdminActor {
  readonly id: 'admin-token';
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares a bearer token in constant time (both sides hashed first, so lengths do not leak either). */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

export interface AdminRoutesOptions {
  /** The tenant store the pipeline reads: writes go through it, so its caches are invalidated at once. */
  readonly store: TenantStore;
  readonly database: AppDatabase;
  /** The bearer token that opens the admin API. */
  readonly token: string;
  /** Where the routes are mounted. @default '/admin' */
  readonly prefix?: string;
}

/**
 * Mounts `@tenant/admin` under `/admin`: tenant registration, suspension,
 * quota and policy changes, behind a bearer token. The admin API does its own
 * body handling (content type, size, JSON, field errors), so this scope hands
 * it the raw body. Every write is recorded in the `audit_log` table.
 */
export async function registerAdmin(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const { store, database, token } = options;
  const prefix = options.prefix ?? '/admin';
  const admin = createTenantAdmin<AdminActor>({
    store,
    authorize: ({ header }) => (bearerMatches(header('authorization'), token) ? { id: 'admin-token' } : undefined),
    audit: (entry: AdminAuditEntry<AdminActor>) =>
      database.db
        .insertInto('audit_log')
        .values({
          at: entry.at,
          actor: entry.actor.id,
          action: entry.action,
          target_tenant: entry.tenantId,
          before_version: entry.before?.version ?? null,
          after_version: entry.after.version,
        })
        .execute()
        .then(() => undefined),
    // a failed audit insert does not undo the write: it is reported here
    onError: (event) => console.error(`[example-saas] admin ${event.phase} failure (${event.action ?? 'no action'}${event.tenantId ? `, tenant ${event.tenantId}` : ''}):`, event.error),
  });

  await app.register(
    async (scope) => {
      // the raw body, whatever its type: the admin API checks it (415, 413, 400 with field errors)
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: admin.maxBodyBytes + 1 }, (_request, body, done) => done(null, body));
      scope.all('/*', async (request, reply) => {
        const response = await admin.handle({
          method: request.method,
          path: request.url.slice(prefix.length), // raw, query included: the admin API splits and decodes it
          headers: request.headers,
          ...(Buffer.isBuffer(request.body) ? { rawBody: request.body } : {}),
        });
        void reply.code(response.status).headers(response.headers);
        return response.body === undefined ? reply.send() : reply.send(Buffer.from(JSON.stringify(response.body)));
      });
    },
    { prefix },
  );
}
