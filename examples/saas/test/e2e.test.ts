import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenantTransaction } from '@tenant/store-sql';
import { createSaasApp, type SaasApp } from '../src/app.js';
import { DEV_ADMIN_TOKEN, loadConfig } from '../src/config.js';
import { BACKENDS, type Backend } from './backends.js';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

interface Project {
  id: number;
  name: string;
}
interface Task {
  id: number;
  project_id: number;
  title: string;
  status: string;
}
interface Problem {
  code: string;
}

describe.each(BACKENDS)('saas example end to end: $name', (backendCase) => {
  let backend: Backend;
  let saas: SaasApp;
  let base: string;

  beforeAll(async () => {
    backend = await backendCase.setup();
    saas = await createSaasApp(loadConfig({ ...backend.env, ADMIN_TOKEN }));
    base = await saas.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await saas?.close();
    await backend?.teardown();
  });

  const call = (path: string, tenant: string | undefined, init: RequestInit = {}) =>
    fetch(base + path, {
      ...init,
      headers: { ...(tenant ? { 'x-tenant-id': tenant } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });
  const json = async <T>(response: Response | Promise<Response>, status: number): Promise<T> => {
    const res = await response;
    const text = await res.text();
    expect(res.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const send = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

  // Tenants of this test: registered through the admin API.
  const A = 'acme';
  const B = 'globex';
  const TINY = 'tiny';

  const asAdmin = (path: string, init: RequestInit = {}, token = ADMIN_TOKEN) =>
    call(`/admin${path}`, undefined, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

  it('keeps the admin API behind the token', async () => {
    for (const res of [
      await call('/admin/tenants', undefined),
      await call('/admin/tenants', undefined, send('POST', { id: 'intruder' })),
      await asAdmin('/tenants', {}, 'not-the-admin-token-at-all'),
      await asAdmin('/tenants', {}, DEV_ADMIN_TOKEN), // the development default is off once ADMIN_TOKEN is set
      await call('/admin/tenants', undefined, { headers: { authorization: ADMIN_TOKEN } }), // not a bearer
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as Problem).code).toBe('unauthorized');
    }
    // nothing was registered by the refused calls
    expect((await json<{ items: unknown[] }>(asAdmin('/tenants'), 200)).items).toEqual([]);
    expect((await json<Problem>(call('/projects', 'intruder'), 404)).code).toBe('tenant_not_found');
  });

  it('registers tenants through the admin API, and audits it', async () => {
    const acme = await json<{ id: string; version: number }>(
      asAdmin('/tenants', send('POST', { id: A, name: 'Acme', plan: 'pro', quota: { requests: { limit: 1_000, windowMs: 60_000 } }, policy: { features: ['projects', 'export'] } })),
      201,
    );
    expect(acme).toMatchObject({ id: A, version: 1 });
    await json(asAdmin('/tenants', send('POST', { id: B, name: 'Globex', plan: 'free', quota: { requests: { limit: 1_000, windowMs: 60_000 } }, policy: { features: ['projects'] } })), 201);
    await json(asAdmin('/tenants', send('POST', { id: TINY, plan: 'free', quota: { requests: { limit: 3, windowMs: 3_600_000 } } })), 201);
    // bad input: field errors, and nothing written
    const invalid = await json<{ code: string; errors: { field: string }[] }>(asAdmin('/tenants', send('POST', { id: 'bad', quota: { requests: { limit: -1 } } })), 400);
    expect(invalid.code).toBe('config_invalid');
    expect((await json<Problem>(asAdmin('/tenants', send('POST', { id: A })), 409)).code).toBe('tenant_exists');
    expect((await json<{ items: { id: string }[] }>(asAdmin('/tenants'), 200)).items.map((t) => t.id).sort()).toEqual([A, B, TINY]);

    expect(await json(call('/me', A), 200)).toMatchObject({ id: A, plan: 'pro' });
    const audit = await saas.database.db.selectFrom('audit_log').select(['actor', 'action', 'target_tenant', 'before_version', 'after_version']).orderBy('id').execute();
    expect(audit).toEqual([A, B, TINY].map((id) => ({ actor: 'admin-token', action: 'tenant.create', target_tenant: id, before_version: null, after_version: 1 })));
  });

  it('keeps each tenant to its own projects and tasks, whatever ids are tried', async () => {
    const a1 = await json<Project>(call('/projects', A, send('POST', { name: 'a one' })), 201);
    const b1 = await json<Project>(call('/projects', B, send('POST', { name: 'b one' })), 201);
    const a2 = await json<Project>(call('/projects', A, send('POST', { name: 'a two' })), 201);
    const aTask = await json<Task>(call(`/projects/${a1.id}/tasks`, A, send('POST', { title: 'a task' })), 201);
    const bTask = await json<Task>(call(`/projects/${b1.id}/tasks`, B, send('POST', { title: 'b task' })), 201);

    // Lists: each tenant sees its own rows only (the join of /tasks included).
    expect((await json<{ items: Project[] }>(call('/projects', A), 200)).items.map((p) => p.id)).toEqual([a1.id, a2.id]);
    expect((await json<{ items: Project[] }>(call('/projects', B), 200)).items.map((p) => p.id)).toEqual([b1.id]);
    expect((await json<{ items: Task[] }>(call('/tasks', B), 200)).items.map((t) => t.id)).toEqual([bTask.id]);
    expect((await json<{ items: Task[] }>(call(`/projects/${a1.id}/tasks`, A), 200)).items.map((t) => t.id)).toEqual([aTask.id]);

    // B tries A's ids on every route: not found, and nothing changes.
    const aProjects = [a1.id, a2.id];
    for (const id of aProjects) {
      expect((await call(`/projects/${id}`, B)).status).toBe(404);
      expect((await call(`/projects/${id}`, B, send('PATCH', { name: 'stolen' }))).status).toBe(404);
      expect((await call(`/projects/${id}`, B, { method: 'DELETE' })).status).toBe(404);
      expect((await call(`/projects/${id}/tasks`, B)).status).toBe(404);
      expect((await call(`/projects/${id}/tasks`, B, send('POST', { title: 'planted' }))).status).toBe(404);
    }
    expect((await call(`/tasks/${aTask.id}`, B, send('PATCH', { status: 'done', title: 'stolen' }))).status).toBe(404);
    expect((await call(`/tasks/${aTask.id}`, B, { method: 'DELETE' })).status).toBe(404);

    // Id guessing: every id around the ones that exist answers B with its own rows only.
    const maxId = Math.max(a1.id, a2.id, b1.id, aTask.id, bTask.id) + 3;
    for (let id = 1; id <= maxId; id += 1) {
      const project = await call(`/projects/${id}`, B);
      expect(project.status, `project ${id}`).toBe(id === b1.id ? 200 : 404);
      await project.body?.cancel();
      const task = await call(`/tasks/${id}`, B, send('PATCH', { title: 'guess' }));
      expect(task.status, `task ${id}`).toBe(id === bTask.id ? 200 : 404);
      await task.body?.cancel();
    }

    // Interleaved concurrent requests of both tenants (through the pool, on PostgreSQL): no answer mixes them up.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? A : B)).map(async (tenant) => ({ tenant, items: (await json<{ items: Project[] }>(call('/projects', tenant), 200)).items })),
    );
    for (const { tenant, items } of answers) expect(items.map((p) => p.id)).toEqual(tenant === A ? aProjects : [b1.id]);

    // A's rows are intact.
    expect(await json<Project>(call(`/projects/${a1.id}`, A), 200)).toMatchObject({ id: a1.id, name: 'a one' });
    const aTasks = await json<{ items: Task[] }>(call(`/projects/${a1.id}/tasks`, A), 200);
    expect(aTasks.items).toEqual([expect.objectContaining({ id: aTask.id, title: 'a task', status: 'open' })]);
    expect((await json<{ items: Project[] }>(call('/projects', A), 200)).items.map((p) => p.name)).toEqual(['a one', 'a two']);

    // And A can change and delete its own.
    expect(await json<Project>(call(`/projects/${a2.id}`, A, send('PATCH', { name: 'a two, renamed' })), 200)).toMatchObject({ name: 'a two, renamed' });
    expect(await json<Task>(call(`/tasks/${aTask.id}`, A, send('PATCH', { status: 'done' })), 200)).toMatchObject({ status: 'done' });
    expect((await call(`/projects/${a2.id}`, A, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/projects/${a2.id}`, A)).status).toBe(404);
  });

  it('refuses bad input with 400 and unknown or missing tenants', async () => {
    expect((await json<{ error: string }>(call('/projects', A, send('POST', { name: '' })), 400)).error).toBe('invalid_request');
    expect((await json<{ error: string }>(call('/tasks?status=maybe', A), 400)).error).toBe('invalid_request');
    expect((await call('/projects/not-a-number', A)).status).toBe(404);
    expect((await json<Problem>(call('/projects', undefined), 400)).code).toBe('tenant_missing');
    expect((await json<Problem>(call('/projects', '../etc'), 400)).code).toBe('tenant_invalid');
    expect((await json<Problem>(call('/projects', 'nobody'), 404)).code).toBe('tenant_not_found');
  });

  it('enforces the policy: export is a feature of the tenant', async () => {
    const project = await json<Project>(call('/projects', B, send('POST', { name: 'b export' })), 201);
    const denied = await call(`/projects/${project.id}/export`, B);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toBe('application/problem+json');
    expect(await denied.json()).toMatchObject({ code: 'policy_denied', dimension: 'features' });
    // Other spellings that fastify routes to the export route get its policy too; the rest never reach it.
    for (const spelling of [`/projects/${project.id}/%65xport`, `/projects/${project.id}/%65%78%70%6F%72%74`, `/proj%65cts/${project.id}/export`]) {
      const res = await call(spelling, B);
      expect(res.status, spelling).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'policy_denied', dimension: 'features' });
    }
    for (const spelling of [`/PROJECTS/${project.id}/export`, `/projects/${project.id}/export/`, `//projects/${project.id}/export`, `/projects/${project.id}%2Fexport`]) {
      expect((await call(spelling, B)).status, spelling).not.toBe(200);
    }

    const own = await json<Project>(call('/projects', A, send('POST', { name: 'a export' })), 201);
    await json<Task>(call(`/projects/${own.id}/tasks`, A, send('POST', { title: 'ship' })), 201);
    const exported = await json<{ tenant: string; project: Project; tasks: Task[] }>(call(`/projects/${own.id}/export`, A), 200);
    expect(exported).toMatchObject({ tenant: A, project: { id: own.id }, tasks: [{ title: 'ship' }] });
    // A's export never reaches B's project either.
    expect((await call(`/projects/${project.id}/export`, A)).status).toBe(404);

    // A policy change through the admin API applies to the next request.
    expect(await json(asAdmin(`/tenants/${B}/policy`, send('PUT', { features: ['projects', 'export'] })), 200)).toMatchObject({ policy: { features: ['projects', 'export'] } });
    expect((await json<{ project: Project }>(call(`/projects/${project.id}/export`, B), 200)).project.id).toBe(project.id);
    await json(asAdmin(`/tenants/${B}/policy`, send('PUT', { features: ['projects'] })), 200);
    expect((await call(`/projects/${project.id}/export`, B)).status).toBe(403);
  });

  it('answers 429 with rate-limit headers once the quota is used up, for that tenant only', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await call('/projects', TINY);
      statuses.push(last.status);
      if (last.status !== 429) await last.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(last!.headers.get('ratelimit-policy')).toContain('"requests";q=3');
    expect(last!.headers.get('ratelimit')).toContain('r=0');
    expect(((await last!.json()) as Problem).code).toBe('quota_exceeded');
    // Another tenant is not affected.
    expect((await call('/projects', A)).status).toBe(200);
  });

  it('refuses a tenant at once when the admin API suspends it, and admits it again on resume', async () => {
    expect((await call('/projects', B)).status).toBe(200); // B's config is now cached
    expect(await json(asAdmin(`/tenants/${B}/suspend`, { method: 'POST' }), 200)).toMatchObject({ id: B, status: 'suspended' });
    const refused = await call('/projects', B);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Problem).code).toBe('tenant_suspended');
    expect((await call('/projects', A)).status).toBe(200);
    await json(asAdmin(`/tenants/${B}/resume`, { method: 'POST' }), 200);
    expect((await call('/projects', B)).status).toBe(200);
    await json(asAdmin(`/tenants/${B}/suspend`, { method: 'POST' }), 200);
    expect((await call('/projects', B)).status).toBe(403);
  });

  it('exposes per-tenant metrics on /metrics', async () => {
    const res = await call('/metrics', undefined);
    expect(res.status).toBe(200);
    const text = await res.text();
    const series = (name: string, labels: Record<string, string>) =>
      text.split('\n').filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)));
    const count = (line: string | undefined) => Number(line?.split(' ').pop());
    expect(count(series('tenant_requests_total', { tenant: A, method: 'POST', route: '/projects', status: '201' })[0])).toBeGreaterThanOrEqual(3);
    expect(count(series('tenant_requests_total', { tenant: B, method: 'GET', route: '/projects/:id', status: '404' })[0])).toBeGreaterThanOrEqual(2);
    expect(count(series('tenant_quota_rejections_total', { tenant: TINY, reason: 'limit_exceeded' })[0])).toBe(1);
    expect(count(series('tenant_policy_denials_total', { tenant: B, dimension: 'features' })[0])).toBe(5); // two denials of /export, and three of its other spellings
    expect(count(series('tenant_rejections_total', { code: 'tenant_suspended' })[0])).toBe(2);
  });

  it('counts the cache hits of the request pipeline in tenant_cache_hits_total', async () => {
    const hits = async () => {
      const text = await call('/metrics', undefined).then((r) => r.text());
      const line = /^tenant_cache_hits_total\{layer="memory"\} (\d+)$/m.exec(text);
      return Number(line?.[1] ?? 0);
    };
    const before = await hits();
    for (let i = 0; i < 20; i++) expect((await call('/me', A)).status).toBe(200);
    // Every one of these requests found A in memory (the pipeline asks peek() first).
    expect((await hits()) - before).toBeGreaterThanOrEqual(20);
  });

  it('answers 410 for a tenant deleted through the admin API, and drops its metric series', async () => {
    expect((await call('/metrics', undefined).then((r) => r.text())).includes(`tenant="${TINY}"`)).toBe(true);
    expect(await json(asAdmin(`/tenants/${TINY}`, { method: 'DELETE' }), 200)).toMatchObject({ id: TINY, status: 'deleted' });
    expect((await json<Problem>(call('/projects', TINY), 410)).code).toBe('tenant_deleted');
    const metrics = await call('/metrics', undefined).then((r) => r.text());
    expect(metrics.includes(`tenant="${TINY}"`)).toBe(false);
    expect(metrics.includes(`tenant="${A}"`)).toBe(true);
  });

  it.runIf(backendCase.redis)('shares quotas and tenant changes between two instances through Redis', async () => {
    const other = await createSaasApp(loadConfig({ ...backend.env, ADMIN_TOKEN }));
    try {
      const otherBase = await other.app.listen({ port: 0, host: '127.0.0.1' });
      const at = (root: string, path: string, tenant: string) => fetch(root + path, { headers: { 'x-tenant-id': tenant } });
      await json(asAdmin('/tenants', send('POST', { id: 'fleet', quota: { requests: { limit: 4, windowMs: 3_600_000 } } })), 201);
      // one quota for the fleet: 2 + 2 requests on two instances use it up
      const statuses = [];
      for (const root of [base, otherBase, base, otherBase, otherBase, base]) statuses.push((await at(root, '/me', 'fleet')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      // A is cached on the other instance; a suspension through this one reaches it by pub/sub
      expect((await at(otherBase, '/projects', A)).status).toBe(200);
      await json(asAdmin(`/tenants/${A}/suspend`, { method: 'POST' }), 200);
      await expect.poll(async () => (await at(otherBase, '/projects', A)).status, { timeout: 10_000 }).toBe(403);
      await json(asAdmin(`/tenants/${A}/resume`, { method: 'POST' }), 200);
      await expect.poll(async () => (await at(otherBase, '/projects', A)).status, { timeout: 10_000 }).toBe(200);
    } finally {
      await other.close();
    }
  });

  it.runIf(backendCase.dialect === 'postgres')('on PostgreSQL, RLS refuses other tenants rows even to raw SQL that skips the plugin', async () => {
    expect(saas.database.dialect).toBe('postgres');
    expect(saas.rlsEnforced).toBe(true);
    const db = saas.database.db;
    // Raw SQL on the unscoped handle: only the policies stand between B and A's rows.
    const asB = await withTenantTransaction(db, B, (trx) => sql<{ tenant_id: string }>`select tenant_id from projects`.execute(trx));
    expect(asB.rows.length).toBeGreaterThan(0);
    expect(new Set(asB.rows.map((r) => r.tenant_id))).toEqual(new Set([B]));
    const noTenant = await sql`select id from projects`.execute(db);
    expect(noTenant.rows).toEqual([]);
    await expect(withTenantTransaction(db, B, (trx) => sql`insert into projects (tenant_id, name, created_at) values (${A}, 'forged', 'now')`.execute(trx))).rejects.toThrow(/row-level security/);
  });
});
