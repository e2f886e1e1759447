import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { currentTenant, type PolicyRequest, type QuotaCost, type TenantAdmitted, type TenantConfig, type TenantRequest } from '@tenant/core';
import { stateOf } from './state.js';
import { REQUIRE_POLICY_KEY, SKIP_TENANCY_KEY, TENANT_COST_KEY } from './tokens.js';

/** What a route asks of the tenant's policy: fixed, or read from the request. */
export type RoutePolicy = PolicyRequest | ((request: TenantRequest) => PolicyRequest | undefined);

/** What a route costs against the tenant's quota: fixed, or estimated from the request. */
export type RouteCost = QuotaCost | ((request: TenantRequest) => QuotaCost);

/**
 * The route needs no tenant: the guard lets every request through, with no
 * policy and no quota, even one whose tenant was refused (unknown,
 * suspended, missing). `currentTenant()` there is the tenant when one was
 * named and may be served, `undefined` otherwise. On a controller, applies to
 * all its routes.
 *
 * The tenant is still resolved (the middleware runs before Nest knows the
 * route), so hooks see it: for paths that should not even be resolved, such
 * as health checks, use the `skipPaths` option.
 *
 * @example
 * ```ts
 * import { Controller, Get } from '@nestjs/common';
 * import { SkipTenancy } from '@tenant/nestjs';
 *
 * @Controller('status')
 * export class StatusController {
 *   @Get() @SkipTenancy() status() { return { ok: true }; }
 * }
 * ```
 */
export const SkipTenancy = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_TENANCY_KEY, true);

/**
 * What the route asks of the tenant's policy (allow-lists of models, tools,
 * features…), checked by the module's guard for the route Nest matched, so
 * no spelling of the path can avoid it. Overrides the `policyRequest` option
 * for this route; a function returning `undefined` checks nothing. On a
 * controller, applies to the routes without their own.
 *
 * @example
 * ```ts
 * import { Controller, Post } from '@nestjs/common';
 * import { RequirePolicy } from '@tenant/nestjs';
 *
 * @Controller('chat')
 * export class ChatController {
 *   @Post() @RequirePolicy((request) => ({ models: request.header('x-model') ?? 'default' })) chat() {}
 *   @Post('tools') @RequirePolicy({ features: 'tools' }) tools() {}
 * }
 * ```
 */
export const RequirePolicy = (policy: RoutePolicy): MethodDecorator & ClassDecorator => {
  if (typeof policy !== 'function' && (typeof policy !== 'object' || policy === null)) {
    throw new TypeError('[@tenant/nestjs] RequirePolicy takes a policy request ({ models: ... }) or a function of the request');
  }
  return SetMetadata(REQUIRE_POLICY_KEY, policy);
};

/**
 * What the route costs against the tenant's quota (`{ requests, tokens }`),
 * charged by the module's guard for the route Nest matched. Overrides the
 * `cost` option for this route. On a controller, applies to the routes
 * without their own.
 *
 * @example
 * ```ts
 * import { Controller, Post } from '@nestjs/common';
 * import { TenantCost } from '@tenant/nestjs';
 *
 * @Controller('reports')
 * export class ReportsController {
 *   @Post() @TenantCost({ requests: 10 }) build() {}
 *   @Post('summary') @TenantCost((request) => ({ requests: 1, tokens: Number(request.header('x-max-tokens') ?? 500) })) summary() {}
 * }
 * ```
 */
export const TenantCost = (cost: RouteCost): MethodDecorator & ClassDecorator => {
  if (typeof cost !== 'function' && (typeof cost !== 'object' || cost === null)) {
    throw new TypeError('[@tenant/nestjs] TenantCost takes a cost ({ requests, tokens }) or a function of the request');
  }
  return SetMetadata(TENANT_COST_KEY, cost);
};

/**
 * The tenant of the request, as a handler parameter: the `TenantConfig`, or
 * `undefined` when the request has none (a skipped path, a `@SkipTenancy()`
 * route, no tenant where none is required). With a key, that property of it.
 * It is the tenant `currentTenant()` returns in the same request.
 *
 * @example
 * ```ts
 * import { Controller, Get } from '@nestjs/common';
 * import type { TenantConfig } from '@tenant/core';
 * import { CurrentTenant } from '@tenant/nestjs';
 *
 * @Controller()
 * export class WhoamiController {
 *   @Get('whoami') whoami(@CurrentTenant() tenant: TenantConfig) { return { id: tenant.id, plan: tenant.plan }; }
 *   @Get('id') id(@CurrentTenant('id') id: string) { return id; }
 * }
 * ```
 */
export const CurrentTenant: (key?: keyof TenantConfig) => ParameterDecorator = createParamDecorator(
  (key: keyof TenantConfig | undefined, context: ExecutionContext): unknown => {
    const state = stateOf(context.switchToHttp().getRequest());
    // outside an HTTP request that went through the middleware: the context's tenant
    const tenant = state === undefined ? currentTenant() : state.tenant;
    return key === undefined || tenant === undefined ? tenant : tenant[key];
  },
);

/**
 * The admission of the request, as a handler parameter: the pipeline's
 * decision once the guard admitted it (its `RateLimit` headers, the quota
 * result with what remains per dimension, the resolver that found the
 * tenant), or `undefined` when the request has no tenant (a skipped path,
 * a `@SkipTenancy()` route).
 *
 * @example
 * ```ts
 * import { Controller, Get } from '@nestjs/common';
 * import type { TenantAdmitted } from '@tenant/core';
 * import { CurrentDecision } from '@tenant/nestjs';
 *
 * @Controller()
 * export class QuotaController {
 *   @Get('quota') quota(@CurrentDecision() decision: TenantAdmitted | undefined) { return decision?.quota?.dimensions; }
 * }
 * ```
 */
export const CurrentDecision: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): TenantAdmitted | undefined => stateOf(context.switchToHttp().getRequest())?.authorized,
);
