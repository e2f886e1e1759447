import Koa, { type Context } from 'koa';
import { requireTenant } from '@tenant/core';
import { tenancy } from '@tenant/koa';
import { DEFAULT_MODEL, NOTE_TEXT_ERROR, TOKENS_USED_HEADER, answerChat, createNotes, demoTenancyOptions, isNoteText, readJsonBody } from '@tenant/example-shared';

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

  // Tenancy before the routes. The options (the same for every adapter, see
  // examples/shared/src/demo.ts): the demo tenants in memory, resolution by
  // subdomain or X-Tenant-Id, /health skipped, the /chat model checked by
  // policy (?model=), a token budget charged up front and the real count
  // (x-tokens-used) settled after the response.
  app.use(tenancy(demoTenancyOptions()));

  // Per-tenant notes: every call reads requireTenant(), so a handler
  // cannot touch another tenant's notes by mistake.
  const notes = createNotes();

  const json = (ctx: Context, status: number, body?: unknown) => {
    ctx.status = status;
    if (body !== undefined) ctx.body = body;
  };

  // Koa has no router or body parser built in: the routes by hand, bodies
  // read with readJsonBody() (415, 413 or 400 on a bad one).
  app.use(async (ctx) => {
    const { method, path } = ctx;
    if (method === 'GET' && path === '/health') return json(ctx, 200, { status: 'ok' });
    if (method === 'GET' && path === '/whoami') {
      const tenant = requireTenant();
      const decision = ctx.state.tenantDecision;
      return json(ctx, 200, { id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: ctx.state.tenant?.id, quota: decision && 'quota' in decision ? decision.quota?.dimensions : undefined });
    }
    if (path === '/notes' && method === 'GET') return json(ctx, 200, { items: notes.list() });
    if (path === '/notes' && method === 'POST') {
      const text = (await readJsonBody(ctx.req))['text'];
      return isNoteText(text) ? json(ctx, 201, notes.add(text)) : json(ctx, 400, { error: NOTE_TEXT_ERROR });
    }
    const noteId = /^\/notes\/([^/]+)$/.exec(path)?.[1];
    if (noteId !== undefined && method === 'GET') {
      const note = notes.get(noteId);
      return note ? json(ctx, 200, note) : json(ctx, 404, { error: 'no such note' });
    }
    if (noteId !== undefined && method === 'DELETE') {
      return notes.delete(noteId) ? json(ctx, 204) : json(ctx, 404, { error: 'no such note' });
    }
    // The model was checked by the policy and a token budget charged before
    // this runs; the tokens really used are reported in x-tokens-used and settled.
    if (path === '/chat' && method === 'POST') {
      const model = typeof ctx.query['model'] === 'string' ? ctx.query['model'] : DEFAULT_MODEL;
      const answer = await answerChat(model, (await readJsonBody(ctx.req))['prompt']);
      ctx.set(TOKENS_USED_HEADER, String(answer.usage.tokens));
      return json(ctx, 200, answer);
    }
    return json(ctx, 404, { error: 'not found' });
  });
  return app;
}
