/**
 * Bounded per-tenant Prometheus metrics (prom-client) fed by @tenant/core
 * hooks and adapters' after-response step, with a framework-neutral
 * `/metrics` handler.
 *
 * @packageDocumentation
 */
export { createTenantMetrics } from './metrics.js';
export { metricsHandler, metricsResponse } from './handler.js';
export type { MetricsResponse, MetricsRequestLike, MetricsResponseLike } from './handler.js';
export type { TenantMetrics, TenantMetricsOptions, TenantLabelOption, TopTenantsOption, RequestObservation, MetricNames, CacheStatsByLayer } from './types.js';
