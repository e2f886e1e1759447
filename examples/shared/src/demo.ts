import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { chain, createMemoryTenantStore, fromHeader, fromSubdomain, queryParam, requireTenant, type AdapterOptions, type RoutedRequest, type TenantInput } from '@tenant/core';

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
/** The model a /chat call gets when it names none. */
export const DEFAULT_MODEL = 'gpt-4o-mini';
/** The response header in which /chat reports the tokens it really used (read by `actualCost`). */
export const TOKENS_USED_HEADER = 'x-tokens-used';

// `request.path` here is the canonical path (decoded, case and slashes as the
// adapter's router reads them): `/ch%61t` or `/CHAT/` is `/chat` wherever the
// router sends them to /chat. Never key this on `request.rawPath`.
const isChat = (request: RoutedRequest) => request.method === 'POST' && request.path === '/chat';

/**
 * The tenancy options every adapter example passes to its adapter, as they
 * are: any `@tenant/*` adapter takes the same {@link AdapterOptions}
 * (`demoTenancyOptions<Request>()` for a fetch adapter such as `@tenant/hono`).
 *
 * - `store`: the {@link DEMO_TENANTS}, in memory;
 * - `resolve`: the subdomain (`acme.localhost:3000`), else the `X-Tenant-Id` header;
 * - `skipPaths`: `/health` needs no tenant;
 * - `policyRequest`: the model a `/chat` call asks for (`?model=`, read with `queryParam`), checked against the tenant's policy
 *   (on the canonical path, so no spelling of `/chat` the router accepts escapes it);
 * - `cost`: one request, plus a {@link CHAT_ESTIMATE_TOKENS} token budget for `/chat`, charged up front;
 * - `actualCost`: what `/chat` really cost, from the {@link TOKENS_USED_HEADER} the route sets, settled after the response.
 */
export function demoTenancyOptions<Req = IncomingMessage>(): AdapterOptions<Req> {
  return {
    store: createMemoryTenantStore({ tenants: DEMO_TENANTS }),
    resolve: chain(fromSubdomain({ baseDomains: ['localhost'] }), fromHeader('x-tenant-id')),
    skipPaths: ['/health'],
    // queryParam: the one value every query parser agrees on, or a 400 query_invalid
    // (`?model=gpt-4o-mini&model=gpt-4o`, `?model[]=gpt-4o`: the handler would read more than the policy saw).
    policyRequest: (request) => (isChat(request) ? { models: queryParam(request, 'model') ?? DEFAULT_MODEL } : undefined),
    cost: (request) => (isChat(request) ? { requests: 1, tokens: CHAT_ESTIMATE_TOKENS } : { requests: 1 }),
    actualCost: (request, response) => {
      const used = response.getHeader(TOKENS_USED_HEADER);
      return isChat(request) && used !== undefined ? { requests: 1, tokens: Number(used) } : undefined;
    },
  };
}

/** One note, as the API returns it. */
export interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

/** The current tenant's notes: every method reads the tenant with `requireTenant()`. */
export interface TenantNotes {
  list(): Note[];
  /** Adds a note; check the text with {@link isNoteText} first. */
  add(text: string): Note;
  get(id: string): Note | undefined;
  /** Whether there was such a note. */
  delete(id: string): boolean;
}

/** What a POST /notes with a bad `text` is answered (400). */
export const NOTE_TEXT_ERROR = 'text must be a string of 1 to 1000 characters';

/** Whether `text` may be a note's text: a string of 1 to 1,000 characters. */
export const isNoteText = (text: unknown): text is string => typeof text === 'string' && text.length > 0 && text.length <= 1000;

/**
 * Notes kept by tenant id. Every read and write goes through
 * `requireTenant()`, so a handler cannot touch another tenant's notes by
 * mistake, and outside a tenant's context it throws.
 */
export function createNotes(): TenantNotes {
  const notes = new Map<string, Map<string, Note>>();
  const mine = () => {
    const id = requireTenant().id;
    let map = notes.get(id);
    if (!map) notes.set(id, (map = new Map()));
    return map;
  };
  return {
    list: () => [...mine().values()],
    add: (text) => {
      const note: Note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
      mine().set(note.id, note);
      return note;
    },
    get: (id) => mine().get(id),
    delete: (id) => mine().delete(id),
  };
}

/** The body of a /chat answer. */
export interface ChatAnswer {
  readonly model: string;
  readonly tenant: string;
  readonly completion: string;
  readonly usage: { readonly estimated: number; readonly tokens: number };
}

/**
 * Answers a /chat call with {@link fakeModel}, in the current tenant's
 * context. `usage.tokens` is what it really used: the route reports it in
 * {@link TOKENS_USED_HEADER}, and the adapter settles it.
 */
export async function answerChat(model: string, prompt: unknown): Promise<ChatAnswer> {
  const text = typeof prompt === 'string' ? prompt : '';
  const completion = await fakeModel(model, text);
  const tokens = Math.ceil((text.length + completion.length) / 4);
  return { model, tenant: requireTenant().id, completion, usage: { estimated: CHAT_ESTIMATE_TOKENS, tokens } };
}

/** A stand-in for a model call: answers after a short delay, still in the tenant's context. */
export async function fakeModel(model: string, prompt: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `(${model} for ${requireTenant().id}) You said: ${prompt.slice(0, 200)}`;
}
