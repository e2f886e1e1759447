import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createTenancy, fromClaim, requireTenant, type TenantStore } from '@tenant/core';
import { fastifyTenancy } from '@tenant/fastify';
import { createTenantMetrics, metricsResponse } from '@tenant/metrics';
import { createRedisSlidingQuota } from '@tenant/quota-sliding';
import { bearer, UNAUTHORIZED, type ApiKeyPrincipal, type Keyring } from './api-keys.js';

/** The model provider behind the gateway. */
export interface Upstream {
  complete(input: { model: string; prompt: string; maxTokens: number }): Promise<{ text: string; totalTokens: number }>;
}

export interface GatewayOptions {
  readonly store: TenantStore;
  readonly keyring: Keyring;
  readonly upstream: Upstream;
  /** A fail-fast ioredis client (`enableOfflineQueue: false`, `maxRetriesPerRequest: 1`). */
  readonly redis: Redis;
  readonly registry: Registry;
  readonly quotaPrefix?: string;
}

/**
 * An LLM gateway: API keys name the tenant, each tenant's policy lists the
 * models it may use, and its quota limits requests and tokens per minute
 * across every instance (Redis). Tokens are estimated up front and settled
 * with the real count.
 */
export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const { keyring, upstream, registry } = options;
  const metrics = createTenantMetrics({ registry, tenantLabel: { top: 50 } });
  const pipeline = createTenancy({
    store: options.store,
    resolve: fromClaim('tenant_id'),
    // One window for every instance; Redis down -> 503 quota_unavailable (money is at stake).
    quota: createRedisSlidingQuota({ client: options.redis, prefix: options.quotaPrefix ?? 'gw:q:', onFailure: 'closed', hooks: metrics.hooks }),
    hooks: metrics.hooks,
    skipPaths: ['/metrics'],
  });

  const principals = new WeakMap<IncomingMessage, ApiKeyPrincipal>();
  const app = Fastify();
  // Authentication first: hooks added before the plugin run before it.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/metrics') return;
    const key = bearer(request.headers.authorization);
    const principal = key === undefined ? undefined : await keyring.verify(key);
    if (principal === undefined) {
      return reply.code(401).headers({ 'www-authenticate': 'Bearer', 'content-type': 'application/problem+json' }).send(JSON.stringify(UNAUTHORIZED));
    }
    principals.set(request.raw, principal);
  });
  await app.register(fastifyTenancy, { tenancy: pipeline, principal: (req) => principals.get(req) });

  app.get('/metrics', async (request, reply) => {
    const { status, headers, body } = await metricsResponse(registry, request.method);
    return reply.code(status).headers(headers).send(body);
  });

  const body = {
    type: 'object',
    required: ['model', 'prompt'],
    properties: { model: { type: 'string' }, prompt: { type: 'string', maxLength: 100_000 }, max_tokens: { type: 'integer', minimum: 1, maximum: 4096 } },
  };
  app.post('/v1/completions', { schema: { body } }, async (request, reply) => {
    const { model, prompt, max_tokens: maxTokens = 256 } = request.body as { model: string; prompt: string; max_tokens?: number };
    // The model and the token estimate are known only from the body: check them here, with the same pipeline.
    const estimate = Math.ceil(prompt.length / 4) + maxTokens;
    const check = await pipeline.authorize(requireTenant(), { policy: { models: model }, cost: { tokens: estimate } });
    if (!check.ok) return reply.code(check.status).headers(check.headers).send(Buffer.from(JSON.stringify(check.body)));

    let answer: { text: string; totalTokens: number };
    try {
      answer = await upstream.complete({ model, prompt, maxTokens });
    } catch (error) {
      await pipeline.settle(check, { tokens: 0 }); // the provider failed: give the estimate back
      request.log.error(error);
      return reply.code(502).send({ error: 'upstream failed' });
    }
    await pipeline.settle(check, { tokens: answer.totalTokens }); // refund or charge the difference
    return reply.headers(check.headers).send({ model, text: answer.text, usage: { estimated: estimate, total_tokens: answer.totalTokens } });
  });
  return app;
}
