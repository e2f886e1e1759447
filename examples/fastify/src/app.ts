import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { chain, createMemoryTenantStore, fromHeader, fromSubdomain, requireTenant, type TenantInput, type TenantRequest } from '@tenant/core';
import { fastifyTenancy } from '@tenant/fastify';

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
export async function createApp(): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 16 * 1024 });

  await app.register(fastifyTenancy, {
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
  });

  // Notes by tenant id: every read and write goes through requireTenant(),
  // so a handler cannot touch another tenant's notes by mistake.
  const notes = new Map<string, Map<string, Note>>();
  const tenantNotes = () => {
    const id = requireTenant().id;
    let map = notes.get(id);
    if (!map) notes.set(id, (map = new Map()));
    return map;
  };

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/whoami', async (request) => {
    const tenant = requireTenant();
    const decision = request.tenantDecision;
    return { id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: request.tenant?.id, quota: decision && 'quota' in decision ? decision.quota?.dimensions : undefined };
  });

  app.get('/notes', async () => ({ items: [...tenantNotes().values()] }));

  app.post<{ Body: { text?: unknown } | undefined }>('/notes', async (request, reply) => {
    const text = request.body?.text;
    if (typeof text !== 'string' || text.length === 0 || text.length > 1000) {
      return reply.code(400).send({ error: 'text must be a string of 1 to 1000 characters' });
    }
    const note: Note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    tenantNotes().set(note.id, note);
    return reply.code(201).send(note);
  });

  app.get<{ Params: { id: string } }>('/notes/:id', async (request, reply) => {
    const note = tenantNotes().get(request.params.id);
    return note ? note : reply.code(404).send({ error: 'no such note' });
  });

  app.delete<{ Params: { id: string } }>('/notes/:id', async (request, reply) => {
    if (tenantNotes().delete(request.params.id)) return reply.code(204).send();
    return reply.code(404).send({ error: 'no such note' });
  });

  // The model was checked by the policy and a token budget charged before
  // this runs; the tokens really used are reported in x-tokens-used and settled.
  app.post<{ Querystring: { model?: string }; Body: { prompt?: unknown } | undefined }>('/chat', async (request, reply) => {
    const model = request.query.model ?? DEFAULT_MODEL;
    const prompt = request.body?.prompt;
    const text = typeof prompt === 'string' ? prompt : '';
    const completion = await fakeModel(model, text);
    const used = Math.ceil((text.length + completion.length) / 4);
    void reply.header('x-tokens-used', String(used));
    return { model, tenant: requireTenant().id, completion, usage: { estimated: CHAT_ESTIMATE_TOKENS, tokens: used } };
  });

  return app;
}

/** A stand-in for a model call: answers after a short delay, still in the tenant's context. */
async function fakeModel(model: string, prompt: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `(${model} for ${requireTenant().id}) You said: ${prompt.slice(0, 200)}`;
}
