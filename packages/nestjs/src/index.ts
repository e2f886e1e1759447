/**
 * Multi-tenancy for NestJS, on `@nestjs/platform-express` and
 * `@nestjs/platform-fastify`, with the `@tenant/core` pipeline:
 * `TenancyModule.forRoot()` / `forRootAsync()`, the tenant context for the
 * whole request, `@CurrentTenant()`, `TenancyService`, `@SkipTenancy()`,
 * route policy and cost with `@RequirePolicy()` / `@TenantCost()` checked
 * for the route Nest matched, and refusals as `application/problem+json`
 * through Nest's exception layer.
 *
 * @packageDocumentation
 */
export { TenancyModule } from './module.js';
export type { TenancyModuleOptions, TenancyModuleAsyncOptions, TenancyModuleExtras } from './module.js';
export { TenancyService } from './service.js';
export { TenancyGuard } from './guard.js';
export { TenancyMiddleware } from './middleware.js';
export { TenancyException } from './exception.js';
export { TenancyExceptionFilter, replyWithRejection } from './filter.js';
export { CurrentTenant, CurrentDecision, SkipTenancy, RequirePolicy, TenantCost } from './decorators.js';
export type { RoutePolicy, RouteCost } from './decorators.js';
export { TENANCY_OPTIONS, TENANCY_PIPELINE } from './tokens.js';
export type { AdapterOptions } from '@tenant/core';
