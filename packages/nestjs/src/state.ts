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

// On the raw request under a registered symbol, so that every copy of this
// package (ESM and CJS builds) finds it; a WeakMap would be one per copy.
const STATE = Symbol.for('@tenant/nestjs.request');

type Carrier = { [STATE]?: RequestState; raw?: unknown };

/** Attaches the state to the raw `node:http` request. */
export function setState(req: IncomingMessage, state: RequestState): void {
  Object.defineProperty(req, STATE, { value: state, configurable: true, enumerable: false, writable: false });
}

/**
 * The state of a request as Nest hands it over: the raw request on express,
 * fastify's request (whose `raw` is the raw request) on fastify.
 */
export function stateOf(request: unknown): RequestState | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const carrier = request as Carrier;
  const own = carrier[STATE];
  if (own !== undefined) return own;
  const raw = carrier.raw;
  return typeof raw === 'object' && raw !== null ? (raw as Carrier)[STATE] : undefined;
}
