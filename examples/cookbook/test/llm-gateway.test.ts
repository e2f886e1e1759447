import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTenantStore } from '@tenant/core';
import { createKeyring } from '../src/api-keys.js';
import { createGateway, type Upstream } from '../src/llm-gateway.js';
import { parseRateLimit } from '@tenant/adapter-testkit';
import { listenFastify, problem, sendRequest, type StartedServer } from './http.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('recipe: an LLM gateway with token quotas (fastify, Redis)', () => {
  const prefix = `cookbook:gw:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  const keyring = createKeyring();
  const registry = new Registry();
  const store = createMemoryTenantStore({
    tenants: [
      {
        id: 'acme',
        policy: { models: ['small', 'large'] },
        quota: { requests: { limit: 100, windowMs: 60_000 }, tokens: { limit: 1_000, windowMs: 86_400_000 } }, // a daily token budget
      },
    ],
  });
  // A fake provider: answers with a fixed token count, or fails on demand.
  const upstream: Upstream & { fail: boolean } = {
    fail: false,
    async complete({ model, prompt }) {
      if (this.fail) throw new Error('provider down');
      return { text: `${model}: ${prompt}`, totalTokens: 50 };
    },
  };
  let server: StartedServer;
  let key: string;
  const complete = (body: unknown) =>
    sendRequest(server.url, {
      method: 'POST',
      path: '/v1/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const remainingTokens = (ratelimit: string | string[] | undefined) => parseRateLimit(ratelimit, 'tokens')?.r ?? Number.NaN;

  beforeAll(async () => {
    await redis.connect(); // fails the suite when Redis is not there
    key = (await keyring.issue('acme')).key;
    server = await listenFastify(await createGateway({ store, keyring, upstream, redis, registry, quotaPrefix: prefix }));
  });
  afterAll(async () => {
    await server?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('answers with an allowed model and charges the real token count, not the estimate', async () => {
    const first = await complete({ model: 'small', prompt: 'hello', max_tokens: 200 });
    expect(first.status).toBe(200);
    expect(first.json()).toEqual({ model: 'small', text: 'small: hello', usage: { estimated: 202, total_tokens: 50 } });
    // the headers of the first answer are taken before settling: the estimate is charged
    expect(remainingTokens(first.headers['ratelimit'])).toBe(1_000 - 202);
    // the next request sees the settled cost (50), not the estimate (202)
    const second = await complete({ model: 'large', prompt: 'hi', max_tokens: 10 });
    expect(remainingTokens(second.headers['ratelimit'])).toBe(1_000 - 50 - 11);
  });

  it('refuses a model outside the tenant policy', async () => {
    const response = await complete({ model: 'gpt-huge', prompt: 'hi' });
    expect([response.status, problem(response).code]).toEqual([403, 'policy_denied']);
  });

  it('refuses bad bodies and unknown keys before any quota is spent', async () => {
    expect((await complete({ model: 'small' })).status).toBe(400);
    const anonymous = await sendRequest(server.url, { method: 'POST', path: '/v1/completions', headers: { 'x-tenant-id': 'acme' } });
    expect(anonymous.status).toBe(401);
  });

  it('gives the estimate back when the provider fails', async () => {
    const before = remainingTokens((await complete({ model: 'small', prompt: '', max_tokens: 1 })).headers['ratelimit']);
    upstream.fail = true;
    try {
      expect((await complete({ model: 'small', prompt: '', max_tokens: 500 })).status).toBe(502);
    } finally {
      upstream.fail = false;
    }
    // before: after the 1-token estimate, settled to 50; now the same probe again
    const after = remainingTokens((await complete({ model: 'small', prompt: '', max_tokens: 1 })).headers['ratelimit']);
    expect(after).toBe(before - (50 - 1) - 1);
  });

  it('answers 429 with Retry-After when a request would exceed what is left of the token budget', async () => {
    const response = await complete({ model: 'small', prompt: 'x', max_tokens: 900 }); // 200 of 1,000 used so far
    expect(response.status).toBe(429);
    expect(problem(response).code).toBe('quota_exceeded');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('answers 429 without Retry-After when a request alone costs more than the budget', async () => {
    const response = await complete({ model: 'small', prompt: 'x', max_tokens: 4_000 });
    expect([response.status, problem(response).code]).toEqual([429, 'quota_exceeded']);
    expect(response.headers['retry-after']).toBeUndefined(); // waiting would not help
  });

  it('exports per-tenant metrics', async () => {
    const text = (await sendRequest(server.url, { path: '/metrics' })).text();
    expect(text).toContain('tenant_policy_denials_total{dimension="models",tenant="acme"} 1');
    expect(text).toContain('tenant_quota_rejections_total{reason="limit_exceeded",tenant="acme"} 1');
    expect(text).toContain('tenant_quota_rejections_total{reason="cost_exceeds_limit",tenant="acme"} 1');
  });
});
