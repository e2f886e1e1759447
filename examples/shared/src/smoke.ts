import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_ESTIMATE_TOKENS } from './demo.js';

import { sendRequest } from '@tenant/adapter-testkit';

export { listen } from '@tenant/adapter-testkit';

/** A started example: its base URL (`http://127.0.0.1:<port>`) and how to stop it. */
export interface RunningExample {
  readonly url: string;
  close(): Promise<void>;
}

/** Calls the running example as `tenant` (the `X-Tenant-Id` header; none when undefined); a body is sent as JSON. */
export type SmokeCall = (path: string, tenant: string | undefined, init?: RequestInit) => Promise<Response>;

/** What kind of example the suite checks. */
export interface SmokeOptions {
  /**
   * `true` for the adapter examples (express, fastify, koa), which mount
   * their adapter with `demoTenancyOptions()`: /whoami reports the request's
   * tenant as `viaRequest`, and /chat takes `?model=`, reserves
   * `CHAT_ESTIMATE_TOKENS` and settles the tokens it reports. `false` for
   * an app on `@tenant/core` alone, whose /chat the caller checks in `more`.
   */
  readonly adapter: boolean;
}

type Quota = { tokens: { remaining: number; limit: number } };

/**
 * The smoke suite every example passes, over real HTTP: `/health` without
 * a tenant, resolution by header and by subdomain, notes kept apart between
 * tenants, suspended and unknown tenants, bad bodies, the model policy and
 * token settling on /chat (adapter examples), and 429 once the quota is
 * used up. `start` starts the example on `127.0.0.1` and a free port; it
 * runs once for the whole suite, whose cases share the tenants' quotas.
 * `more` registers the example's own cases, after these, with the same app.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { describeExampleSmoke, listen } from '@tenant/example-shared/smoke';
 * import { createApp } from '../src/app.js';
 *
 * describeExampleSmoke('express example', () => listen(createServer(createApp())), { adapter: true });
 * ```
 */
export function describeExampleSmoke(name: string, start: () => Promise<RunningExample>, options: SmokeOptions, more?: (call: SmokeCall) => void): void {
  let app: RunningExample | undefined;
  const base = () => {
    if (!app) throw new Error(`${name}: the example did not start`);
    return app.url;
  };
  const call: SmokeCall = (path, tenant, init = {}) =>
    fetch(base() + path, {
      ...init,
      headers: { ...(tenant ? { 'x-tenant-id': tenant } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });

  describe(name, () => {
    beforeAll(async () => {
      app = await start();
    });
    afterAll(() => app?.close());

    it('serves /health without a tenant and refuses other routes without one', async () => {
      expect((await call('/health', undefined)).status).toBe(200);
      const res = await call('/whoami', undefined);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('tenant_missing');
    });

    it('resolves by header and by subdomain', async () => {
      const byHeader = (await (await call('/whoami', 'acme')).json()) as { id: string; viaRequest?: string };
      expect(byHeader.id).toBe('acme');
      if (options.adapter) expect(byHeader.viaRequest).toBe('acme');
      // fetch() does not let a caller set Host: node:http does.
      const bySubdomain = await new Promise<string>((resolve, reject) => {
        request(base() + '/whoami', { headers: { host: 'globex.localhost' } }, (res) => {
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

    it('refuses oversized and malformed bodies with a clear status', async () => {
      const big = await call('/notes', 'acme', { method: 'POST', body: JSON.stringify({ text: 'x'.repeat(100_000) }) });
      expect(big.status).toBe(413);
      const bad = await call('/notes', 'acme', { method: 'POST', body: '{not json' });
      expect(bad.status).toBe(400);
      expect(((await (await call('/notes', 'acme')).json()) as { items: unknown[] }).items).toEqual([]);
    });

    if (options.adapter) {
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

      it('checks the model on every spelling of /chat the router accepts (encoded, case, slashes, dot segments)', async () => {
        const spellings = ['/ch%61t', '/%63%68%61%74', '/CHAT', '/Ch%41T', '/chat/', '//chat', '/chat//', '/./chat', '/x/../chat', '/ch%2561t', '/chat;x=1', '/chat%2F'];
        for (const path of spellings) {
          // raw, as written: fetch() would resolve the dot segments itself
          const res = await sendRequest(base(), { method: 'POST', path: `${path}?model=gpt-4o`, headers: { 'x-tenant-id': 'globex', 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hi' }) });
          expect(res.status, `POST ${path}?model=gpt-4o as globex: ${res.text().slice(0, 200)}`).not.toBe(200);
        }
      });

      it('refuses every spelling of ?model= that the policy and the handler could read differently (repeated, nested, encoded)', async () => {
        const queries = [
          'model=gpt-4o-mini&model=gpt-4o',
          'model=gpt-4o&model=gpt-4o-mini',
          'model=gpt-4o-mini&mod%65l=gpt-4o',
          'model[]=gpt-4o',
          'model[0]=gpt-4o',
          '[model]=gpt-4o',
          'model.x=gpt-4o&model=gpt-4o-mini',
          'model=gpt-4o-mini&model%5B%5D=gpt-4o',
          'mod%65l=gpt-4o',
          'model=gpt%2D4o',
          'model=gpt-4o%zz',
        ];
        for (const query of queries) {
          const res = await call(`/chat?${query}`, 'globex', { method: 'POST', body: JSON.stringify({ prompt: 'hi' }) });
          const text = await res.text();
          // never admitted: a 400 query_invalid (ambiguous) or a 403 policy_denied (gpt-4o, however spelled)
          expect([400, 403], `POST /chat?${query} as globex: ${res.status} ${text.slice(0, 200)}`).toContain(res.status);
          expect(['query_invalid', 'policy_denied']).toContain((JSON.parse(text) as { code: string }).code);
        }
      });
    }

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

    more?.(call);
  });
}
