import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_ESTIMATE_TOKENS, createApp } from '../src/app.js';

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = await createApp();
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => app.close());

const call = (path: string, tenant: string | undefined, init: RequestInit = {}) =>
  fetch(base + path, {
    ...init,
    headers: { ...(tenant ? { 'x-tenant-id': tenant } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
  });

type Quota = { tokens: { remaining: number; limit: number } };

describe('fastify example', () => {
  it('serves /health without a tenant and refuses other routes without one', async () => {
    expect((await call('/health', undefined)).status).toBe(200);
    const res = await call('/whoami', undefined);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('tenant_missing');
  });

  it('resolves by header and by subdomain', async () => {
    const byHeader = (await (await call('/whoami', 'acme')).json()) as { id: string; viaRequest: string };
    expect(byHeader).toMatchObject({ id: 'acme', viaRequest: 'acme' });
    const bySubdomain = await new Promise<string>((resolve, reject) => {
      request(base + '/whoami', { headers: { host: 'globex.localhost' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect((JSON.parse(bySubdomain) as { id: string }).id).toBe('globex');
  });

  it('keeps notes apart between tenants: create, list, get, delete', async () => {
    const created = await call('/notes', 'acme', { method: 'POST', body: JSON.stringify({ text: 'acme secret' }) });
    expect(created.status).toBe(201);
    const note = (await created.json()) as { id: string; text: string };
    expect(((await (await call('/notes', 'acme')).json()) as { items: { id: string }[] }).items.map((n) => n.id)).toContain(note.id);
    expect(((await (await call('/notes', 'globex')).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await call(`/notes/${note.id}`, 'globex')).status).toBe(404);
    expect((await call(`/notes/${note.id}`, 'globex', { method: 'DELETE' })).status).toBe(404);
    expect(((await (await call(`/notes/${note.id}`, 'acme')).json()) as { text: string }).text).toBe('acme secret');
    expect((await call(`/notes/${note.id}`, 'acme', { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/notes/${note.id}`, 'acme')).status).toBe(404);
    expect((await call('/notes', 'acme', { method: 'POST', body: JSON.stringify({ text: '' }) })).status).toBe(400);
  });

  it('refuses suspended and unknown tenants', async () => {
    expect((await call('/whoami', 'initech')).status).toBe(403);
    expect((await call('/whoami', 'nobody')).status).toBe(404);
  });

  it('checks the model by policy, and settles the real token count after /chat', async () => {
    const denied = await call('/chat?model=gpt-4o', 'globex', { method: 'POST', body: JSON.stringify({ prompt: 'hi' }) });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe('policy_denied');
    const before = (await (await call('/whoami', 'acme')).json()) as { quota: Quota };
    const ok = await call('/chat?model=gpt-4o', 'acme', { method: 'POST', body: JSON.stringify({ prompt: 'hello there' }) });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { tenant: string; usage: { tokens: number } };
    expect(body.tenant).toBe('acme');
    expect(body.usage.tokens).toBeLessThan(CHAT_ESTIMATE_TOKENS);
    // The settled (real) token count, not the estimate, is what stays charged.
    await expect
      .poll(async () => {
        const after = (await (await call('/whoami', 'acme')).json()) as { quota: Quota };
        return before.quota.tokens.remaining - after.quota.tokens.remaining;
      })
      .toBe(body.usage.tokens);
  });

  it('answers 429 with rate-limit headers once the quota is used up', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 10; i += 1) {
      last = await call('/whoami', 'globex');
      if (last.status === 429) break;
    }
    expect(last?.status).toBe(429);
    expect(last?.headers.get('retry-after')).toMatch(/^[0-9]+$/);
    expect(last?.headers.get('ratelimit-policy')).toContain('"requests";q=5');
    expect(((await last!.json()) as { code: string }).code).toBe('quota_exceeded');
  });
});
