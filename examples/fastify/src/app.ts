import Fastify, { type FastifyInstance } from 'fastify';
import { requireTenant } from '@tenant/core';
import { fastifyTenancy } from '@tenant/fastify';
import { DEFAULT_MODEL, NOTE_TEXT_ERROR, TOKENS_USED_HEADER, answerChat, createNotes, demoTenancyOptions, isNoteText } from '@tenant/example-shared';

/** Builds the demo app (not listening yet). */
export async function createApp(): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 16 * 1024 });

  // Tenancy first. The options (the same for every adapter, see
  // examples/shared/src/demo.ts): the demo tenants in memory, resolution by
  // subdomain or X-Tenant-Id, /health skipped, the /chat model checked by
  // policy (?model=), a token budget charged up front and the real count
  // (x-tokens-used) settled after the response.
  await app.register(fastifyTenancy, demoTenancyOptions());

  // Per-tenant notes: every call reads requireTenant(), so a handler
  // cannot touch another tenant's notes by mistake.
  const notes = createNotes();

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/whoami', async (request) => {
    const tenant = requireTenant();
    const decision = request.tenantDecision;
    return { id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: request.tenant?.id, quota: decision && 'quota' in decision ? decision.quota?.dimensions : undefined };
  });

  app.get('/notes', async () => ({ items: notes.list() }));

  app.post<{ Body: { text?: unknown } | undefined }>('/notes', async (request, reply) => {
    const text = request.body?.text;
    if (!isNoteText(text)) return reply.code(400).send({ error: NOTE_TEXT_ERROR });
    return reply.code(201).send(notes.add(text));
  });

  app.get<{ Params: { id: string } }>('/notes/:id', async (request, reply) => {
    const note = notes.get(request.params.id);
    return note ? note : reply.code(404).send({ error: 'no such note' });
  });

  app.delete<{ Params: { id: string } }>('/notes/:id', async (request, reply) => {
    if (notes.delete(request.params.id)) return reply.code(204).send();
    return reply.code(404).send({ error: 'no such note' });
  });

  // The model was checked by the policy and a token budget charged before
  // this runs; the tokens really used are reported in x-tokens-used and settled.
  app.post<{ Querystring: { model?: unknown }; Body: { prompt?: unknown } | undefined }>('/chat', async (request, reply) => {
    // One string, as the policy read it (a repeated ?model= is refused before this runs).
    const model = typeof request.query.model === 'string' ? request.query.model : DEFAULT_MODEL;
    const answer = await answerChat(model, request.body?.prompt);
    void reply.header(TOKENS_USED_HEADER, String(answer.usage.tokens));
    return answer;
  });

  return app;
}
