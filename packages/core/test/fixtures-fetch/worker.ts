// A Workers-style module that uses @tenant/core/fetch, compiled with no
// @types/node (tsconfig.json: "types": [], DOM lib): see ../fetch-types.test.ts.
import {
  createMemoryTenantStore,
  finishResponse,
  adapterFetchRequest,
  rejectionResponse,
  requireTenant,
  tenancyFrom,
  withTenancy,
  type FetchAdapterOptions,
  type TenantConfig,
} from '@tenant/core/fetch';

interface Env {
  readonly REGION: string;
}

const options: FetchAdapterOptions<[env: Env]> = {
  store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }),
  principal: (request, env) => ({ tenant_id: request.headers.get('x-claim') ?? undefined, region: env.REGION }),
  actualCost: (_request, response) => ({ tokens: Number(response.getHeader('x-tokens') ?? 0) }),
};

export default {
  fetch: withTenancy(options, async (_request: Request, env: Env) => {
    const tenant: TenantConfig = requireTenant();
    return Response.json({ tenant: tenant.id, region: env.REGION });
  }),
};

const pipeline = tenancyFrom(options);
export async function manual(request: Request, env: Env): Promise<Response> {
  const view = adapterFetchRequest(request, options, env);
  const decision = await pipeline.handle(view);
  if (!decision.ok) return rejectionResponse(decision);
  return finishResponse(pipeline, decision, view, new Response('ok'));
}
