// A class of attack: reaching a protected route without a tenant through a
// path that the skip rule reads as /health but Hono routes elsewhere. Every
// generated variant (encoded dots and slashes, duplicate slashes, case,
// trailing slashes, semicolons, backslashes, mixes) is sent to an app whose
// only tenant-less paths are /health; a protected handler that answers must
// always have a tenant.
import { Hono } from 'hono';
import { currentTenantId } from '@tenant/core/fetch';
import { createAdapterTestStore } from '@tenant/adapter-testkit';
import { describe, expect, it } from 'vitest';
import { tenancy, type TenancyEnv } from '../src/index.js';

const pieces = ['health', 'HEALTH', 'Health', '%68ealth', 'health%2F', 'health;x', 'health.', '.', '..', '%2e', '%2E%2E', '%2e%2e', '%2F', '%5C', '\\', '', 'admin', 'ADMIN', 'admin%2F', 'x'];

function variants(): string[] {
  const out = new Set<string>();
  for (const a of pieces) for (const b of pieces) {
    out.add(`/${a}/${b}`);
    out.add(`/${a}/${b}/admin`);
    out.add(`//${a}/${b}`);
    out.add(`/${a}${b}`);
  }
  return [...out];
}

describe('skip paths cannot be used to reach a protected Hono route without a tenant', () => {
  const app = new Hono<TenancyEnv>();
  app.use(tenancy({ store: createAdapterTestStore(), skipPaths: ['/health'] }));
  app.get('/health', (c) => c.json({ route: 'health' }));
  app.get('/health/*', (c) => c.json({ route: 'health' }));
  app.get('/admin', (c) => c.json({ route: 'admin', tenant: c.get('tenant')?.id ?? null, context: currentTenantId() ?? null }));
  app.get('/admin/*', (c) => c.json({ route: 'admin', tenant: c.get('tenant')?.id ?? null, context: currentTenantId() ?? null }));
  app.get('*', (c) => c.json({ route: 'other', tenant: c.get('tenant')?.id ?? null }));

  it(`${variants().length} generated paths: a protected handler never runs without a tenant`, async () => {
    const leaks: string[] = [];
    let protectedReached = 0;
    let skipped = 0;
    let refused = 0;
    for (const path of variants()) {
      let request: Request;
      try {
        request = new Request(`http://app.test${path}`);
      } catch {
        continue; // not a URL a client can send
      }
      const res = await app.request(request);
      if (res.status === 400) refused += 1;
      if (res.status !== 200) continue;
      const body = (await res.json()) as { route: string; tenant?: string | null; context?: string | null };
      if (body.route === 'health') skipped += 1;
      if (body.route === 'admin' || body.route === 'other') {
        protectedReached += 1;
        leaks.push(`${path} -> ${new URL(request.url).pathname}: ${body.route} without a tenant`);
      }
    }
    expect(leaks).toEqual([]);
    expect(protectedReached).toBe(0);
    // both outcomes were exercised: variants served as /health, and variants refused for want of a tenant
    expect(skipped).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });

  it('the same variants with a tenant reach the protected routes in its context', async () => {
    const res = await app.request(new Request('http://app.test/health/%2e%2e/admin', { headers: { 'x-tenant-id': 'globex' } }));
    expect(await res.json()).toEqual({ route: 'admin', tenant: 'globex', context: 'globex' });
    const plain = await app.request(new Request('http://app.test/admin'));
    expect(plain.status).toBe(400);
  });
});
