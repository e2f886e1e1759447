import type { IncomingMessage } from 'node:http';
import {
  chain,
  createMemoryQuota,
  createMemoryTenantStore,
  fromClaim,
  fromHeader,
  fromHost,
  fromPath,
  fromSubdomain,
  type AdapterOptions,
  type Clock,
  type TenantInput,
} from '@tenant/core';
import type { FetchAdapterOptions } from '@tenant/core/fetch';
import { createFetchConformanceHandler } from './fetch-handler.js';
import { createConformanceHandler } from './handler.js';
import { createHookLog, type HookLog } from './hook-log.js';
import type { ConformanceMode, ConformanceRoute, ConformanceSetup, FetchConformanceSetup } from './types.js';

/** The base domain whose subdomains name tenants. */
export const SUBDOMAIN_BASE = 'example.test';
/** The request header read by the claim resolver, standing in for a verified principal. */
export const CLAIM_HEADER = 'x-test-claim';
/** The header naming the model, read by `policyRequest`. */
export const MODEL_HEADER = 'x-model';
/** The header with the token estimate, read by `cost`. */
export const ESTIMATE_HEADER = 'x-estimate-tokens';
/** The response header with the real token count, read by `actualCost`. */
export const ACTUAL_TOKENS_HEADER = 'x-actual-tokens';
/** The header that carries each request's id, for the hook and handler counts. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** The quota tenant's request limit. */
export const QUOTA_LIMIT = 3;
/** The token limit of the tenants with a token quota. */
export const TOKEN_LIMIT = 1000;
/** The window of every quota: one hour, on a frozen clock so it never rolls over mid-suite. */
export const QUOTA_WINDOW_MS = 3_600_000;
/** Models the policy allows for tenants with a policy. */
export const ALLOWED_MODELS: readonly string[] = Object.freeze(['small']);
/** The feature that `policyRequest` asks for on a guarded route. */
export const GUARDED_FEATURE = 'guarded';

/**
 * The guarded routes: `policyRequest` asks for {@link GUARDED_FEATURE} and
 * `cost` charges more tokens than {@link TOKEN_LIMIT} on their canonical
 * paths, so that a request that reaches one without being keyed on it shows.
 */
export const GUARDED_ROUTES: readonly ConformanceRoute[] = Object.freeze([
  Object.freeze({ method: 'POST', path: '/guarded/chat' } as const),
  Object.freeze({ method: 'GET', path: '/guarded/projects/:id/export' } as const),
]);

/** Whether a canonical path and method name a guarded route (the way a user's `policyRequest` would, on `request.path`). */
export function isGuarded(method: string, path: string): boolean {
  // HEAD runs GET handlers (express, fastify): a GET rule covers it.
  return (method === 'POST' && path === '/guarded/chat') || ((method === 'GET' || method === 'HEAD') && /^\/guarded\/projects\/[^/]+\/export$/.test(path));
}

/** The tenant ids (and hosts) of one fixture, unique to it. */
export interface ConformanceTenants {
  /** Active, policy `models: ['small']`, no quota. */
  readonly a: string;
  /** Active, no policy, no quota. */
  readonly b: string;
  /** Active, owns the custom domains `hosts.shop` and `hosts.shadow`. */
  readonly shop: string;
  /** Active, `QUOTA_LIMIT` requests per window. */
  readonly quota: string;
  /** Active, `TOKEN_LIMIT` tokens per window. */
  readonly tokens: string;
  /** Active, policy and quota (requests and tokens): every hook fires. */
  readonly metered: string;
  /** Active, policy `features: ['basic']`: refused on a guarded route. */
  readonly unfeatured: string;
  /** Active, `TOKEN_LIMIT` tokens per window: a guarded route's cost is above it. */
  readonly budget: string;
  readonly suspended: string;
  readonly inactive: string;
  /** Soft-deleted. */
  readonly deleted: string;
  /** A valid id that no tenant has. */
  readonly unknown: string;
}

/** Host names of one fixture. */
export interface ConformanceHosts {
  /** `shop`'s custom domain. */
  readonly shop: string;
  /** `<a>.example.test`, which is also a custom domain of `shop`: subdomain resolution must win. */
  readonly shadow: string;
  /** A subdomain of example.test for a tenant. */
  subdomain(tenantId: string): string;
}

/** Everything a suite run shares: the setup for the adapter, the tenants, and the counters. */
export interface ConformanceFixture<Setup = ConformanceSetup> {
  /** Give this to the adapter's `start()`. */
  readonly setup: Setup;
  /** Which kind of adapter the fixture is for. */
  readonly mode: ConformanceMode;
  /** A tag unique to this fixture, in every tenant id and request id. */
  readonly tag: string;
  readonly tenants: ConformanceTenants;
  readonly hosts: ConformanceHosts;
  /** What the pipeline hooks saw, per request id. */
  readonly hookLog: HookLog;
  /** How many times the handler served the request with this id. */
  handlerCalls(requestId: string): number;
  /** A new request id, unique in this fixture. */
  nextRequestId(): string;
}

let fixtures = 0;

/**
 * Builds the fixture of one suite run: an in-memory store with tenants in
 * every status (ids unique to this fixture, so several suites can run in one
 * file), resolvers chained claim > header `x-tenant-id` > subdomain of
 * `example.test` > custom domain > path `/t/<id>`, the allow-list policy
 * (model from `x-model`), an in-memory quota on a frozen clock, counting
 * hooks, `skipPaths: ['/health']`, `actualCost` from `x-actual-tokens`, the
 * {@link GUARDED_ROUTES} (a feature asked and a cost above the token limit
 * on their canonical paths), and the handler.
 */
export function createConformanceFixture(): Promise<ConformanceFixture> {
  return createFixture('node');
}

/**
 * The fixture of a fetch-mode run ({@link createConformanceFixture}'s
 * tenants, resolvers, policy, quota and hooks), with `principal` reading
 * the Web `Request` and the fetch handler.
 */
export function createFetchConformanceFixture(): Promise<ConformanceFixture<FetchConformanceSetup>> {
  return createFixture('fetch');
}

async function createFixture(mode: 'node'): Promise<ConformanceFixture>;
async function createFixture(mode: 'fetch'): Promise<ConformanceFixture<FetchConformanceSetup>>;
async function createFixture(mode: ConformanceMode): Promise<ConformanceFixture<ConformanceSetup | FetchConformanceSetup>> {
  fixtures += 1;
  const tag = `c${process.pid.toString(36)}${fixtures.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const tenants: ConformanceTenants = Object.freeze({
    a: `${tag}-a`,
    b: `${tag}-b`,
    shop: `${tag}-shop`,
    quota: `${tag}-quota`,
    tokens: `${tag}-tokens`,
    metered: `${tag}-metered`,
    unfeatured: `${tag}-unfeatured`,
    budget: `${tag}-budget`,
    suspended: `${tag}-suspended`,
    inactive: `${tag}-inactive`,
    deleted: `${tag}-deleted`,
    unknown: `${tag}-nobody`,
  });
  const hosts: ConformanceHosts = Object.freeze({
    shop: `shop-${tag}.test`,
    shadow: `${tenants.a}.${SUBDOMAIN_BASE}`,
    subdomain: (tenantId: string) => `${tenantId}.${SUBDOMAIN_BASE}`,
  });
  const policy = { models: ALLOWED_MODELS };
  const window = (limit: number) => ({ limit, windowMs: QUOTA_WINDOW_MS });
  const inputs: TenantInput[] = [
    { id: tenants.a, policy },
    { id: tenants.b },
    { id: tenants.shop, domains: [hosts.shop, hosts.shadow] },
    { id: tenants.quota, quota: { requests: window(QUOTA_LIMIT) } },
    { id: tenants.tokens, quota: { tokens: window(TOKEN_LIMIT) } },
    { id: tenants.metered, policy, quota: { requests: window(1_000_000), tokens: window(1_000_000) } },
    { id: tenants.unfeatured, policy: { features: ['basic'] } },
    { id: tenants.budget, quota: { tokens: window(TOKEN_LIMIT) } },
    { id: tenants.suspended, status: 'suspended' },
    { id: tenants.inactive, status: 'inactive' },
    { id: tenants.deleted },
  ];
  // Frozen at the start of a window: no window rolls over while the suite runs.
  const frozen = Date.now() - (Date.now() % QUOTA_WINDOW_MS) + 1;
  const clock: Clock = Object.freeze({ now: () => frozen });
  const store = createMemoryTenantStore({ tenants: inputs, clock });
  await store.delete(tenants.deleted);

  const hookLog = createHookLog(REQUEST_ID_HEADER);
  const calls = new Map<string, number>();
  const onCall = (requestId: string | undefined): void => {
    if (requestId !== undefined) calls.set(requestId, (calls.get(requestId) ?? 0) + 1);
  };

  const common = {
    store,
    resolve: chain(fromClaim('tenant_id'), fromHeader('x-tenant-id'), fromSubdomain({ baseDomains: [SUBDOMAIN_BASE] }), fromHost(store), fromPath({ prefix: '/t' })),
    quota: createMemoryQuota({ clock }),
    clock,
    hooks: hookLog.hooks,
    skipPaths: ['/health'],
    // Keyed on request.path, the canonical path, as users write them.
    cost: (request) => ({ requests: 1, tokens: isGuarded(request.method, request.path) ? TOKEN_LIMIT + 1 : toCount(request.header(ESTIMATE_HEADER)) }),
    policyRequest: (request) => {
      const model = request.header(MODEL_HEADER);
      const guarded = isGuarded(request.method, request.path);
      if (model === undefined && !guarded) return undefined;
      return { ...(model === undefined ? {} : { models: model }), ...(guarded ? { features: GUARDED_FEATURE } : {}) };
    },
    actualCost: (_request, response) => {
      const value = response.getHeader(ACTUAL_TOKENS_HEADER);
      return value === undefined ? undefined : { tokens: toCount(String(value)) };
    },
  } satisfies AdapterOptions & FetchAdapterOptions;
  const setup: ConformanceSetup | FetchConformanceSetup =
    mode === 'node'
      ? {
          options: {
            ...common,
            principal: (req: IncomingMessage) => {
              const claim = req.headers[CLAIM_HEADER];
              return typeof claim === 'string' ? { tenant_id: claim } : undefined;
            },
          },
          handler: createConformanceHandler(onCall, REQUEST_ID_HEADER),
          routes: GUARDED_ROUTES,
        }
      : {
          options: {
            ...common,
            principal: (request: Request) => {
              const claim = request.headers.get(CLAIM_HEADER);
              return claim === null ? undefined : { tenant_id: claim };
            },
          },
          handler: createFetchConformanceHandler(onCall, REQUEST_ID_HEADER),
          routes: GUARDED_ROUTES,
        };

  let requests = 0;
  return Object.freeze({
    setup: Object.freeze(setup),
    mode,
    tag,
    tenants,
    hosts,
    hookLog,
    handlerCalls: (requestId: string) => calls.get(requestId) ?? 0,
    nextRequestId: () => `${tag}-r${(requests += 1)}`,
  });
}

function toCount(value: string | undefined): number {
  const n = Number(value ?? '0');
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
