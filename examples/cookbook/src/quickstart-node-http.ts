import { createServer, type Server } from 'node:http';
import { createTenancy, requireTenant, toTenantRequest, writeRejection } from '@tenant/core';
import { quickstartOptions } from './quickstart-tenants.js';

export function createApp(): Server {
  const tenancy = createTenancy(quickstartOptions());
  return createServer(async (req, res) => {
    const decision = await tenancy.handle(toTenantRequest(req));
    if (!decision.ok) return writeRejection(res, decision); // problem+json: 400, 403, 404, 410, 429, 503
    res.writeHead(200, { ...decision.headers, 'content-type': 'application/json' });
    tenancy.run(decision, () => {
      if (decision.tenant === undefined) res.end(JSON.stringify({ status: 'ok' })); // /health: no tenant
      else res.end(JSON.stringify({ tenant: requireTenant().id, plan: requireTenant().plan })); // anywhere below run()
    });
  });
}
