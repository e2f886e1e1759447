import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TenantAdmitted, TenantConfig, TenantDecision, TenantRequest } from '@tenant/core';

/** What the middleware learned about a request, for the guard and the decorators. */
export interface RequestState {
  /** The neutral request view, built once. */
  readonly view: TenantRequest;
  /** The raw response, where admitted headers go (so they leave however the route answers). */
  readonly res: ServerResponse;
  /** The resolution's decision (skip rules, resolvers, id, store, status). */
  readonly resolved: TenantDecision;
  /** The tenant of the context: the resolved tenant, or `undefined`. */
  readonly tenant: TenantConfig | undefined;
  /** The guard's decision (policy and quota), once it ran. */
  authorized?: TenantAdmitted;
}

// One map per process, shared by every copy of this package (ESM and CJS
// builds): a decorator of one copy must find what the middleware of the other
// stored. A WeakMap rather than a property, so the request object keeps its shape.
const REGISTRY_KEY = Symbol.for('@tenant/nestjs.requests.v1');
type Registry = { [REGISTRY_KEY]?: WeakMap<object, RequestState> };
const registry = globalThis as Registry;
const states: WeakMap<object, RequestState> = (registry[REGISTRY_KEY] ??= new WeakMap<object, RequestState>());

/** Attaches the state to the raw `node:http` request. */
export function setState(req: IncomingMessage, state: RequestState): void {
  states.set(req, state);
}

/**
 * The state of a request as Nest hands it over: the raw request on express,
 * fastify's request (whose `raw` is the raw request) on fastify.
 */
export function stateOf(request: unknown): RequestState | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const own = states.get(request);
  if (own !== undefined) return own;
  const raw = (request as { raw?: unknown }).raw;
  return typeof raw === 'object' && raw !== null ? states.get(raw) : undefined;
}
