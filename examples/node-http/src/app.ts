import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
} from '@tenant/core';
import { BodyError, DEFAULT_MODEL, DEMO_TENANTS, NOTE_TEXT_ERROR, createNotes, fakeModel, isNoteText, readJsonBody } from '@tenant/example-shared';

/** Builds the demo server (not listening yet). */
export function createApp(): Server {
  const store = createMemoryTenantStore({ tenants: DEMO_TENANTS });
  const tenancy = createTenancy({
    store,
    // acme.localhost:3000 or an X-Tenant-Id header.
    resolve: chain(fromSubdomain({ baseDomains: ['localhost'] }), fromHeader('x-tenant-id')),
    skipPaths: ['/health'],
  });
  // Per-tenant notes: every call reads requireTenant(), so a handler
  // cannot touch another tenant's notes by mistake.
  const notes = createNotes();

  const route = async (req: IncomingMessage, res: ServerResponse, decision: TenantDecision & { ok: true }) => {
    const path = toTenantRequest(req).path;
    if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/whoami') {
      const tenant = requireTenant();
      return send(res, 200, { id: tenant.id, name: tenant.name, plan: tenant.plan, quota: 'quota' in decision ? decision.quota?.dimensions : undefined });
    }
    if (path === '/notes' && req.method === 'GET') return send(res, 200, { items: notes.list() });
    if (path === '/notes' && req.method === 'POST') {
      const { text } = await readJsonBody(req);
      return isNoteText(text) ? send(res, 201, notes.add(text)) : send(res, 400, { error: NOTE_TEXT_ERROR });
    }
    const noteId = /^\/notes\/([^/]+)$/.exec(path)?.[1];
    if (noteId !== undefined && req.method === 'GET') {
      const note = notes.get(noteId);
      return note ? send(res, 200, note) : send(res, 404, { error: 'no such note' });
    }
    if (noteId !== undefined && req.method === 'DELETE') {
      return notes.delete(noteId) ? send(res, 204) : send(res, 404, { error: 'no such note' });
    }
    if (path === '/chat' && req.method === 'POST') {
      const body = await readJsonBody(req);
      const model = typeof body['model'] === 'string' ? body['model'] : DEFAULT_MODEL;
      const prompt = typeof body['prompt'] === 'string' ? body['prompt'] : '';
      // The route knows the model and a token estimate: check them now.
      const estimate = Math.ceil(prompt.length / 4) + 200;
      const check = await tenancy.authorize(requireTenant(), { policy: { models: model }, cost: { requests: 0, tokens: estimate } });
      if (!check.ok) return send(res, check.status, check.body, check.headers);
      const completion = await fakeModel(model, prompt);
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

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const contentType = typeof headers['content-type'] === 'string' ? headers['content-type'] : 'application/json';
  res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
}
