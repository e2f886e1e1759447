import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { ColumnType, Kysely } from 'kysely';
import { chain, createTenancy, fromHost, fromSubdomain, requireTenant, writeRejection } from '@tenant/core';
import { createCachedTenantStore } from '@tenant/cache';
import { tenancy } from '@tenant/express';
import { createSqlTenantStore, migrateTenantStore, withTenantScope } from '@tenant/store-sql';

/** The application's own tables: every tenant table has a `tenant_id` that the plugin fills and filters. */
export interface AppDatabase {
  projects: {
    id: string;
    // set by the plugin on insert, never by the application, never updated
    tenant_id: ColumnType<string, string | undefined, never>;
    name: string;
  };
}

/** The tenant store's tables, then the application's (one shared table, row-level isolation). */
export async function migrate(db: Kysely<AppDatabase>): Promise<void> {
  await migrateTenantStore(db);
  await db.schema
    .createTable('projects')
    .ifNotExists()
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('projects_tenant_id').ifNotExists().on('projects').column('tenant_id').execute();
}

/**
 * A SaaS on `<tenant>.app.example.com` and on custom domains, with sign-up on
 * the central host `app.example.com`.
 */
export function createSaasApp(db: Kysely<AppDatabase>, baseDomain = 'app.example.com'): Express {
  // Tenant configs in SQL, with a read-through cache: a request costs no query.
  const store = createCachedTenantStore(createSqlTenantStore({ db }), { ttlMs: 30_000 });
  const pipeline = createTenancy({
    store,
    // acme.app.example.com first, then custom domains (projects.acme.com) through the store's domain index.
    resolve: chain(fromSubdomain({ baseDomains: [baseDomain] }), fromHost(store)),
    // The central host serves sign-up and marketing, with no tenant.
    centralHosts: [baseDomain, `www.${baseDomain}`],
    skipPaths: ['/health'],
  });
  // Every query on `projects` gets `tenant_id = <current tenant>`.
  const appDb = withTenantScope(db, { tables: ['projects'] });

  const app = express();
  app.use(tenancy({ tenancy: pipeline }));
  app.use(express.json({ limit: '16kb' }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Central host only: a new tenant, its subdomain, and optionally a custom domain.
  app.post('/signup', async (req, res) => {
    if (req.tenant !== undefined) return void res.status(404).end();
    const { slug, domain } = req.body as { slug?: unknown; domain?: unknown };
    const tenant = await store.create({
      id: String(slug), // validated by the store: 400 tenant_invalid, 409 tenant_exists
      plan: 'free',
      domains: typeof domain === 'string' ? [domain] : [], // 409 domain_taken
    });
    res.status(201).json({ id: tenant.id, url: `https://${tenant.id}.${baseDomain}/` });
  });

  // Tenant hosts: the tenant's own projects, and nobody else's.
  app.get('/projects', async (_req, res) => {
    res.json(await appDb.selectFrom('projects').select(['id', 'name']).orderBy('name').execute());
  });
  app.post('/projects', async (req, res) => {
    const project = { id: randomUUID(), name: String((req.body as { name?: unknown }).name).slice(0, 200) };
    await appDb.insertInto('projects').values(project).execute();
    res.status(201).json({ ...project, tenant: requireTenant().id });
  });

  // TenantErrors from the store (and from tenant-scoped code) become the pipeline's problem+json.
  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const rejection = pipeline.reject(error);
    if (rejection.status >= 500) console.error(req.method, req.path, error); // the body never says why
    writeRejection(res, rejection);
  };
  app.use(onError);
  return app;
}
