// Metrics cost per request: the pipeline with no hooks beside the pipeline
// with @tenant/metrics hooks + observeRequest, in one run. Uses the built
// @tenant/core (`pnpm build` first).
import { bench, describe } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryTenantStore, createTenancy, fromHeader, type TenantRequest, type TenancyOptions } from '@tenant/core';
import { createTenantMetrics, type TenantLabelOption } from '../src/index.js';

const TENANTS = 1_000;
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
const store = createMemoryTenantStore({ tenants: ids.map((id) => ({ id, quota: { requests: { limit: 1_000_000_000, windowMs: 60_000 } } })) });
const requests: TenantRequest[] = ids.map((id) => {
  const headers: Record<string, string> = { 'x-tenant-id': id, host: 'api.example.com' };
  return { method: 'GET', path: '/v1/chat', query: '', host: 'api.example.com', header: (name) => headers[name] };
});

function variant(tenantLabel: TenantLabelOption | undefined) {
  const metrics = tenantLabel === undefined ? undefined : createTenantMetrics({ registry: new Registry(), tenantLabel });
  const options: TenancyOptions = { store, resolve: fromHeader('x-tenant-id'), ...(metrics ? { hooks: metrics.hooks } : {}) };
  const tenancy = createTenancy(options);
  let i = 0;
  return async () => {
    const started = performance.now();
    const request = requests[i++ % TENANTS]!;
    const decision = await tenancy.handle(request);
    if (!decision.ok) throw new Error('rejected');
    metrics?.observeRequest({ tenantId: decision.tenant?.id, method: request.method, route: '/v1/chat', status: 200, durationSeconds: (performance.now() - started) / 1000 });
  };
}

describe('metrics cost per request (handle() + hooks + observeRequest, 1,000 tenants)', () => {
  bench('baseline: handle(), no metrics', variant(undefined), { time: 1500 });
  bench('metrics, no tenant label', variant(false), { time: 1500 });
  bench('metrics, tenant label top 100', variant({ top: 100 }), { time: 1500 });
  bench('metrics, tenant label allow-list of 10', variant({ allow: ids.slice(0, 10) }), { time: 1500 });
});

describe('observeRequest alone (1,000 tenants)', () => {
  const observation = (i: number) => ({ tenantId: ids[i % TENANTS], method: 'GET', route: '/v1/chat', status: 200, durationSeconds: 0.012 });
  const noop = (_: ReturnType<typeof observation>): void => undefined;
  const alone = (tenantLabel: TenantLabelOption) => {
    const metrics = createTenantMetrics({ registry: new Registry(), tenantLabel });
    let i = 0;
    return () => metrics.observeRequest(observation(i++));
  };
  let n = 0;
  bench('baseline: build the observation, call a no-op', () => noop(observation(n++)), { time: 1000 });
  bench('observeRequest, no tenant label', alone(false), { time: 1000 });
  bench('observeRequest, tenant label top 100', alone({ top: 100 }), { time: 1000 });
});
