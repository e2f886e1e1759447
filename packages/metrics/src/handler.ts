import type { Registry } from 'prom-client';

/** A framework-neutral HTTP response. */
export interface MetricsResponse {
  readonly status: number;
  readonly headers: { readonly [name: string]: string };
  readonly body: string;
}

/** The few request members the node:http handler reads. */
export interface MetricsRequestLike {
  readonly method?: string | undefined;
}

/** The few response members the node:http handler uses (a `ServerResponse` fits). */
export interface MetricsResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/**
 * Renders `registry` as a framework-neutral response: 200 with the
 * Prometheus text format for GET (empty body for HEAD), 405 for other
 * methods, 500 with a short text when a collector fails. Never rejects.
 *
 * @example
 * ```ts
 * import { metricsResponse } from '@tenant/metrics';
 *
 * app.get('/metrics', async (c) => {
 *   const { status, headers, body } = await metricsResponse(registry, c.req.method);
 *   return new Response(body, { status, headers });
 * });
 * ```
 */
export async function metricsResponse(registry: Registry, method = 'GET'): Promise<MetricsResponse> {
  const upper = method.toUpperCase();
  if (upper !== 'GET' && upper !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'Method Not Allowed\n' };
  }
  try {
    const body = await registry.metrics();
    return { status: 200, headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' }, body: upper === 'HEAD' ? '' : body };
  } catch {
    return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'metrics collection failed\n' };
  }
}

/**
 * A `/metrics` handler for node:http (and anything with a `ServerResponse`:
 * express, koa's `ctx.res`, fastify's `reply.raw`).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { metricsHandler } from '@tenant/metrics';
 *
 * const serveMetrics = metricsHandler(registry);
 * createServer((req, res) => {
 *   if (req.url === '/metrics') return serveMetrics(req, res);
 *   // ...
 * }).listen(9464);
 * ```
 */
export function metricsHandler(registry: Registry): (req: MetricsRequestLike, res: MetricsResponseLike) => void {
  return (req, res) => {
    void metricsResponse(registry, req.method ?? 'GET').then((response) => {
      try {
        res.statusCode = response.status;
        for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
        res.end(response.body);
      } catch {
        // The response is already sent or its socket is gone: nothing left to tell the client.
      }
    });
  };
}
