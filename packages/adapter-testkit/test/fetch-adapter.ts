import {
  adapterFetchRequest,
  finishResponse,
  rejectionResponse,
  tenancyFrom,
  type FetchAdapterOptions,
  type TenantConfig,
} from '@tenant/core/fetch';

/** A fetch handler that is also given the request's tenant. */
export type TenantFetchHandler = (request: Request, tenant: TenantConfig | undefined) => Response | Promise<Response>;

/**
 * Wraps a fetch handler with tenancy: resolves the tenant, answers what the
 * pipeline refuses (problem+json), and calls `handler` inside the tenant
 * context; its response gets the quota headers, its body is read in the
 * context, and the actual cost is settled once the body is done. Errors of
 * `handler` are the runtime's to answer (a 500).
 */
export function tenantFetch(options: FetchAdapterOptions, handler: TenantFetchHandler): (request: Request) => Promise<Response> {
  // 1. One pipeline for the server; options are checked here, at start-up.
  const pipeline = tenancyFrom(options);
  const finish = options.actualCost === undefined ? {} : { actualCost: options.actualCost };

  return async (raw) => {
    // 2. The neutral request view, once per request (principal and trustProxy included).
    const request = adapterFetchRequest(raw, options);
    const decision = await pipeline.handle(request);
    // 3. Refused: a problem+json Response; the handler never runs.
    if (!decision.ok) return rejectionResponse(decision);
    // 4. Admitted: the handler inside the context, then headers, context for the body, settle.
    const response = await pipeline.run(decision, () => handler(raw, decision.tenant));
    return finishResponse(pipeline, decision, request, response, finish);
  };
}
