/**
 * What the express, fastify, koa, hono and node:http examples share, so that each
 * example's `src/app.ts` holds only its framework's wiring and routes: the
 * demo tenants, the tenancy options every adapter takes, the per-tenant
 * notes, the fake model behind /chat, a JSON body reader for servers
 * without one, and how a demo starts. The smoke suite is in
 * `@tenant/example-shared/smoke`.
 *
 * Private and never published: the examples import these sources as they
 * are (tsx and vitest compile them), so there is nothing to build.
 *
 * @packageDocumentation
 */
export {
  DEMO_TENANTS,
  CHAT_ESTIMATE_TOKENS,
  DEFAULT_MODEL,
  TOKENS_USED_HEADER,
  demoTenancyOptions,
  createNotes,
  isNoteText,
  NOTE_TEXT_ERROR,
  answerChat,
  fakeModel,
} from './demo.js';
export type { Note, TenantNotes, ChatAnswer } from './demo.js';
export { BodyError, MAX_BODY_BYTES, readJsonBody, readJsonRequest, demoPort, demoUsage, serveDemo, stopOnSignal } from './http.js';
