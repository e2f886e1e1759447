import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSaasApp, migrate, type AppDatabase } from '../src/subdomain-saas.js';
import { listen, problem, sendRequest, type StartedServer } from './http.js';

describe('recipe: subdomain SaaS (express, SQLite)', () => {
  let db: Kysely<AppDatabase>;
  let server: StartedServer;
  const send = (host: string, path: string, body?: unknown) =>
    sendRequest(server.url, {
      method: body === undefined ? 'GET' : 'POST',
      path,
      headers: { host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    db = new Kysely<AppDatabase>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    await migrate(db);
    server = await listen(createServer(createSaasApp(db)));
  });
  afterAll(async () => {
    await server.close();
    await db.destroy();
  });

  it('signs tenants up on the central host, with a custom domain', async () => {
    const acme = await send('app.example.com', '/signup', { slug: 'acme', domain: 'projects.acme.com' });
    expect(acme.status).toBe(201);
    expect(acme.json()).toEqual({ id: 'acme', url: 'https://acme.app.example.com/' });
    expect((await send('www.app.example.com', '/signup', { slug: 'globex' })).status).toBe(201);
  });

  it('refuses bad, taken and duplicate sign-ups with problem+json', async () => {
    expect(problem(await send('app.example.com', '/signup', { slug: 'Not Valid!' })).code).toBe('tenant_invalid');
    const taken = await send('app.example.com', '/signup', { slug: 'acme' });
    expect([taken.status, problem(taken).code]).toEqual([409, 'tenant_exists']);
    expect(problem(await send('app.example.com', '/signup', { slug: 'initech', domain: 'projects.acme.com' })).code).toBe('domain_taken');
    // a tenant host is not the place to sign up
    expect((await send('acme.app.example.com', '/signup', { slug: 'other' })).status).toBe(404);
  });

  it('keeps each tenant to its own rows, by subdomain and by custom domain', async () => {
    expect((await send('acme.app.example.com', '/projects', { name: 'rocket' })).json()).toMatchObject({ name: 'rocket', tenant: 'acme' });
    expect((await send('globex.app.example.com', '/projects', { name: 'magnet' })).status).toBe(201);
    expect((await send('acme.app.example.com', '/projects')).json()).toEqual([expect.objectContaining({ name: 'rocket' })]);
    expect((await send('projects.acme.com:443', '/projects')).json()).toEqual([expect.objectContaining({ name: 'rocket' })]);
    expect((await send('globex.app.example.com', '/projects')).json()).toEqual([expect.objectContaining({ name: 'magnet' })]);
    // the rows carry the tenant, set by the plugin
    const rows = await db.selectFrom('projects').select(['tenant_id', 'name']).orderBy('name').execute();
    expect(rows).toEqual([
      { tenant_id: 'globex', name: 'magnet' },
      { tenant_id: 'acme', name: 'rocket' },
    ]);
  });

  it('refuses unknown subdomains and domains, and needs no tenant for /health', async () => {
    expect(problem(await send('nobody.app.example.com', '/projects')).code).toBe('tenant_not_found');
    expect(problem(await send('unknown.example.org', '/projects')).code).toBe('tenant_missing');
    expect((await send('unknown.example.org', '/health')).json()).toEqual({ status: 'ok' });
  });

  it('serves no tenant data on the central host (fails closed), and logs why', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const response = await send('app.example.com', '/projects');
      expect([response.status, problem(response).code]).toEqual([500, 'tenant_context_missing']);
      expect(problem(response).detail).toBeUndefined();
      expect(log).toHaveBeenCalledOnce();
    } finally {
      log.mockRestore();
    }
  });
});
