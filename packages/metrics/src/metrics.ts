import type { TenantHooks } from '@tenant/interfaces';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createLabeler } from './labeler.js';
import type { CacheStatsByLayer, MetricNames, RequestObservation, TenantMetrics, TenantMetricsOptions } from './types.js';

const DEFAULT_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
const DEFAULT_RESOLUTION_BUCKETS = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TENANT = 'tenant';

type Labels = Record<string, string>;
/** A metric whose series can be removed by exact label set (Counter and Histogram both qualify). */
interface Removable {
  remove(labels: Labels): void;
}

/**
 * Creates the tenant metrics in `options.registry`: request count and
 * duration, quota rejections, policy denials, refusals by code, resolution
 * time, cache hits and misses, store errors. Wire `hooks` into
 * `createTenancy`, call `observeRequest` after each response, and serve the
 * registry with {@link metricsHandler}.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { createTenancy, createMemoryTenantStore } from '@tenant/core';
 * import { createTenantMetrics } from '@tenant/metrics';
 *
 * const registry = new Registry();
 * const metrics = createTenantMetrics({ registry, tenantLabel: { top: 50 } });
 * const store = createMemoryTenantStore();
 * const tenancy = createTenancy({ store, hooks: metrics.hooks });
 * metrics.watchStore(store); // a deleted tenant's series go away
 * ```
 */
export function createTenantMetrics(options: TenantMetricsOptions): TenantMetrics {
  const { registry } = options;
  if (registry === null || typeof registry !== 'object' || typeof registry.metrics !== 'function') throw new TypeError('[@tenant/metrics] options.registry must be a prom-client Registry');
  const prefix = options.prefix ?? 'tenant_';
  if (prefix !== '' && !NAME.test(prefix)) throw new TypeError(`[@tenant/metrics] Invalid metric name prefix: ${JSON.stringify(prefix)}`);
  const overflow = options.overflowLabel ?? '__other__';
  const none = options.noTenantLabel ?? '__none__';
  const maxRoutes = options.maxRoutes ?? 200;
  if (!Number.isSafeInteger(maxRoutes) || maxRoutes < 0) throw new RangeError('[@tenant/metrics] maxRoutes must be a non-negative integer');
  const onInternalError = options.onInternalError;
  const report = (error: unknown): void => {
    try {
      onInternalError?.(error);
    } catch {
      // A failing error listener must not reach the request (or the scrape) either.
    }
  };

  // Series per tenant (with their own label value), so they can be removed exactly.
  const seriesOf = new Map<string, Map<string, { metric: Removable; labels: Labels }>>();
  const dropSeries = (id: string): void => {
    const series = seriesOf.get(id);
    if (series === undefined) return;
    seriesOf.delete(id);
    for (const { metric, labels } of series.values()) metric.remove(labels);
  };
  const labeler = createLabeler({ mode: options.tenantLabel ?? false, overflow, none, onDemote: dropSeries });
  const withTenant = labeler.enabled;
  const tenantNames = (names: string[]): string[] => (withTenant ? [TENANT, ...names] : names);

  const names: MetricNames = Object.freeze({
    requests: `${prefix}requests_total`,
    requestDuration: `${prefix}request_duration_seconds`,
    quotaRejections: `${prefix}quota_rejections_total`,
    policyDenials: `${prefix}policy_denials_total`,
    rejections: `${prefix}rejections_total`,
    resolutionDuration: `${prefix}resolution_duration_seconds`,
    cacheHits: `${prefix}cache_hits_total`,
    cacheMisses: `${prefix}cache_misses_total`,
    storeErrors: `${prefix}store_errors_total`,
    errors: `${prefix}errors_total`,
    labelledTenants: `${prefix}metrics_labelled_tenants`,
  });
  const registers = [registry];
  const requests = new Counter({ name: names.requests, help: 'HTTP requests, by tenant, method, route and status.', labelNames: tenantNames(['method', 'route', 'status']), registers });
  const requestDuration = new Histogram({
    name: names.requestDuration,
    help: 'HTTP request duration in seconds, by tenant, method and route.',
    labelNames: tenantNames(['method', 'route']),
    buckets: [...(options.buckets ?? DEFAULT_BUCKETS)],
    registers,
  });
  const quotaRejections = new Counter({ name: names.quotaRejections, help: 'Requests refused by a quota, by tenant and reason.', labelNames: tenantNames(['reason']), registers });
  const policyDenials = new Counter({ name: names.policyDenials, help: 'Policy evaluations that denied, by tenant and dimension.', labelNames: tenantNames(['dimension']), registers });
  const rejections = new Counter({ name: names.rejections, help: 'Requests refused by the tenancy pipeline, by error code.', labelNames: ['code'], registers });
  const resolutionDuration = new Histogram({
    name: names.resolutionDuration,
    help: 'Time to resolve and load a tenant, in seconds, by resolver.',
    labelNames: ['source'],
    buckets: [...(options.resolutionBuckets ?? DEFAULT_RESOLUTION_BUCKETS)],
    registers,
  });
  // Cumulative cache stats read at scrape time, with the values last seen per reader, layer and field.
  const statReaders = new Map<() => CacheStatsByLayer, Map<string, number>>();
  const syncStats = (field: 'hits' | 'misses', counter: Counter): void => {
    for (const [read, seen] of statReaders) {
      let stats: CacheStatsByLayer;
      try {
        stats = read();
      } catch (error) {
        report(error);
        continue;
      }
      if (stats === null || typeof stats !== 'object') continue;
      for (const [layer, value] of Object.entries(stats)) {
        const now: unknown = value !== null && typeof value === 'object' ? value[field] : undefined;
        if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) continue;
        const key = `${field}\0${layer}`;
        const before = seen.get(key) ?? 0;
        const delta = now >= before ? now - before : now;
        seen.set(key, now);
        if (delta > 0) counter.inc({ layer }, delta);
      }
    }
  };
  const cacheHits: Counter = new Counter({
    name: names.cacheHits,
    help: 'Tenant cache hits, by layer.',
    labelNames: ['layer'],
    registers,
    collect: () => syncStats('hits', cacheHits),
  });
  const cacheMisses: Counter = new Counter({
    name: names.cacheMisses,
    help: 'Tenant cache misses, by layer.',
    labelNames: ['layer'],
    registers,
    collect: () => syncStats('misses', cacheMisses),
  });
  const count = (value: number | undefined): number => (value === undefined ? 1 : value);
  const storeErrors = new Counter({ name: names.storeErrors, help: 'Tenant store failures, by source.', labelNames: ['source'], registers });
  const errors = new Counter({ name: names.errors, help: 'Unexpected failures in the tenancy pipeline, by phase.', labelNames: ['phase'], registers });
  new Gauge({
    name: names.labelledTenants,
    help: 'Tenants that currently have their own tenant label value.',
    registers,
    collect() {
      this.set(labeler.labelled);
    },
  });

  /** Labels for a tenant-labelled metric, remembering the series of tenants with their own value. */
  const labelsFor = (metric: Removable, key: string, tenantId: string | undefined, count: boolean, labels: Labels): Labels => {
    if (!withTenant) return labels;
    const tenant = labeler.label(tenantId, count);
    labels[TENANT] = tenant;
    if (tenant !== overflow && tenant !== none) {
      let series = seriesOf.get(tenant);
      if (series === undefined) seriesOf.set(tenant, (series = new Map()));
      if (!series.has(key)) series.set(key, { metric, labels: { ...labels } });
    }
    return labels;
  };

  const routes = new Set<string>();
  const routeLabel = (route: string | undefined): string => {
    if (typeof route !== 'string' || route === '') return '';
    if (routes.has(route)) return route;
    if (routes.size >= maxRoutes) return overflow;
    routes.add(route);
    return route;
  };

  const guard =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (error) {
        report(error);
      }
    };

  const hooks: TenantHooks = Object.freeze({
    onResolve: guard((event: Parameters<NonNullable<TenantHooks['onResolve']>>[0]) => {
      resolutionDuration.observe({ source: event.source }, event.durationMs / 1000);
      if (withTenant) labeler.label(event.tenant.id, true);
    }),
    onPolicy: guard((event: Parameters<NonNullable<TenantHooks['onPolicy']>>[0]) => {
      const { decision } = event;
      if (decision.allowed) return;
      const dimension = decision.dimension;
      policyDenials.inc(labelsFor(policyDenials, `p\0${dimension}`, event.tenant.id, false, { dimension }));
    }),
    onQuota: guard((event: Parameters<NonNullable<TenantHooks['onQuota']>>[0]) => {
      const { result } = event;
      if (result.allowed) return;
      const reason = result.reason ?? 'limit_exceeded';
      quotaRejections.inc(labelsFor(quotaRejections, `q\0${reason}`, event.tenant.id, false, { reason }));
    }),
    onReject: guard((event: Parameters<NonNullable<TenantHooks['onReject']>>[0]) => {
      rejections.inc({ code: event.rejection.code });
    }),
    onError: guard((event: Parameters<NonNullable<TenantHooks['onError']>>[0]) => {
      errors.inc({ phase: event.phase });
      if (event.phase === 'store') storeErrors.inc({ source: 'pipeline' });
    }),
  });

  const observeRequest = guard((observation: RequestObservation) => {
    const upper = typeof observation.method === 'string' ? observation.method.toUpperCase() : '';
    const method = METHODS.has(upper) ? upper : 'OTHER';
    const route = routeLabel(observation.route);
    const status = Number.isInteger(observation.status) && observation.status >= 100 && observation.status <= 599 ? String(observation.status) : 'unknown';
    const tenantId = observation.tenantId;
    const counted = labelsFor(requests, `r\0${method}\0${route}\0${status}`, tenantId, true, { method, route, status });
    requests.inc(counted);
    const seconds = observation.durationSeconds;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) {
      requestDuration.observe(labelsFor(requestDuration, `d\0${method}\0${route}`, tenantId, false, { method, route }), seconds);
    }
  });

  const removeTenant = (id: string): void => {
    labeler.forget(id);
    dropSeries(id);
  };

  return Object.freeze({
    hooks,
    observeRequest,
    recordCacheHit: guard((layer: string, n?: number) => cacheHits.inc({ layer: String(layer) }, count(n))),
    recordCacheMiss: guard((layer: string, n?: number) => cacheMisses.inc({ layer: String(layer) }, count(n))),
    trackCacheStats: (read: () => CacheStatsByLayer) => {
      if (typeof read !== 'function') throw new TypeError('[@tenant/metrics] trackCacheStats needs a function');
      statReaders.set(read, new Map());
      return () => {
        statReaders.delete(read);
      };
    },
    recordStoreError: guard((source: string) => storeErrors.inc({ source: String(source) })),
    removeTenant,
    watchStore: (store: Parameters<TenantMetrics['watchStore']>[0]) =>
      store.subscribe(
        guard((event) => {
          if (event.type === 'deleted') removeTenant(event.id);
        }),
      ),
    get labelledTenants() {
      return labeler.labelled;
    },
    registry,
    names,
  });
}
