import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import { requireTenant } from '@tenant/core';
import type { AppDatabase, AppTables } from './db.js';

/**
 * The tenant-scoped resources API: projects, and the tasks of a project.
 *
 * No query here mentions `tenant_id`: `tenantScopePlugin` adds
 * `tenant_id = <tenant in context>` to every select, update and delete on
 * `projects` and `tasks` (joins included) and sets it on every insert. A
 * project id of another tenant is therefore simply not found (404), whether
 * it is listed, read, changed, deleted or used as the parent of a task; on
 * PostgreSQL the RLS policies would refuse it a second time.
 */

const MAX_PAGE = 100;

interface ProjectBody {
  readonly name?: unknown;
}
interface TaskBody {
  readonly title?: unknown;
  readonly status?: unknown;
}
interface IdParams {
  readonly id: string;
}

/** A route id: a positive integer in decimal, or `undefined` (answered as 404, like an id of another tenant). */
function parseId(value: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(value)) return undefined;
  const id = Number(value);
  return id <= 2_147_483_647 ? id : undefined;
}

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= max ? trimmed : undefined;
}

const STATUSES = new Set(['open', 'done']);
const isStatus = (value: unknown): value is 'open' | 'done' => typeof value === 'string' && STATUSES.has(value);

const PROJECT = ['id', 'name', 'created_at'] as const;
const TASK = ['id', 'project_id', 'title', 'status', 'created_at'] as const;

type Db = Kysely<AppTables> | Transaction<AppTables>;

/** The project with this id, if the tenant in context has it (the plugin scopes the query). */
const findProject = (db: Db, id: number) => db.selectFrom('projects').select(PROJECT).where('id', '=', id).executeTakeFirst();

const notFound = (reply: FastifyReply, what: 'project' | 'task') => reply.code(404).send({ error: 'not_found', message: `no such ${what}` });
const badRequest = (reply: FastifyReply, message: string) => reply.code(400).send({ error: 'invalid_request', message });

/** Registers the routes on `app` (a scope where `fastifyTenancy` is registered). */
export function registerResources(app: FastifyInstance, database: AppDatabase): void {
  const { inTenant } = database;
  const now = () => new Date().toISOString();
  /** Runs `fn` in the tenant's database with the route's id; a malformed id finds nothing, like another tenant's. */
  const byId = <R>(raw: string, fn: (db: Db, id: number) => Promise<R | undefined>): Promise<R | undefined> => {
    const id = parseId(raw);
    return id === undefined ? Promise.resolve(undefined) : inTenant((db) => fn(db, id));
  };

  app.get('/me', async (request) => {
    const tenant = requireTenant();
    const decision = request.tenantDecision;
    const quota = decision && 'quota' in decision ? decision.quota?.dimensions : undefined;
    return { id: tenant.id, name: tenant.name, plan: tenant.plan, status: tenant.status, policy: tenant.policy, quota };
  });

  app.get('/projects', async () => {
    const items = await inTenant((db) => db.selectFrom('projects').select(PROJECT).orderBy('id').limit(MAX_PAGE).execute());
    return { items };
  });

  app.post<{ Body: ProjectBody | undefined }>('/projects', async (request, reply) => {
    const name = text(request.body?.name, 200);
    if (name === undefined) return badRequest(reply, 'name must be a string of 1 to 200 characters');
    const project = await inTenant((db) => db.insertInto('projects').values({ name, created_at: now() }).returning(PROJECT).executeTakeFirstOrThrow());
    return reply.code(201).send(project);
  });

  app.get<{ Params: IdParams }>('/projects/:id', async (request, reply) => {
    const project = await byId(request.params.id, findProject);
    return project ?? notFound(reply, 'project');
  });

  app.patch<{ Params: IdParams; Body: ProjectBody | undefined }>('/projects/:id', async (request, reply) => {
    const name = text(request.body?.name, 200);
    if (name === undefined) return badRequest(reply, 'name must be a string of 1 to 200 characters');
    const project = await byId(request.params.id, (db, id) => db.updateTable('projects').set({ name }).where('id', '=', id).returning(PROJECT).executeTakeFirst());
    return project ?? notFound(reply, 'project');
  });

  app.delete<{ Params: IdParams }>('/projects/:id', async (request, reply) => {
    // the tasks go with it (on delete cascade, within the same tenant by the composite key)
    const result = await byId(request.params.id, (db, id) => db.deleteFrom('projects').where('id', '=', id).executeTakeFirst());
    return result && result.numDeletedRows > 0n ? reply.code(204).send() : notFound(reply, 'project');
  });

  app.get<{ Params: IdParams }>('/projects/:id/tasks', async (request, reply) => {
    const items = await byId(request.params.id, async (db, id) =>
      (await findProject(db, id)) ? db.selectFrom('tasks').select(TASK).where('project_id', '=', id).orderBy('id').limit(MAX_PAGE).execute() : undefined,
    );
    return items ? { items } : notFound(reply, 'project');
  });

  app.post<{ Params: IdParams; Body: TaskBody | undefined }>('/projects/:id/tasks', async (request, reply) => {
    const title = text(request.body?.title, 500);
    if (title === undefined) return badRequest(reply, 'title must be a string of 1 to 500 characters');
    // another tenant's project is not found here (and the composite foreign key would refuse the row anyway)
    const task = await byId(request.params.id, async (db, projectId) =>
      (await findProject(db, projectId))
        ? db.insertInto('tasks').values({ project_id: projectId, title, status: 'open', created_at: now() }).returning(TASK).executeTakeFirstOrThrow()
        : undefined,
    );
    return task ? reply.code(201).send(task) : notFound(reply, 'project');
  });

  // Every open (or done) task of the tenant, with its project's name: the
  // plugin scopes both sides of the join.
  app.get<{ Querystring: { status?: string } }>('/tasks', async (request, reply) => {
    const status = request.query.status ?? 'open';
    if (!isStatus(status)) return badRequest(reply, 'status must be open or done');
    const items = await inTenant((db) =>
      db
        .selectFrom('tasks as t')
        .innerJoin('projects as p', 'p.id', 't.project_id')
        .select(['t.id', 't.project_id', 'p.name as project_name', 't.title', 't.status', 't.created_at'])
        .where('t.status', '=', status)
        .orderBy('t.id')
        .limit(MAX_PAGE)
        .execute(),
    );
    return { items };
  });

  app.patch<{ Params: IdParams; Body: TaskBody | undefined }>('/tasks/:id', async (request, reply) => {
    const body = request.body ?? {};
    const title = body.title === undefined ? undefined : text(body.title, 500);
    if (body.title !== undefined && title === undefined) return badRequest(reply, 'title must be a string of 1 to 500 characters');
    if (body.status !== undefined && !isStatus(body.status)) return badRequest(reply, 'status must be open or done');
    if (title === undefined && body.status === undefined) return badRequest(reply, 'nothing to change: give title or status');
    const task = await byId(request.params.id, (db, id) =>
      db
        .updateTable('tasks')
        .set({ ...(title !== undefined ? { title } : {}), ...(isStatus(body.status) ? { status: body.status } : {}) })
        .where('id', '=', id)
        .returning(TASK)
        .executeTakeFirst(),
    );
    return task ?? notFound(reply, 'task');
  });

  app.delete<{ Params: IdParams }>('/tasks/:id', async (request, reply) => {
    const result = await byId(request.params.id, (db, id) => db.deleteFrom('tasks').where('id', '=', id).executeTakeFirst());
    return result && result.numDeletedRows > 0n ? reply.code(204).send() : notFound(reply, 'task');
  });

  // Gated by the tenant's policy (feature "export"), checked by the pipeline
  // before this handler runs: see `policyRequest` in app.ts.
  app.get<{ Params: IdParams }>('/projects/:id/export', async (request, reply) => {
    const exported = await byId(request.params.id, async (db, id) => {
      const project = await findProject(db, id);
      if (!project) return undefined;
      const tasks = await db.selectFrom('tasks').select(TASK).where('project_id', '=', id).orderBy('id').execute();
      return { tenant: requireTenant().id, exportedAt: now(), project, tasks };
    });
    return exported ?? notFound(reply, 'project');
  });
}
