import type { AddressInfo } from 'node:net';
import { request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createApp();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (path: string, tenant: string | undefined, init: RequestInit = {}) =>
  fetch(base + path, {
    ...init,
    headers: { ...(tenant ? { 'x-tenant-id': tenant } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
  });

describe('node:http example', () => {
  it('serves /health without a tenant and refuses other routes without one', async () => {
    expect((await call('/health', undefined)).status).toBe(200);
    const res = await call('/whoami', undefined);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('tenant_missing');
  });

  it('resolves by header and by subdomain', async () => {
    const byHeader = (await (await call('/whoami', 'acme')).json()) as { id: string };
    expect(byHeader.id).toBe('acme');
    // fetch() may not set Host: use node:http for the subdomain.
    const bySubdomain = await new Promise<string>((resolve, reject) => {
      request(base + '/whoami', { headers: { host: 'acme.localhost' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect((JSON.parse(bySubdomain) as { id: string }).id).toBe('acme');
  });

  it('keeps notes apart between tenants', async () => {
    const created = await call('/notes', 'acme', { method: 'POST', body: JSON.stringify({ text: 'acme secret' }) });
    expect(created.status).toBe(201);
    const note = (await created.json()) as { id: string };
    const globexList = (await (await call('/notes', 'globex')).json()) as { items: unknown[] };
    expect(globexList.items).toEqual([]);
    expect((await call(`/notes/${note.id}`, 'globex')).status).toBe(404);
    expect((await call(`/notes/${note.id}`, 'globex', { method: 'DELETE' })).status).toBe(404);
    expect((await call(`/notes/${note.id}`, 'acme')).status).toBe(200);
    expect((await call(`/notes/${note.id}`, 'acme', { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/notes/${note.id}`, 'acme')).status).toBe(404);
  });

  it('refuses suspended and unknown tenants', async () => {
    expect((await call('/whoami', 'initech')).status).toBe(403);
    expect((await call('/whoami', 'nobody')).status).toBe(404);
  });

  it('enforces policy and settles tokens on /chat', async () => {
    const denied = await call('/chat', 'acme', { method: 'POST', body: JSON.stringify({ model: 'o1-pro', prompt: 'hi' }) });
    expect(denied.status).toBe(403);
    const ok = await call('/chat', 'acme', { method: 'POST', body: JSON.stringify({ model: 'gpt-4o', prompt: 'hello there' }) });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { usage: { tokens: number } };
    const after = (await (await call('/whoami', 'acme')).json()) as { quota: { tokens: { remaining: number; limit: number } } };
    // The settled (real) token count, not the estimate, is what was charged.
    expect(after.quota.tokens.limit - after.quota.tokens.remaining).toBe(body.usage.tokens);
  });

  it('refuses oversized and malformed bodies with a clear status', async () => {
    const big = await call('/notes', 'acme', { method: 'POST', body: JSON.stringify({ text: 'x'.repeat(100_000) }) });
    expect(big.status).toBe(413);
    const bad = await call('/notes', 'acme', { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
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
