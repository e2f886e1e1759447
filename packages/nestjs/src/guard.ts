import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { settleOnFinish, type AdapterOptions, type AuthorizeInput, type Tenancy, type TenantResponseView } from '@tenant/core';
import type { RouteCost, RoutePolicy } from './decorators.js';
import { TenancyException } from './exception.js';
import { stateOf, type RequestState } from './state.js';
import { REQUIRE_POLICY_KEY, SKIP_TENANCY_KEY, TENANCY_OPTIONS, TENANCY_PIPELINE, TENANT_COST_KEY } from './tokens.js';

const isView = (value: unknown): value is TenantResponseView =>
  typeof value === 'object' && value !== null && typeof (value as { getHeader?: unknown }).getHeader === 'function' && typeof (value as { statusCode?: unknown }).statusCode === 'number';

/** The state of a request found among a handler's arguments: the request itself, or a context object's `req` / `request` (GraphQL). */
function findState(args: readonly unknown[]): RequestState | undefined {
  for (const arg of args) {
    if (typeof arg !== 'object' || arg === null) continue;
    const state = stateOf(arg) ?? stateOf((arg as { req?: unknown }).req) ?? stateOf((arg as { request?: unknown }).request);
    if (state !== undefined) return state;
  }
  return undefined;
}

interface RouteRules {
  readonly controller: object;
  readonly skip: boolean;
  readonly policy: RoutePolicy | undefined;
  readonly cost: RouteCost | undefined;
}

/**
 * The module's global guard (`APP_GUARD`): for the route Nest matched, it
 * refuses what the middleware's resolution refused, then asks the pipeline
 * for policy and quota with the route's `@RequirePolicy()` and
 * `@TenantCost()` (or the `policyRequest` and `cost` options), and refuses
 * with a {@link TenancyException}. On admission it adds the `RateLimit`
 * headers and settles the actual cost after the response. `@SkipTenancy()`
 * routes pass untouched. Other handlers (GraphQL resolvers, gateways,
 * message handlers) get no policy or quota check, but one serving an HTTP
 * request whose tenant was refused is refused too.
 */
@Injectable()
export class TenancyGuard implements CanActivate {
  constructor(
    @Inject(TENANCY_PIPELINE) private readonly pipeline: Tenancy,
    @Inject(TENANCY_OPTIONS) private readonly options: AdapterOptions,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  // The rules of each route, read once from its metadata (handler first, then controller).
  private readonly rules = new WeakMap<object, RouteRules>();

  private rulesOf(context: ExecutionContext): RouteRules {
    const handler = context.getHandler();
    let rules = this.rules.get(handler);
    // keyed by handler, checked by class: a handler inherited by two controllers has two sets of rules
    if (rules === undefined || rules.controller !== context.getClass()) {
      const targets = [handler, context.getClass()];
      rules = {
        controller: context.getClass(),
        skip: this.reflector.getAllAndOverride<boolean | undefined>(SKIP_TENANCY_KEY, targets) === true,
        policy: this.reflector.getAllAndOverride<RoutePolicy | undefined>(REQUIRE_POLICY_KEY, targets),
        cost: this.reflector.getAllAndOverride<RouteCost | undefined>(TENANT_COST_KEY, targets),
      };
      this.rules.set(handler, rules);
    }
    return rules;
  }

  /**
   * Nest calls this before each handler.
   * @returns true when admitted (or when the route needs no tenant).
   * @throws TenancyException when refused; Error (500) when the module's middleware did not run for an HTTP request.
   */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return this.canActivateOther(context);
    const { skip, policy, cost } = this.rulesOf(context);
    if (skip) return true;
    const http = context.switchToHttp();
    const state = stateOf(http.getRequest());
    if (state === undefined) {
      // fail closed: a route this module guards, reached without its middleware
      throw new Error('[@tenant/nestjs] TenancyMiddleware did not run for this request: import TenancyModule.forRoot() (or forRootAsync()) in the application module');
    }
    const { resolved } = state;
    const { pipeline } = this;
    const request: unknown = http.getRequest();
    // the route Nest matched, for the functions of the options (request.route): express req.route.path, fastify routeOptions.url
    const route = (request as { routeOptions?: { url?: unknown } }).routeOptions?.url ?? (request as { route?: { path?: unknown } }).route?.path;
    // set on the middleware's view (ours, made for this request) rather than on a copy over it: an
    // object used as a prototype gets a map of its own in V8, which slows every later access to it
    if (typeof route === 'string' && state.view.route === undefined) (state.view as { route?: string }).route = route;
    const { view } = state;
    if (!resolved.ok) throw new TenancyException(resolved);
    if (resolved.tenant === undefined) return true; // skipped path, central host, or no tenant where none is required

    let input: AuthorizeInput & { request: typeof view };
    try {
      const policyRequest = typeof policy === 'function' ? policy(view) : policy;
      input = {
        request: view,
        ...(policyRequest === undefined ? {} : { policy: policyRequest }),
        ...(cost === undefined ? {} : { cost: typeof cost === 'function' ? cost(view) : cost }),
      };
    } catch (error) {
      throw new TenancyException(pipeline.reject(error, view));
    }
    const decision = await pipeline.authorize(resolved.tenant, input);
    if (!decision.ok) throw new TenancyException(decision);
    const admitted = { ...decision, source: resolved.source };
    state.authorized = admitted;
    for (const name in admitted.headers) state.res.setHeader(name, admitted.headers[name] as string);
    const response: unknown = http.getResponse();
    // fastify's reply keeps headers apart from the raw response until it sends; it reads both
    settleOnFinish(pipeline, admitted, view, state.res, this.options.actualCost, isView(response) ? response : state.res);
    return true;
  }

  /**
   * Other kinds of handlers (GraphQL resolvers, gateways, message handlers):
   * policy and quota are for HTTP routes, but a request that came over HTTP
   * through the middleware and whose tenant was refused never runs, whatever
   * handles it. With no such request at hand (a message, a socket), there is
   * nothing to check.
   */
  private canActivateOther(context: ExecutionContext): boolean {
    if (this.rulesOf(context).skip) return true;
    const state = findState(context.getArgs());
    if (state !== undefined && !state.resolved.ok) throw new TenancyException(state.resolved);
    return true;
  }
}
