import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  TenantError,
  chain,
  createMemoryTenantStore,
  createTenancy,
  fromHeader,
  fromSubdomain,
  requireTenant,
  toTenantRequest,
  type TenantDecision,
  type TenantInput,
} from '@tenant/core';

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

const MAX_BODY_BYTES = 16 * 1024;

interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

/** Builds the demo server (not listening yet). */
export function createApp(): Server {
  const store = createMemoryTenantStore({ tenants: DEMO_TENANTS });
  const tenancy = createTenancy({
    store,
    // acme.localhost:3000 or an X-Tenant-Id header.
    resolve: chain(fromSubdomain({ baseDomains: ['localhost'] }), fromHeader('x-tenant-id')),
    skipPaths: ['/health'],
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

  const route = async (req: IncomingMessage, res: ServerResponse, decision: TenantDecision & { ok: true }) => {
    const path = toTenantRequest(req).path;
    if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/whoami') {
      const tenant = requireTenant();
      return send(res, 200, { id: tenant.id, name: tenant.name, plan: tenant.plan, quota: 'quota' in decision ? decision.quota?.dimensions : undefined });
    }
    if (path === '/notes' && req.method === 'GET') return send(res, 200, { items: [...tenantNotes().values()] });
    if (path === '/notes' && req.method === 'POST') {
      const { text } = await readJson(req);
      if (typeof text !== 'string' || text.length === 0 || text.length > 1000) {
        return send(res, 400, { error: 'text must be a string of 1 to 1000 characters' });
      }
      const note: Note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
      tenantNotes().set(note.id, note);
      return send(res, 201, note);
    }
    const noteId = /^\/notes\/([0-9a-f-]{36})$/.exec(path)?.[1];
    if (noteId !== undefined && (req.method === 'GET' || req.method === 'DELETE')) {
      const note = tenantNotes().get(noteId);
      if (!note) return send(res, 404, { error: 'no such note' });
      if (req.method === 'DELETE') tenantNotes().delete(noteId);
      return req.method === 'GET' ? send(res, 200, note) : send(res, 204);
    }
    if (path === '/chat' && req.method === 'POST') {
      const body = await readJson(req);
      const model = typeof body['model'] === 'string' ? body['model'] : 'gpt-4o-mini';
      const prompt = typeof body['prompt'] === 'string' ? body['prompt'] : '';
      // The route knows the model and a token estimate: check them now.
      const estimate = Math.ceil(prompt.length / 4) + 200;
      const check = await tenancy.authorize(requireTenant(), { policy: { models: model }, cost: { requests: 0, tokens: estimate } });
      if (!check.ok) return send(res, check.status, check.body, check.headers);
      const completion = `(${model}) You said: ${prompt.slice(0, 200)}`;
      const used = Math.ceil((prompt.length + completion.length) / 4);
      // Settle with the real token count once it is known.
      await tenancy.settle(check, { tokens: used });
      return send(res, 200, { model, completion, usage: { estimated: estimate, tokens: used } }, check.headers);
    }
    return send(res, 404, { error: 'not found' });
  };

  return createServer((req, res) => {
    void (async () => {
      const decision = await tenancy.handle(toTenantRequest(req));
      if (!decision.ok) return send(res, decision.status, decision.body, decision.headers);
      for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
      await tenancy.run(decision, () => route(req, res, decision));
    })().catch((error: unknown) => {
      const status = error instanceof BodyError ? error.status : 500;
      if (status === 500 && !TenantError.is(error)) console.error(error);
      const rejection = status === 500 ? tenancy.reject(error) : undefined;
      if (!res.headersSent) send(res, rejection?.status ?? status, rejection?.body ?? { error: (error as Error).message });
    });
  });
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new BodyError(415, 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new BodyError(400, 'body must be a JSON object');
  }
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : 'application/json';
  res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
}
