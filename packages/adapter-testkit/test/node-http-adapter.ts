import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { adapterRequest, settleOnFinish, tenancyFrom, writeRejection, type AdapterOptions, type TenantConfig } from '@tenant/core';

/** A `node:http` request listener that is also given the request's tenant. */
export type TenantRequestListener = (req: IncomingMessage, res: ServerResponse, tenant: TenantConfig | undefined) => void | Promise<void>;

/**
 * Wraps a `node:http` request listener with tenancy: resolves the tenant,
 * refuses what the pipeline refuses (problem+json), and calls `listener`
 * inside the tenant context. A listener that throws or rejects gets a 500
 * problem (or a destroyed socket, if it had started answering).
 */
export function withTenancy(options: AdapterOptions, listener: TenantRequestListener): RequestListener {
  // 1. One pipeline for the server; options are checked here, at start-up.
  const pipeline = tenancyFrom(options);
  const { actualCost } = options;

  return (req, res) => {
    // 2. The neutral request view, once per request (principal and trustProxy included).
    const request = adapterRequest(req, options);
    pipeline
      .handle(request)
      .then((decision) => {
        // 3. Refused: status, headers and problem+json body; the listener never runs.
        if (!decision.ok) return writeRejection(res, decision);
        // 4. Admitted: rate-limit headers, settle after the response, listener inside the context.
        for (const name in decision.headers) res.setHeader(name, decision.headers[name] as string);
        settleOnFinish(pipeline, decision, request, res, actualCost);
        return pipeline.run(decision, () => listener(req, res, decision.tenant));
      })
      .catch((error: unknown) => {
        // 5. The listener failed: a 500 problem if nothing was sent yet.
        if (res.headersSent) res.destroy();
        else writeRejection(res, pipeline.reject(error, request));
      });
  };
}
