import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { chain, createMemoryTenantStore, fromHeader, fromSubdomain, requireTenant, type TenantInput, type TenantRequest } from '@tenant/core';
import { tenancy } from '@tenant/express';

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
export function createApp(): Express {
  const app = express();
  app.disable('x-powered-by');

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
  // After tenancy: refused requests never have their bodies parsed.
  app.use(express.json({ limit: '16kb' }));

  // Notes by tenant id: every read and write goes through requireTenant(),
  // so a handler cannot touch another tenant's notes by mistake.
  const notes = new Map<string, Map<string, Note>>();
  const tenantNotes = () => {
    const id = requireTenant().id;
    let map = notes.get(id);
    if (!map) notes.set(id, (map = new Map()));
    return map;
  };

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/whoami', (req, res) => {
    const tenant = requireTenant();
    res.json({ id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: req.tenant?.id, quota: req.tenantDecision && 'quota' in req.tenantDecision ? req.tenantDecision.quota?.dimensions : undefined });
  });

  app.get('/notes', (_req, res) => {
    res.json({ items: [...tenantNotes().values()] });
  });

  app.post('/notes', (req, res) => {
    const text: unknown = (req.body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || text.length === 0 || text.length > 1000) {
      res.status(400).json({ error: 'text must be a string of 1 to 1000 characters' });
      return;
    }
    const note: Note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    tenantNotes().set(note.id, note);
    res.status(201).json(note);
  });

  app.get('/notes/:id', (req, res) => {
    const note = tenantNotes().get(req.params.id);
    if (note) res.json(note);
    else res.status(404).json({ error: 'no such note' });
  });

  app.delete('/notes/:id', (req, res) => {
    if (tenantNotes().delete(req.params.id)) res.status(204).end();
    else res.status(404).json({ error: 'no such note' });
  });

  // The model was checked by the policy and a token budget charged before
  // this runs; the tokens really used are reported in x-tokens-used and settled.
  app.post('/chat', async (req, res) => {
    const model = typeof req.query['model'] === 'string' ? req.query['model'] : DEFAULT_MODEL;
    const prompt: unknown = (req.body as { prompt?: unknown } | undefined)?.prompt;
    const text = typeof prompt === 'string' ? prompt : '';
    const completion = await fakeModel(model, text);
    const used = Math.ceil((text.length + completion.length) / 4);
    res.set('x-tokens-used', String(used)).json({ model, tenant: requireTenant().id, completion, usage: { estimated: CHAT_ESTIMATE_TOKENS, tokens: used } });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const onError: ErrorRequestHandler = (error: { status?: number; message?: string }, _req, res, _next) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) console.error(error);
    res.status(status).json({ error: status === 500 ? 'internal error' : error.message });
  };
  app.use(onError);
  return app;
}

/** A stand-in for a model call: answers after a short delay, still in the tenant's context. */
async function fakeModel(model: string, prompt: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `(${model} for ${requireTenant().id}) You said: ${prompt.slice(0, 200)}`;
}
