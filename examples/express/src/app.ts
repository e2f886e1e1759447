import express, { type ErrorRequestHandler, type Express } from 'express';
import { requireTenant } from '@tenant/core';
import { tenancy } from '@tenant/express';
import { DEFAULT_MODEL, NOTE_TEXT_ERROR, TOKENS_USED_HEADER, answerChat, createNotes, demoTenancyOptions, isNoteText } from '@tenant/example-shared';

/** Builds the demo app (not listening yet). */
export function createApp(): Express {
  const app = express();
  app.disable('x-powered-by');

  // Tenancy first. The options (the same for every adapter, see
  // examples/shared/src/demo.ts): the demo tenants in memory, resolution by
  // subdomain or X-Tenant-Id, /health skipped, the /chat model checked by
  // policy (?model=), a token budget charged up front and the real count
  // (x-tokens-used) settled after the response.
  app.use(tenancy(demoTenancyOptions()));
  // After tenancy: refused requests never have their bodies parsed.
  app.use(express.json({ limit: '16kb' }));

  // Per-tenant notes: every call reads requireTenant(), so a handler
  // cannot touch another tenant's notes by mistake.
  const notes = createNotes();

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/whoami', (req, res) => {
    const tenant = requireTenant();
    res.json({ id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: req.tenant?.id, quota: req.tenantDecision && 'quota' in req.tenantDecision ? req.tenantDecision.quota?.dimensions : undefined });
  });

  app.get('/notes', (_req, res) => {
    res.json({ items: notes.list() });
  });

  app.post('/notes', (req, res) => {
    const text: unknown = (req.body as { text?: unknown } | undefined)?.text;
    if (!isNoteText(text)) {
      res.status(400).json({ error: NOTE_TEXT_ERROR });
      return;
    }
    res.status(201).json(notes.add(text));
  });

  app.get('/notes/:id', (req, res) => {
    const note = notes.get(req.params.id);
    if (note) res.json(note);
    else res.status(404).json({ error: 'no such note' });
  });

  app.delete('/notes/:id', (req, res) => {
    if (notes.delete(req.params.id)) res.status(204).end();
    else res.status(404).json({ error: 'no such note' });
  });

  // The model was checked by the policy and a token budget charged before
  // this runs; the tokens really used are reported in x-tokens-used and settled.
  app.post('/chat', async (req, res) => {
    const model = typeof req.query['model'] === 'string' ? req.query['model'] : DEFAULT_MODEL;
    const answer = await answerChat(model, (req.body as { prompt?: unknown } | undefined)?.prompt);
    res.set(TOKENS_USED_HEADER, String(answer.usage.tokens)).json(answer);
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
