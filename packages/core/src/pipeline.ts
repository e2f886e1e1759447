import {
  TenantError,
  type MaybePromise,
  type PolicyDecision,
  type PolicyEvaluator,
  type PolicyRequest,
  type QuotaCost,
  type QuotaManager,
  type QuotaResult,
  type TenantAdmitted,
  type TenantBypassed,
  type TenantConfig,
  type TenantDecision,
  type TenantHooks,
  type TenantRejected,
  type TenantRequest,
  type TenantResolver,
  type TenantStore,
} from '@tenant/interfaces';
import { systemClock, type Clock } from './clock.js';
import { checkStoreAnswer, runWithoutTenant, runWithTenant, statusError } from './context.js';
import { createHookRunner } from './hooks.js';
import { normalizeHost } from './host.js';
import { createTenantIdValidator, validateTenantId, type TenantIdFormat, type TenantIdValidator } from './id.js';
import { routedRequest, type RoutedRequest } from './path.js';
import { createPolicyEvaluator } from './policy.js';
import { defaultProblemType, toRejection, type ProblemTypeFn } from './problem.js';
import { checkQuotaCost } from './quota/cost.js';
import { rateLimitHeaders } from './quota/headers.js';
import { createMemoryQuota } from './quota/memory-fixed-window.js';
import { flattenResolvers, fromHeader, isPromiseLike, resolveWith, type ResolvedId } from './resolvers.js';

/** A path to skip: an exact path (also matching below it, at a `/`) or a pattern. */
export type SkipPath = string | RegExp;

/** Options of {@link createTenancy}. */
export interface TenancyOptions {
  /** Where tenant configs come from. Put a cache in front of a remote store. */
  readonly store: TenantStore;
  /**
   * How requests name their tenant: one resolver, or several tried in order.
   * @default fromHeader('x-tenant-id')
   */
  readonly resolve?: TenantResolver | readonly TenantResolver[];
  /** The tenant id check: a validator, or a format for the default one. @default the default format */
  readonly validateId?: TenantIdValidator | TenantIdFormat;
  /** The policy evaluator, or `false` for none. @default createPolicyEvaluator() (allow-lists) */
  readonly policy?: PolicyEvaluator | false;
  /** The quota manager, or `false` for none. @default createMemoryQuota() (fixed window, in memory) */
  readonly quota?: QuotaManager | false;
  /**
   * What to do when the quota manager throws: refuse with 503 (`closed`) or
   * admit the request uncounted (`open`). Either way `onError` is told.
   * @default 'closed'
   */
  readonly onQuotaError?: 'closed' | 'open';
  /** Observers: one set or several. */
  readonly hooks?: TenantHooks | readonly TenantHooks[];
  /** Central (landlord) host names: requests to them pass with no tenant. @default [] */
  readonly centralHosts?: readonly string[];
  /**
   * Paths that pass with no tenant, such as `/health` (which also skips
   * `/health/live`, not `/healthz`). Paths with dot-segments or encoded
   * slashes or dots are never skipped.
   * @default []
   */
  readonly skipPaths?: readonly SkipPath[];
  /** Methods that pass with no tenant, such as `OPTIONS` for CORS preflights. @default [] */
  readonly skipMethods?: readonly string[];
  /** Any other rule for passing with no tenant. */
  readonly skip?: (request: TenantRequest) => boolean;
  /** Whether a request with no tenant is refused (400 `tenant_missing`). @default true */
  readonly requireTenant?: boolean;
  /**
   * What a request costs by default. It receives the request with its
   * canonical path (see {@link RoutedRequest}): key costs on `request.path`
   * or `request.route`, never on `request.rawPath`. A path with no single
   * canonical form is refused (400 `path_invalid`) before it is called.
   * @default () => ({ requests: 1 })
   */
  readonly cost?: (request: RoutedRequest) => QuotaCost;
  /**
   * What a request asks of the policy by default. It receives the request
   * with its canonical path, as `cost` does.
   * @default none (policy not checked)
   */
  readonly policyRequest?: (request: RoutedRequest) => PolicyRequest | undefined;
  /** The `type` URI of problem bodies. @default code => `urn:tenant:error:${code}` */
  readonly problemType?: ProblemTypeFn;
  /**
   * A last word on every rejection: return it changed (status, headers, body)
   * or as it is. If it throws or returns something that is not a rejection,
   * the rejection stands as it was and `onError` is told.
   */
  readonly formatRejection?: (rejection: TenantRejected, request: TenantRequest | undefined) => TenantRejected;
  /** The clock, for rate-limit headers. @default systemClock */
  readonly clock?: Clock;
}

/** Per-request inputs for {@link Tenancy.handle} and {@link Tenancy.authorize}. */
export interface AuthorizeInput {
  /** What the request asks of the policy, overriding `options.policyRequest`. */
  readonly policy?: PolicyRequest;
  /** What the request costs, overriding `options.cost`. */
  readonly cost?: QuotaCost;
}

/** The framework-agnostic tenancy pipeline: adapters call it and apply its decisions. */
export interface Tenancy {
  /**
   * Runs the whole pipeline for a request: skip rules, resolution, id
   * validation, config load, status, policy and quota. Never throws: every
   * failure is a rejection.
   */
  handle(request: TenantRequest, input?: AuthorizeInput): Promise<TenantDecision>;
  /**
   * {@link Tenancy.handle} without a promise when none is needed: the
   * decision itself when the resolvers, the store (`peek`), the policy and
   * the quota (`consumeSync`) all answer synchronously, as with the memory
   * store, a warm cache and the in-memory quotas; a promise of it otherwise.
   * For adapters: on Node 20 every promise of a request pays for
   * AsyncLocalStorage's hooks. Never throws; a promise it returns never
   * rejects.
   *
   * @example
   * ```ts
   * const decided = tenancy.decide(request);
   * if (decided instanceof Promise) decided.then(apply);
   * else apply(decided);
   * ```
   */
  decide(request: TenantRequest, input?: AuthorizeInput): TenantDecision | Promise<TenantDecision>;
  /** Resolution only (skip rules, resolve, validate, load, status): no policy, no quota. */
  resolve(request: TenantRequest): Promise<TenantDecision>;
  /**
   * Policy and quota for a tenant already resolved, for checks that need
   * what only a route knows (a parsed body naming a model, a token estimate).
   */
  authorize(tenant: TenantConfig, input?: AuthorizeInput & { readonly request?: TenantRequest }): Promise<TenantAdmitted | TenantRejected>;
  /**
   * Settles an admitted decision's quota with the actual cost once it is
   * known (for example tokens used). Settles each decision once; later calls
   * do nothing. Never rejects: failures go to `onError`.
   */
  settle(decision: TenantDecision, actual: QuotaCost): Promise<void>;
  /**
   * Runs `fn` in the decision's context: the tenant's when admitted, an
   * explicit "no tenant" otherwise, so nothing leaks in from elsewhere.
   */
  run<R>(decision: TenantDecision, fn: () => R): R;
  /** Turns any error into a rejection in this pipeline's format (for adapters' error paths). */
  reject(error: unknown, request?: TenantRequest): TenantRejected;
  /** The store in use. */
  readonly store: TenantStore;
  /** The quota manager in use, if any. */
  readonly quota: QuotaManager | undefined;
  /** The tenant id check in use. */
  readonly validateId: TenantIdValidator;
}

const DEFAULT_COST: QuotaCost = Object.freeze({ requests: 1 });
const NO_HEADERS = Object.freeze({});
const UNSAFE_PATH = /(?:^|\/)\.{1,2}(?:\/|$)|%2e|%2f|%5c|\\/i;

/**
 * Creates the tenancy pipeline. It is plain async functions over plain data:
 * give it a neutral request view, get a decision back.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createMemoryTenantStore, createTenancy, chain, fromHeader, fromSubdomain, toTenantRequest } from '@tenant/core';
 *
 * const tenancy = createTenancy({
 *   store: createMemoryTenantStore({ tenants: [{ id: 'acme', quota: { requests: { limit: 100, windowMs: 60_000 } } }] }),
 *   resolve: chain(fromSubdomain({ baseDomains: ['example.com'] }), fromHeader()),
 *   skipPaths: ['/health'],
 * });
 *
 * createServer(async (req, res) => {
 *   const decision = await tenancy.handle(toTenantRequest(req));
 *   if (!decision.ok) {
 *     res.writeHead(decision.status, decision.headers).end(JSON.stringify(decision.body));
 *     return;
 *   }
 *   res.writeHead(200, { ...decision.headers, 'content-type': 'text/plain' });
 *   tenancy.run(decision, () => res.end(`hello ${decision.tenant?.id ?? 'landlord'}`));
 * }).listen(3000);
 * ```
 */
export function createTenancy(options: TenancyOptions): Tenancy {
  if (typeof options !== 'object' || options === null || typeof options.store?.get !== 'function') {
    throw new TypeError('[@tenant/core] createTenancy needs a store (for example createMemoryTenantStore())');
  }
  const store = options.store;
  const resolvers: readonly TenantResolver[] = flattenResolvers(
    options.resolve === undefined ? [fromHeader()] : Array.isArray(options.resolve) ? options.resolve : [options.resolve as TenantResolver],
  );
  if (resolvers.length === 0) throw new TypeError('[@tenant/core] createTenancy needs at least one resolver');
  const validateId: TenantIdValidator =
    typeof options.validateId === 'function'
      ? options.validateId
      : options.validateId === undefined
        ? validateTenantId
        : createTenantIdValidator(options.validateId);
  const policy = options.policy === false ? undefined : (options.policy ?? createPolicyEvaluator());
  const quota = options.quota === false ? undefined : (options.quota ?? createMemoryQuota());
  if (options.onQuotaError !== undefined && options.onQuotaError !== 'open' && options.onQuotaError !== 'closed') {
    throw new TypeError(`[@tenant/core] onQuotaError is 'closed' or 'open', not ${String(options.onQuotaError)}`);
  }
  const failOpen = options.onQuotaError === 'open';
  const hooks = createHookRunner(options.hooks);
  const clock = options.clock ?? systemClock;
  const requireTenant = options.requireTenant ?? true;
  const problemType = options.problemType ?? defaultProblemType;
  const costOf = options.cost;
  const policyRequestOf = options.policyRequest;
  const centralHosts = new Set(
    (options.centralHosts ?? []).map((host) => {
      const normalized = normalizeHost(host);
      if (normalized === undefined) throw new TypeError(`[@tenant/core] Not a host name in centralHosts: ${host}`);
      return normalized;
    }),
  );
  const skipMethods = new Set((options.skipMethods ?? []).map((m) => m.toUpperCase()));
  const skipPaths = [...(options.skipPaths ?? [])];
  for (const path of skipPaths) {
    if (typeof path === 'string' ? !path.startsWith('/') : !(path instanceof RegExp)) {
      throw new TypeError('[@tenant/core] skipPaths takes paths starting with "/" or regular expressions');
    }
    if (path instanceof RegExp && (path.global || path.sticky)) throw new TypeError('[@tenant/core] skipPaths patterns must not use the g or y flag');
  }
  const skipRule = options.skip;
  const settled = new WeakSet<object>();
  const hasOnResolve = hooks.has('onResolve');
  const hasOnPolicy = hooks.has('onPolicy');
  const hasOnQuota = hooks.has('onQuota');

  const reject = (error: unknown, request: TenantRequest | undefined, tenantId: string | undefined, extra?: { headers?: Record<string, string>; extensions?: Record<string, unknown> }): TenantRejected => {
    let rejection = toRejection(error, { problemType, ...extra });
    if (options.formatRejection) {
      try {
        const formatted = options.formatRejection(rejection, request);
        // Whatever it returns, the caller must still get a rejection to write.
        if (typeof formatted !== 'object' || formatted === null || formatted.ok !== false || !Number.isInteger(formatted.status)) {
          throw new TypeError('[@tenant/core] formatRejection must return a rejection ({ ok: false, status, headers, body })');
        }
        rejection = formatted;
      } catch (cause) {
        hooks.error({ phase: 'hook', error: cause, tenantId });
      }
    }
    if (hooks.has('onReject')) hooks.emit('onReject', { request, tenantId, rejection });
    return rejection;
  };

  const bypass = (reason: TenantBypassed['bypass']): TenantBypassed => ({ ok: true, tenant: undefined, bypass: reason, headers: NO_HEADERS });

  const isSkipped = (request: TenantRequest): boolean => {
    if (skipMethods.size > 0 && skipMethods.has(request.method.toUpperCase())) return true;
    if (skipPaths.length > 0 && !UNSAFE_PATH.test(request.path)) {
      for (const path of skipPaths) {
        if (typeof path === 'string') {
          if (request.path === path || (request.path.startsWith(path) && (path.endsWith('/') || request.path[path.length] === '/'))) return true;
        } else if (path.test(request.path)) return true;
      }
    }
    return skipRule !== undefined && skipRule(request) === true;
  };

  // Resolution is synchronous while the resolvers and the store (`peek`)
  // answer synchronously: on Node 20 every promise pays for
  // AsyncLocalStorage's hooks, so none is made in vain. Never throws.
  const resolveRequest = (request: TenantRequest): TenantDecision | Promise<TenantDecision> => {
    try {
      if (isSkipped(request)) return bypass('skip');
      if (centralHosts.size > 0) {
        const host = normalizeHost(request.host);
        if (host !== undefined && centralHosts.has(host)) return bypass('central_host');
      }
      const started = hasOnResolve ? performance.now() : 0;
      const pending = resolveWith(resolvers, request);
      if (!isPromiseLike(pending)) return afterResolve(request, pending, started);
      return Promise.resolve(pending).then(
        (found) => afterResolve(request, found, started),
        (cause: unknown) => resolverFailed(cause, request),
      );
    } catch (error) {
      return resolverFailed(error, request);
    }
  };

  const resolverFailed = (cause: unknown, request: TenantRequest): TenantRejected => {
    if (!TenantError.is(cause)) hooks.error({ phase: 'resolve', error: cause, tenantId: undefined });
    return reject(cause, request, undefined);
  };

  const storeFailed = (cause: unknown, request: TenantRequest, id: string): TenantRejected => {
    hooks.error({ phase: 'store', error: cause, tenantId: id });
    const error = TenantError.is(cause) ? cause : new TenantError('store_unavailable', '[@tenant/core] The tenant store could not answer', { cause, tenantId: id });
    return reject(error, request, id);
  };

  const afterResolve = (request: TenantRequest, found: ResolvedId | undefined, started: number): TenantDecision | Promise<TenantDecision> => {
    let id: string;
    try {
      if (found === undefined) {
        if (!requireTenant) return bypass('no_tenant');
        throw new TenantError('tenant_missing', '[@tenant/core] This request names no tenant');
      }
      id = validateId(found.id);
    } catch (error) {
      return reject(error, request, undefined);
    }
    let pending: Promise<TenantConfig | undefined>;
    try {
      const atHand = store.peek?.(id);
      if (atHand !== undefined) return loaded(request, found, started, id, atHand);
      pending = store.get(id);
    } catch (cause) {
      return storeFailed(cause, request, id);
    }
    return Promise.resolve(pending).then(
      (tenant) => loaded(request, found, started, id, tenant),
      (cause: unknown) => storeFailed(cause, request, id),
    );
  };

  const loaded = (request: TenantRequest, found: ResolvedId, started: number, id: string, tenant: TenantConfig | undefined): TenantDecision => {
    try {
      if (tenant === undefined) throw new TenantError('tenant_not_found', '[@tenant/core] No tenant with this id', { tenantId: id });
      if (tenant.id !== id) checkStoreAnswer(id, tenant);
      if (tenant.status !== 'active') throw statusError(tenant);
      if (hasOnResolve) hooks.emit('onResolve', { request, tenant, source: found.source, durationMs: performance.now() - started });
      return { ok: true, tenant, source: found.source, headers: NO_HEADERS };
    } catch (error) {
      // a store that answered another tenant is a fault of the store: reported, and refused
      if (TenantError.is(error, 'isolation_violation')) hooks.error({ phase: 'store', error, tenantId: id });
      return reject(error, request, id);
    }
  };

  type Authorized = TenantAdmitted | TenantRejected;
  type AuthorizeArgs = {
    readonly policy?: PolicyRequest | undefined;
    readonly cost?: QuotaCost | undefined;
    readonly request?: TenantRequest | undefined;
    readonly source?: string | undefined;
    /** The request with its canonical path, when `policyRequest` or `cost` reads it. */
    readonly routed?: RoutedRequest | undefined;
  };

  const failed = (error: unknown, phase: 'policy' | 'quota', tenantId: string, request: TenantRequest | undefined): TenantRejected => {
    if (!TenantError.is(error)) hooks.error({ phase, error, tenantId });
    return reject(error, request, tenantId);
  };

  const afterQuota = (tenant: TenantConfig, args: AuthorizeArgs, cost: QuotaCost, result: QuotaResult): Authorized => {
    const { request } = args;
    const tenantId = tenant.id;
    if (hasOnQuota) hooks.emit('onQuota', { request, tenant, cost, result });
    const headers = rateLimitHeaders(result, clock.now(), tenant.quota);
    if (result.allowed) return { ok: true, tenant, source: args.source ?? 'direct', headers, quota: result };
    if (result.reason === 'backend_unavailable') {
      return reject(new TenantError('quota_unavailable', '[@tenant/core] The quota backend could not answer', { tenantId }), request, tenantId, { headers });
    }
    const which = (result.exceeded ?? []).join(' and ');
    const message =
      result.reason === 'cost_exceeds_limit'
        ? `[@tenant/core] This request costs more ${which} than the tenant's quota allows in one window`
        : `[@tenant/core] The tenant's ${which} quota is used up for this window`;
    return reject(new TenantError('quota_exceeded', message, { tenantId }), request, tenantId, {
      headers,
      extensions: { exceeded: result.exceeded ?? [] },
    });
  };

  const quotaFailed = (tenant: TenantConfig, args: AuthorizeArgs, cause: unknown): Authorized => {
    hooks.error({ phase: 'quota', error: cause, tenantId: tenant.id });
    if (failOpen) return { ok: true, tenant, source: args.source ?? 'direct', headers: NO_HEADERS };
    const error = new TenantError('quota_unavailable', '[@tenant/core] The quota backend could not answer', { cause, tenantId: tenant.id });
    return reject(error, args.request, tenant.id);
  };

  // Synchronous while the policy and quota answer synchronously: on Node 20
  // every promise pays for AsyncLocalStorage's hooks, so none is made in vain.
  const checkQuota = (tenant: TenantConfig, args: AuthorizeArgs): Authorized | Promise<Authorized> => {
    if (quota === undefined || (tenant.quota.requests === undefined && tenant.quota.tokens === undefined)) {
      return { ok: true, tenant, source: args.source ?? 'direct', headers: NO_HEADERS };
    }
    let cost: QuotaCost;
    try {
      cost = checkQuotaCost(args.cost ?? (args.routed !== undefined && costOf !== undefined ? costOf(args.routed) : DEFAULT_COST));
    } catch (error) {
      return failed(error, 'quota', tenant.id, args.request);
    }
    if (quota.consumeSync !== undefined) {
      let result: QuotaResult;
      try {
        result = quota.consumeSync(tenant.id, cost, tenant.quota);
      } catch (cause) {
        return quotaFailed(tenant, args, cause);
      }
      return afterQuota(tenant, args, cost, result);
    }
    let pending: Promise<QuotaResult>;
    try {
      pending = quota.consume(tenant.id, cost, tenant.quota);
    } catch (cause) {
      return quotaFailed(tenant, args, cause);
    }
    return pending.then(
      (result) => afterQuota(tenant, args, cost, result),
      (cause: unknown) => quotaFailed(tenant, args, cause),
    );
  };

  const afterPolicy = (tenant: TenantConfig, args: AuthorizeArgs, policyRequest: PolicyRequest, decision: PolicyDecision): Authorized | Promise<Authorized> => {
    const { request } = args;
    if (hasOnPolicy) hooks.emit('onPolicy', { request, tenant, policyRequest, decision });
    if (!decision.allowed) {
      const error = new TenantError('policy_denied', `[@tenant/core] ${decision.reason}`, { tenantId: tenant.id });
      return reject(error, request, tenant.id, { extensions: { dimension: decision.dimension } });
    }
    return checkQuota(tenant, args);
  };

  const authorize = (tenant: TenantConfig, given: AuthorizeArgs): Authorized | Promise<Authorized> => {
    const { request } = given;
    let args = given;
    let policyRequest: PolicyRequest | undefined;
    let pending: MaybePromise<PolicyDecision>;
    try {
      // The functions users write see the canonical path, computed once; a
      // path with none is refused (path_invalid) whatever they would read.
      if (request !== undefined && ((args.policy === undefined && policyRequestOf !== undefined) || (args.cost === undefined && costOf !== undefined))) {
        // built field by field: a spread followed by a property runs on V8's slow path
        args = { policy: given.policy, cost: given.cost, request, source: given.source, routed: routedRequest(request) };
      }
      policyRequest = args.policy ?? (args.routed !== undefined && policyRequestOf !== undefined ? policyRequestOf(args.routed) : undefined);
      if (policy === undefined || policyRequest === undefined) return checkQuota(tenant, args);
      pending = policy.evaluate(tenant, policyRequest);
    } catch (error) {
      return failed(error, 'policy', tenant.id, request);
    }
    const asked = policyRequest;
    if (!isPromiseLike(pending)) return afterPolicy(tenant, args, asked, pending);
    return Promise.resolve(pending).then(
      (decision) => afterPolicy(tenant, args, asked, decision),
      (error: unknown) => failed(error, 'policy', tenant.id, request),
    );
  };

  const authorizeResolved = (resolved: TenantDecision, request: TenantRequest, input: AuthorizeInput): TenantDecision | Promise<TenantDecision> =>
    !resolved.ok || resolved.tenant === undefined ? resolved : authorize(resolved.tenant, { policy: input.policy, cost: input.cost, request, source: resolved.source });

  const decide = (request: TenantRequest, input: AuthorizeInput = {}): TenantDecision | Promise<TenantDecision> => {
    const resolved = resolveRequest(request);
    return isPromiseLike(resolved) ? resolved.then((decision) => authorizeResolved(decision, request, input)) : authorizeResolved(resolved, request, input);
  };

  return Object.freeze({
    store,
    quota,
    validateId,
    async resolve(request: TenantRequest): Promise<TenantDecision> {
      return resolveRequest(request);
    },
    async authorize(tenant: TenantConfig, input: AuthorizeInput & { readonly request?: TenantRequest } = {}) {
      if (typeof tenant !== 'object' || tenant === null || typeof tenant.id !== 'string') {
        throw new TypeError('[@tenant/core] authorize() needs a tenant config');
      }
      return authorize(tenant, input);
    },
    async handle(request: TenantRequest, input: AuthorizeInput = {}): Promise<TenantDecision> {
      return decide(request, input);
    },
    decide,
    async settle(decision: TenantDecision, actual: QuotaCost): Promise<void> {
      if (!decision.ok || decision.tenant === undefined || quota === undefined) return;
      const ticket = decision.quota?.ticket;
      if (ticket === undefined || settled.has(ticket)) return;
      settled.add(ticket);
      try {
        await quota.settle(ticket, actual);
        if (hooks.has('onSettle')) hooks.emit('onSettle', { ticket, actual });
      } catch (error) {
        hooks.error({ phase: 'settle', error, tenantId: ticket.tenantId });
      }
    },
    run<R>(decision: TenantDecision, fn: () => R): R {
      return decision.ok && decision.tenant !== undefined ? runWithTenant(decision.tenant, fn) : runWithoutTenant(fn);
    },
    reject: (error: unknown, request?: TenantRequest) => reject(error, request, undefined),
  });
}
