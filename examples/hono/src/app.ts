import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { requireTenant } from '@tenant/core/fetch';
import { tenancy, type TenancyEnv } from '@tenant/hono';
import { BodyError, DEFAULT_MODEL, NOTE_TEXT_ERROR, TOKENS_USED_HEADER, answerChat, createNotes, demoTenancyOptions, isNoteText, readJsonRequest } from '@tenant/example-shared';

/** Builds the demo app: `app.fetch` serves it on Node (`@hono/node-server`), Bun, Deno or Workers. */
export function createApp(): Hono<TenancyEnv> {
  const app = new Hono<TenancyEnv>();

  // Mounted before tenancy(): their headers are on its refusals too (a 403 or
  // a 429 still carries Access-Control-Allow-Origin and the security headers).
  app.use(cors({ origin: '*', exposeHeaders: ['RateLimit', 'RateLimit-Policy', 'Retry-After'] }));
  app.use(secureHeaders());

  // Tenancy before the routes. The options (the same for every adapter, see
  // examples/shared/src/demo.ts): the demo tenants in memory, resolution by
  // subdomain or X-Tenant-Id, /health skipped, the /chat model checked by
  // policy (?model=), a token budget charged up front and the real count
  // (x-tokens-used) settled once the response has been sent.
  app.use(tenancy(demoTenancyOptions<Request>()));

  // Body errors and unexpected failures, answered as JSON (in the tenant context).
  app.onError((error, c) => {
    if (error instanceof BodyError) return c.json({ error: error.message }, error.status as 400 | 413 | 415);
    console.error(error);
    return c.json({ error: 'internal error' }, 500);
  });

  // Per-tenant notes: every call reads requireTenant(), so a handler
  // cannot touch another tenant's notes by mistake.
  const notes = createNotes();

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/whoami', (c) => {
    const tenant = requireTenant();
    const decision = c.get('tenantDecision');
    return c.json({ id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: c.get('tenant')?.id, quota: 'quota' in decision ? decision.quota?.dimensions : undefined });
  });
  app.get('/notes', (c) => c.json({ items: notes.list() }));
  app.post('/notes', async (c) => {
    const text = (await readJsonRequest(c.req.raw))['text'];
    return isNoteText(text) ? c.json(notes.add(text), 201) : c.json({ error: NOTE_TEXT_ERROR }, 400);
  });
  app.get('/notes/:id', (c) => {
    const note = notes.get(c.req.param('id'));
    return note ? c.json(note) : c.json({ error: 'no such note' }, 404);
  });
  app.delete('/notes/:id', (c) => (notes.delete(c.req.param('id')) ? c.body(null, 204) : c.json({ error: 'no such note' }, 404)));
  // The model was checked by the policy and a token budget charged before
  // this runs; the tokens really used are reported in x-tokens-used and settled.
  app.post('/chat', async (c) => {
    const answer = await answerChat(c.req.query('model') ?? DEFAULT_MODEL, (await readJsonRequest(c.req.raw))['prompt']);
    c.header(TOKENS_USED_HEADER, String(answer.usage.tokens));
    return c.json(answer);
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  return app;
}
