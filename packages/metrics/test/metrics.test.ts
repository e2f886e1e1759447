import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryTenantStore, createTenancy, fromHeader } from '@tenant/core';
import { createTenantMetrics, metricsHandler, metricsResponse } from '../src/index.js';
import { labelValues, request, sampleLines, seriesOf } from './helpers.js';
import { promtoolCheck, runPromtool } from './promtool.js';

function setup(tenantLabel: Parameters<typeof createTenantMetrics>[0]['tenantLabel'] = { top: 10 }) {
  const registry = new Registry();
  const metrics = createTenantMetrics({ registry, tenantLabel });
  const store = createMemoryTenantStore({
    tenants: [
      { id: 'acme', quota: { requests: { limit: 2, windowMs: 60_000 } }, policy: { models: ['small'] } },
      { id: 'globex' },
      { id: 'gone' },
    ],
  });
  const tenancy = createTenancy({ store, resolve: fromHeader('x-tenant-id'), hooks: metrics.hooks });
  return { registry, metrics, store, tenancy };
}

describe('createTenantMetrics', () => {
  it('records requests, durations, resolution time, quota rejections, policy denials and refusals', async () => {
    const { registry, metrics, tenancy } = setup();
    for (let i = 0; i < 3; i++) {
      const decision = await tenancy.handle(request('acme'));
      metrics.observeRequest({ tenantId: 'acme', method: 'get', route: '/v1/chat', status: decision.ok ? 200 : decision.status, durationSeconds: 0.02 });
    }
    const denied = await tenancy.authorize((await tenancy.store.get('globex'))!, { policy: { models: 'large' } });
    expect(denied.ok).toBe(true); // globex has no policy: allowed
    const acme = (await tenancy.store.get('acme'))!;
    const refused = await tenancy.authorize(acme, { policy: { models: 'large' }, cost: {} });
    expect(refused.ok).toBe(false);
    await tenancy.handle(request('nobody'));
    metrics.recordCacheHit('memory');
    metrics.recordCacheHit('memory');
    metrics.recordCacheMiss('redis');
    metrics.recordStoreError('sql');

    const text = await registry.metrics();
    expect(text).toContain('tenant_requests_total{method="GET",route="/v1/chat",status="200",tenant="acme"} 2');
    expect(text).toContain('tenant_requests_total{method="GET",route="/v1/chat",status="429",tenant="acme"} 1');
    expect(text).toContain('tenant_request_duration_seconds_count{method="GET",route="/v1/chat",tenant="acme"} 3');
    expect(text).toContain('tenant_request_duration_seconds_bucket{le="0.025",method="GET",route="/v1/chat",tenant="acme"} 3');
    expect(text).toContain('tenant_quota_rejections_total{reason="limit_exceeded",tenant="acme"} 1');
    expect(text).toContain('tenant_policy_denials_total{dimension="models",tenant="acme"} 1');
    expect(text).toContain('tenant_rejections_total{code="quota_exceeded"} 1');
    expect(text).toContain('tenant_rejections_total{code="policy_denied"} 1');
    expect(text).toContain('tenant_rejections_total{code="tenant_not_found"} 1');
    expect(text).toContain('tenant_resolution_duration_seconds_count{source="header"} 3');
    expect(text).toContain('tenant_cache_hits_total{layer="memory"} 2');
    expect(text).toContain('tenant_cache_misses_total{layer="redis"} 1');
    expect(text).toContain('tenant_store_errors_total{source="sql"} 1');
    expect(text).toContain('tenant_metrics_labelled_tenants 1'); // globex was never resolved through the hooks
  });

  it('counts store failures reported by the pipeline', async () => {
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry });
    const store = createMemoryTenantStore();
    const failing = Object.assign(Object.create(store) as typeof store, { get: () => Promise.reject(new Error('down')) });
    const tenancy = createTenancy({ store: failing, hooks: metrics.hooks });
    const decision = await tenancy.handle(request('acme'));
    expect(decision.ok).toBe(false);
    const text = await registry.metrics();
    expect(text).toContain('tenant_store_errors_total{source="pipeline"} 1');
    expect(text).toContain('tenant_errors_total{phase="store"} 1');
    expect(text).toContain('tenant_rejections_total{code="store_unavailable"} 1');
  });

  it('has no tenant label by default, and normalizes method, route and status', async () => {
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry, prefix: 'app_', maxRoutes: 1 });
    metrics.observeRequest({ tenantId: 'acme', method: 'brew', route: '/a', status: 200, durationSeconds: 0.1 });
    metrics.observeRequest({ tenantId: 'acme', method: 'POST', route: '/b', status: 9999, durationSeconds: Number.NaN });
    metrics.observeRequest({ tenantId: undefined, method: 'GET', status: 204, durationSeconds: 0 });
    const text = await registry.metrics();
    expect(labelValues(text, 'tenant').size).toBe(0);
    expect(text).toContain('app_requests_total{method="OTHER",route="/a",status="200"} 1');
    expect(text).toContain('app_requests_total{method="POST",route="__other__",status="unknown"} 1');
    expect(text).toContain('app_requests_total{method="GET",route="",status="204"} 1');
    expect(seriesOf(text, 'app_request_duration_seconds').filter((l) => l.includes('_count'))).toHaveLength(2);
  });

  it('labels only allow-listed tenants, folding the rest into __other__ and no tenant into __none__', async () => {
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry, tenantLabel: { allow: ['acme'] } });
    for (const tenantId of ['acme', 'globex', 'initech', undefined]) metrics.observeRequest({ tenantId, method: 'GET', route: '/', status: 200, durationSeconds: 0.01 });
    const text = await registry.metrics();
    expect(labelValues(text, 'tenant')).toEqual(new Set(['acme', '__other__', '__none__']));
    expect(text).toContain('tenant_requests_total{method="GET",route="/",status="200",tenant="__other__"} 2');
  });

  it('removes a deleted tenant\'s series, by removeTenant and through the store change feed', async () => {
    const { registry, metrics, store, tenancy } = setup();
    const stop = metrics.watchStore(store);
    for (const id of ['acme', 'globex', 'gone']) {
      await tenancy.handle(request(id));
      metrics.observeRequest({ tenantId: id, method: 'GET', route: '/', status: 200, durationSeconds: 0.01 });
    }
    expect(labelValues(await registry.metrics(), 'tenant')).toEqual(new Set(['acme', 'globex', 'gone']));
    await store.delete('gone');
    metrics.removeTenant('globex');
    const text = await registry.metrics();
    expect(labelValues(text, 'tenant')).toEqual(new Set(['acme']));
    expect(text).toContain('tenant_metrics_labelled_tenants 1');
    stop();
  });

  it('gives the top-N label to the most active tenants and removes the series of a tenant that drops out', async () => {
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry, tenantLabel: { top: 2, tracked: 4 } });
    const hit = (tenantId: string, times: number): void => {
      for (let i = 0; i < times; i++) metrics.observeRequest({ tenantId, method: 'GET', route: '/', status: 200, durationSeconds: 0.01 });
    };
    hit('a', 3);
    hit('b', 1);
    hit('c', 1); // c's guaranteed 1 does not beat b's 1: folded
    let text = await registry.metrics();
    expect(labelValues(text, 'tenant')).toEqual(new Set(['a', 'b', '__other__']));
    hit('c', 2); // at its 2nd request c's 2 beats b's 1: c takes b's place, b's series go
    text = await registry.metrics();
    expect(labelValues(text, 'tenant')).toEqual(new Set(['a', 'c', '__other__']));
    expect(text).toContain('tenant_requests_total{method="GET",route="/",status="200",tenant="c"} 2');
    expect(text).toContain('tenant_requests_total{method="GET",route="/",status="200",tenant="__other__"} 1');
  });

  it('with halfLife, lets a newly busy tenant take the slot of one that was busy long ago', async () => {
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry, tenantLabel: { top: 1, halfLife: 100 } });
    const hit = (tenantId: string, times: number): void => {
      for (let i = 0; i < times; i++) metrics.observeRequest({ tenantId, method: 'GET', route: '/', status: 200, durationSeconds: 0.01 });
    };
    hit('old', 1_000);
    hit('new', 300);
    expect(labelValues(await registry.metrics(), 'tenant')).toEqual(new Set(['new', '__other__']));
    // Without decay, all-time totals keep the old tenant in its slot.
    const cumulative = createTenantMetrics({ registry: new Registry(), tenantLabel: { top: 1 } });
    for (let i = 0; i < 1_000; i++) cumulative.observeRequest({ tenantId: 'old', method: 'GET', status: 200, durationSeconds: 0 });
    for (let i = 0; i < 300; i++) cumulative.observeRequest({ tenantId: 'new', method: 'GET', status: 200, durationSeconds: 0 });
    expect(labelValues(await cumulative.registry.metrics(), 'tenant')).toEqual(new Set(['old', '__other__']));
  });

  it('rejects invalid options', () => {
    const registry = new Registry();
    expect(() => createTenantMetrics({ registry: {} as Registry })).toThrow(TypeError);
    expect(() => createTenantMetrics({ registry, prefix: 'bad-prefix' })).toThrow(TypeError);
    expect(() => createTenantMetrics({ registry, tenantLabel: { top: 0 } })).toThrow(RangeError);
    expect(() => createTenantMetrics({ registry: new Registry(), tenantLabel: { top: 5, tracked: 2 } })).toThrow(RangeError);
    expect(() => createTenantMetrics({ registry: new Registry(), tenantLabel: { allow: ['__other__'] } })).toThrow(RangeError);
    expect(() => createTenantMetrics({ registry: new Registry(), tenantLabel: { top: 5, halfLife: 0 } })).toThrow(RangeError);
    expect(() => createTenantMetrics({ registry: new Registry(), maxRoutes: -1 })).toThrow(RangeError);
  });

  it('never throws into requests, whatever the hooks are given', async () => {
    const errors: unknown[] = [];
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry, tenantLabel: { top: 3 }, onInternalError: (error) => errors.push(error) });
    const garbage = null as never;
    expect(() => metrics.hooks.onResolve?.(garbage)).not.toThrow();
    expect(() => metrics.hooks.onPolicy?.({} as never)).not.toThrow();
    expect(() => metrics.hooks.onQuota?.({ result: { allowed: false } } as never)).not.toThrow();
    expect(() => metrics.hooks.onReject?.(garbage)).not.toThrow();
    expect(() => metrics.hooks.onError?.(garbage)).not.toThrow();
    expect(() => metrics.observeRequest(garbage)).not.toThrow();
    expect(errors.length).toBeGreaterThanOrEqual(5);
    // A throwing error listener is contained too.
    const loud = createTenantMetrics({ registry: new Registry(), onInternalError: () => { throw new Error('listener'); } });
    expect(() => loud.observeRequest(garbage)).not.toThrow();
    // And the pipeline still admits a request with these hooks.
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
    const tenancy = createTenancy({ store, hooks: [metrics.hooks, { onResolve: () => { throw new Error('other hook'); } }] });
    expect((await tenancy.handle(request('acme'))).ok).toBe(true);
  });

  it.runIf(runPromtool)('produces an exposition that passes promtool check metrics', async () => {
    const { registry, metrics, tenancy } = setup({ top: 5 });
    for (const id of ['acme', 'acme', 'acme', 'globex', 'nobody', 'Bad Id!']) {
      const decision = await tenancy.handle(request(id));
      metrics.observeRequest({ tenantId: decision.ok ? decision.tenant?.id : undefined, method: 'GET', route: '/v1/chat', status: decision.ok ? 200 : decision.status, durationSeconds: 0.003 });
    }
    await tenancy.authorize((await tenancy.store.get('acme'))!, { policy: { models: 'large' }, cost: {} });
    metrics.recordCacheHit('memory');
    metrics.recordCacheMiss('redis');
    metrics.recordStoreError('redis');
    metrics.hooks.onError?.({ phase: 'store', error: new Error('x'), tenantId: 'acme' });
    const text = await registry.metrics();
    const result = promtoolCheck(text);
    expect(result.error, 'promtool must be installed (Debian package prometheus)').toBeUndefined();
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it.runIf(runPromtool)('promtool flags a broken exposition (the check can fail)', () => {
    const result = promtoolCheck('# TYPE x counter\nx_total{a="1" 1\n');
    expect(result.error).toBeUndefined();
    expect(result.status).not.toBe(0);
  });

  it('holds the cardinality bound with 100,000 distinct tenants', async () => {
    const registry = new Registry();
    const top = 20;
    const metrics = createTenantMetrics({ registry, tenantLabel: { top } });
    const statuses = [200, 404];
    for (let i = 0; i < 100_000; i++) {
      // A few busy tenants among 100,000 one-off ones.
      const tenantId = i % 10 === 0 ? `busy-${(i / 10) % 50}` : `tenant-${i}`;
      metrics.observeRequest({ tenantId, method: 'GET', route: '/v1/chat', status: statuses[i % 2]!, durationSeconds: 0.01 });
    }
    metrics.hooks.onQuota?.({ request: undefined, tenant: { id: 'tenant-77' } as never, cost: { requests: 1 }, result: { allowed: false, reason: 'limit_exceeded', retryAfterMs: 1000, dimensions: {} } });
    const text = await registry.metrics();
    const tenants = labelValues(text, 'tenant');
    expect(tenants.size).toBeLessThanOrEqual(top + 1);
    expect(tenants.has('__other__')).toBe(true);
    expect(metrics.labelledTenants).toBeLessThanOrEqual(top);
    // Per tenant value: 2 request series + (buckets + 1 (+Inf) + sum + count) duration series, plus one quota series.
    const buckets = 11;
    const perTenant = 2 + buckets + 3;
    const lines = sampleLines(text);
    const labelled = lines.filter((line) => line.includes('tenant="'));
    expect(labelled.length).toBeLessThanOrEqual((top + 1) * perTenant + 1);
    expect(lines.length).toBeLessThan(600);
    // The busy tenants hold the labels, not the one-off ones.
    const busyHolders = [...tenants].filter((id) => id.startsWith('busy-'));
    expect(busyHolders.length).toBeGreaterThanOrEqual(top - 2);
    // One requests_total series per (label value, status): the bound applies to every labelled metric.
    expect(sampleLines(text).filter((l) => l.startsWith('tenant_requests_total')).length).toBeLessThanOrEqual(2 * (top + 1));
  });

  it('holds the bound on every tenant-labelled metric with 100,000 distinct tenants through the hooks (allow-list)', async () => {
    const registry = new Registry();
    const allow = Array.from({ length: 10 }, (_, i) => `tenant-${i * 1000}`);
    const metrics = createTenantMetrics({ registry, tenantLabel: { allow } });
    const denied = { allowed: false, reason: 'not allowed', dimension: 'models', value: 'large' } as const;
    for (let i = 0; i < 100_000; i++) {
      const tenant = { id: `tenant-${i}` } as never;
      metrics.hooks.onResolve?.({ request: undefined as never, tenant, source: 'header', durationMs: 0.1 });
      metrics.hooks.onQuota?.({ request: undefined, tenant, cost: { requests: 1 }, result: { allowed: false, reason: 'limit_exceeded', retryAfterMs: 1000, dimensions: {} } });
      metrics.hooks.onPolicy?.({ request: undefined, tenant, policyRequest: { models: 'large' }, decision: denied });
    }
    const text = await registry.metrics();
    expect(labelValues(text, 'tenant')).toEqual(new Set([...allow, '__other__']));
    expect(sampleLines(text).filter((l) => l.startsWith('tenant_quota_rejections_total'))).toHaveLength(11);
    expect(sampleLines(text).filter((l) => l.startsWith('tenant_policy_denials_total'))).toHaveLength(11);
    expect(text).toContain('tenant_quota_rejections_total{reason="limit_exceeded",tenant="__other__"} 99990');
    expect(sampleLines(text).length).toBeLessThan(100);
  });
});

describe('metrics handlers', () => {
  let server: Server;
  let url: string;
  const registry = new Registry();
  const metrics = createTenantMetrics({ registry, tenantLabel: { allow: ['acme'] } });

  beforeAll(async () => {
    const serve = metricsHandler(registry);
    server = createServer((req, res) => {
      if (req.url === '/metrics') return serve(req, res);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the registry over node:http', async () => {
    metrics.observeRequest({ tenantId: 'acme', method: 'GET', route: '/', status: 200, durationSeconds: 0.01 });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(await response.text()).toContain('tenant_requests_total{method="GET",route="/",status="200",tenant="acme"} 1');
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('never throws or rejects when the response cannot be written', async () => {
    const serve = metricsHandler(registry);
    let ended = false;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      serve({ method: 'GET' }, {
        statusCode: 0,
        setHeader: () => {
          throw new Error('headers already sent');
        },
        end: () => {
          ended = true;
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(ended).toBe(false);
    expect(rejections).toEqual([]);
  });

  it('returns a neutral response, and 500 when a collector fails', async () => {
    const ok = await metricsResponse(registry);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('tenant_requests_total');
    const broken = new Registry();
    createTenantMetrics({ registry: broken });
    broken.registerMetric({ name: 'broken', get: () => Promise.reject(new Error('boom')) } as never);
    const failed = await metricsResponse(broken);
    expect(failed.status).toBe(500);
    expect(failed.body).not.toContain('boom');
  });
});

describe('trackCacheStats', () => {
  it('grows the cache counters by the change in cumulative stats at each scrape, and survives resets and failures', async () => {
    const errors: unknown[] = [];
    const registry = new Registry();
    const metrics = createTenantMetrics({ registry, onInternalError: (error) => errors.push(error) });
    let stats = { memory: { hits: 5, misses: 2 }, redis: { hits: 1, misses: 1 } };
    const stop = metrics.trackCacheStats(() => stats);
    metrics.trackCacheStats(() => {
      throw new Error('stats unavailable');
    });
    metrics.trackCacheStats(() => ({ broken: null, odd: { hits: -1, misses: Number.NaN } }) as never);
    metrics.trackCacheStats(() => null as never);
    metrics.recordCacheHit('memory', 10);
    let text = await registry.metrics();
    expect(text).toContain('tenant_cache_hits_total{layer="memory"} 15');
    expect(text).toContain('tenant_cache_misses_total{layer="redis"} 1');
    stats = { memory: { hits: 8, misses: 2 }, redis: { hits: 1, misses: 4 } };
    text = await registry.metrics();
    expect(text).toContain('tenant_cache_hits_total{layer="memory"} 18');
    expect(text).toContain('tenant_cache_misses_total{layer="redis"} 4');
    stats = { memory: { hits: 1, misses: 0 }, redis: { hits: 1, misses: 4 } }; // the cache restarted its stats
    text = await registry.metrics();
    expect(text).toContain('tenant_cache_hits_total{layer="memory"} 19');
    stop();
    stats = { memory: { hits: 100, misses: 0 }, redis: { hits: 1, misses: 4 } };
    expect(await registry.metrics()).toContain('tenant_cache_hits_total{layer="memory"} 19');
    expect(errors.length).toBeGreaterThan(0);
    expect(() => metrics.trackCacheStats(null as never)).toThrow(TypeError);
  });
});
