import { randomUUID } from 'node:crypto';
import Koa, { type Context } from 'koa';
import { chain, createMemoryTenantStore, fromHeader, fromSubdomain, requireTenant, type TenantInput, type TenantRequest } from '@tenant/core';
import { tenancy } from '@tenant/koa';

/** The demo tenants: two active ones on different plans, and a suspended one. */
export const DEMO_TENANTS: readonly TenantInput[] = [
  {
    id: 'acme',
    name: 'Acme Corp',
    plan: 'pro',
    quota: { requests: { limit: 20, windowMs: 60_000 }, tokens: { limit: 5_000, windowMs: 60_000 } },
    policy: { models: ['gpt-4o', 'gpt-4o-mini'] },
  },
  {
    id: 'globex',
    name: 'Globex',
    plan: 'free',
    quota: { requests: { limit: 5, windowMs: 60_000 }, tokens: { limit: 1_000, windowMs: 60_000 } },
    policy: { models: ['gpt-4o-mini'] },
  },
  { id: 'initech', name: 'Initech', plan: 'free', status: 'suspended' },
];

/** The token budget reserved up front for one /chat call; the real count is settled after the response. */
export const CHAT_ESTIMATE_TOKENS = 400;
const DEFAULT_MODEL = 'gpt-4o-mini';

interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

const isChat = (request: TenantRequest) => request.method === 'POST' && request.path === '/chat';

/** Builds the demo app (not listening yet). */
export function createApp(): Koa {
  const app = new Koa();

  // Body errors and unexpected failures, answered as JSON.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const status = (error as { status?: number }).status;
      ctx.status = typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
      if (ctx.status === 500) console.error(error);
      ctx.body = { error: ctx.status === 500 ? 'internal error' : (error as Error).message };
    }
  });

  app.use(
    tenancy({
      store: createMemoryTenantStore({ tenants: DEMO_TENANTS }),
      // acme.localhost:3000 or an X-Tenant-Id header.
      resolve: chain(fromSubdomain({ baseDomains: ['localhost'] }), fromHeader('x-tenant-id')),
      skipPaths: ['/health'],
      // What the policy checks: the model a /chat call asks for (?model=).
      policyRequest: (request) => (isChat(request) ? { models: new URLSearchParams(request.query).get('model') ?? DEFAULT_MODEL } : undefined),
      // What a request costs up front: one request, and a token budget for /chat.
      cost: (request) => (isChat(request) ? { requests: 1, tokens: CHAT_ESTIMATE_TOKENS } : { requests: 1 }),
      // What it really cost, once answered: the route reports the tokens it used.
      actualCost: (request, response) => {
        const used = response.getHeader('x-tokens-used');
        return isChat(request) && used !== undefined ? { requests: 1, tokens: Number(used) } : undefined;
      },
    }),
  );

  // Notes by tenant id: every read and write goes through requireTenant(),
  // so a handler cannot touch another tenant's notes by mistake.
  const notes = new Map<string, Map<string, Note>>();
  const tenantNotes = () => {
    const id = requireTenant().id;
    let map = notes.get(id);
    if (!map) notes.set(id, (map = new Map()));
    return map;
  };

  const json = (ctx: Context, status: number, body?: unknown) => {
    ctx.status = status;
    if (body !== undefined) ctx.body = body;
  };

  app.use(async (ctx) => {
    const { method, path } = ctx;
    if (method === 'GET' && path === '/health') return json(ctx, 200, { status: 'ok' });
    if (method === 'GET' && path === '/whoami') {
      const tenant = requireTenant();
      const decision = ctx.state.tenantDecision;
      return json(ctx, 200, { id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: ctx.state.tenant?.id, quota: decision && 'quota' in decision ? decision.quota?.dimensions : undefined });
    }
    if (path === '/notes' && method === 'GET') return json(ctx, 200, { items: [...tenantNotes().values()] });
    if (path === '/notes' && method === 'POST') {
      const text = (await readJson(ctx))['text'];
      if (typeof text !== 'string' || text.length === 0 || text.length > 1000) return json(ctx, 400, { error: 'text must be a string of 1 to 1000 characters' });
      const note: Note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
      tenantNotes().set(note.id, note);
      return json(ctx, 201, note);
    }
    const noteId = /^\/notes\/([^/]+)$/.exec(path)?.[1];
    if (noteId !== undefined && method === 'GET') {
      const note = tenantNotes().get(noteId);
      return note ? json(ctx, 200, note) : json(ctx, 404, { error: 'no such note' });
    }
    if (noteId !== undefined && method === 'DELETE') {
      return tenantNotes().delete(noteId) ? json(ctx, 204) : json(ctx, 404, { error: 'no such note' });
    }
    // The model was checked by the policy and a token budget charged before
    // this runs; the tokens really used are reported in x-tokens-used and settled.
    if (path === '/chat' && method === 'POST') {
      const model = typeof ctx.query['model'] === 'string' ? ctx.query['model'] : DEFAULT_MODEL;
      const prompt = (await readJson(ctx))['prompt'];
      const text = typeof prompt === 'string' ? prompt : '';
      const completion = await fakeModel(model, text);
      const used = Math.ceil((text.length + completion.length) / 4);
      ctx.set('x-tokens-used', String(used));
      return json(ctx, 200, { model, tenant: requireTenant().id, completion, usage: { estimated: CHAT_ESTIMATE_TOKENS, tokens: used } });
    }
    return json(ctx, 404, { error: 'not found' });
  });
  return app;
}

const MAX_BODY_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a small JSON object body (Koa has no body parser built in). */
async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw new HttpError(415, 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

/** A stand-in for a model call: answers after a short delay, still in the tenant's context. */
async function fakeModel(model: string, prompt: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `(${model} for ${requireTenant().id}) You said: ${prompt.slice(0, 200)}`;
}
