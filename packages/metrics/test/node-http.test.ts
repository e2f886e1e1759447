// The README's node:http example, run for real: tenancy + metrics + /metrics on one server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryTenantStore, createTenancy, toTenantRequest, writeRejection } from '@tenant/core';
import { createTenantMetrics, metricsHandler } from '../src/index.js';
import { labelValues } from './helpers.js';
import { promtoolCheck, runPromtool } from './promtool.js';

const registry = new Registry();
const metrics = createTenantMetrics({ registry, tenantLabel: { top: 50 } });
const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }, { id: 'globex' }] });
const tenancy = createTenancy({ store, hooks: metrics.hooks, skipPaths: ['/health'] });
const stopWatching = metrics.watchStore(store);
const serveMetrics = metricsHandler(registry);
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') return serveMetrics(req, res);
      const started = performance.now();
      const decision = await tenancy.handle(toTenantRequest(req));
      res.on('finish', () =>
        metrics.observeRequest({
          tenantId: decision.ok ? decision.tenant?.id : undefined,
          method: req.method ?? 'GET',
          route: req.url === '/health' ? '/health' : '/v1/chat',
          status: res.statusCode,
          durationSeconds: (performance.now() - started) / 1000,
        }),
      );
      if (!decision.ok) return writeRejection(res, decision);
      tenancy.run(decision, () => res.end(`hello ${decision.tenant?.id ?? 'nobody'}\n`));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  stopWatching();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('node:http service with metrics', () => {
  it('counts real requests per tenant and serves them at /metrics', async () => {
    for (const tenant of ['acme', 'acme', 'globex', 'nobody']) {
      const response = await fetch(`${base}/v1/chat`, { headers: { 'x-tenant-id': tenant } });
      await response.text();
    }
    await (await fetch(`${base}/health`)).text();
    // observeRequest runs on 'finish', which may come just after the client has the body.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const response = await fetch(`${base}/metrics`);
    const text = await response.text();
    expect(text).toContain('tenant_requests_total{method="GET",route="/v1/chat",status="200",tenant="acme"} 2');
    expect(text).toContain('tenant_requests_total{method="GET",route="/v1/chat",status="200",tenant="globex"} 1');
    expect(text).toContain('tenant_requests_total{method="GET",route="/v1/chat",status="404",tenant="__none__"} 1');
    expect(text).toContain('tenant_requests_total{method="GET",route="/health",status="200",tenant="__none__"} 1');
    expect(text).toContain('tenant_rejections_total{code="tenant_not_found"} 1');
    if (runPromtool) expect(promtoolCheck(text).status).toBe(0);

    await store.delete('globex');
    expect(labelValues(await (await fetch(`${base}/metrics`)).text(), 'tenant')).toEqual(new Set(['acme', '__none__']));
  });
});
