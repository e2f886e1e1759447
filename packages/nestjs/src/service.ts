import { Inject, Injectable } from '@nestjs/common';
import {
  currentTenant,
  requireTenant,
  runWithTenant,
  runWithoutTenant,
  TenantError,
  type AuthorizeInput,
  type Tenancy,
  type TenantAdmitted,
  type TenantConfig,
} from '@tenant/core';
import { TenancyException } from './exception.js';
import { TENANCY_PIPELINE } from './tokens.js';

/**
 * The tenant context as an injectable singleton: inject it anywhere
 * (services, guards, interceptors, gateways) without making anything
 * request-scoped. It reads the context the module's middleware entered for
 * the request (`AsyncLocalStorage`), so it answers for the request that is
 * running, across awaits.
 *
 * @example
 * ```ts
 * import { Injectable } from '@nestjs/common';
 * import { TenancyService } from '@tenant/nestjs';
 *
 * @Injectable()
 * export class NotesService {
 *   constructor(private readonly tenancy: TenancyService) {}
 *   list() { return this.db.notes.where({ tenantId: this.tenancy.require().id }); }
 *   async summarize(model: string) {
 *     await this.tenancy.authorize({ policy: { models: model }, cost: { tokens: 500 } });
 *     // ...
 *   }
 * }
 * ```
 */
@Injectable()
export class TenancyService {
  constructor(@Inject(TENANCY_PIPELINE) readonly pipeline: Tenancy) {}

  /** The current tenant, or `undefined` outside a tenant context (a skipped route, a job with no tenant). */
  current(): TenantConfig | undefined {
    return currentTenant();
  }

  /**
   * The current tenant.
   * @throws TenantError `tenant_context_missing` outside a tenant context: tenant-scoped code fails closed.
   */
  require(): TenantConfig {
    return requireTenant();
  }

  /** Runs `fn` with `tenant` as the current tenant (for work started outside a request: jobs, consumers). */
  run<R>(tenant: TenantConfig, fn: () => R): R {
    return runWithTenant(tenant, fn);
  }

  /** Runs `fn` explicitly with no tenant (landlord work inside a tenant request). */
  runWithout<R>(fn: () => R): R {
    return runWithoutTenant(fn);
  }

  /**
   * Checks the current tenant's policy and charges its quota for what only
   * the handler knows (a model named in the body, a token estimate), with
   * the pipeline's rules. This is a charge of its own, beside the route's.
   *
   * @returns the admission, with its `RateLimit` headers.
   * @throws TenancyException when refused (`policy_denied`, `quota_exceeded`…),
   *   or with `tenant_context_missing` (500) outside a tenant context; Nest
   *   answers it as the guard's refusals are answered.
   */
  async authorize(input: AuthorizeInput = {}): Promise<TenantAdmitted> {
    const tenant = currentTenant();
    if (tenant === undefined) {
      throw new TenancyException(
        this.pipeline.reject(new TenantError('tenant_context_missing', '[@tenant/nestjs] authorize() needs a tenant context: call it while serving a tenant request')),
      );
    }
    const decision = await this.pipeline.authorize(tenant, input);
    if (!decision.ok) throw new TenancyException(decision);
    return decision;
  }
}
