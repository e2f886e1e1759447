import type { TenantChangeListener, TenantHooks, Unsubscribe } from '@tenant/interfaces';
import type { Registry } from 'prom-client';

/**
 * Whether metrics carry a `tenant` label, and which tenants get their own value:
 * - `false`: no tenant label at all;
 * - `{ allow }`: these tenants get their own value, every other one the overflow value;
 * - `{ top }`: the `top` most active tenants (ranked by a Space-Saving summary
 *   of `tracked` counters, default `max(10 * top, 1000)`) get their own value,
 *   the rest the overflow value; with `halfLife`, counts decay so the ranking
 *   follows recent activity.
 */
export type TenantLabelOption = false | { readonly allow: readonly string[] } | TopTenantsOption;

/** The top-N tenant label: see {@link TenantLabelOption}. */
export interface TopTenantsOption {
  /** How many tenants may have their own label value. */
  readonly top: number;
  /** How many tenants the ranking tracks (more is more accurate). @default max(10 * top, 1000) */
  readonly tracked?: number;
  /**
   * Halve every ranking count after this many observations, so the ranking
   * follows recent activity rather than all-time totals.
   * @default undefined (all-time totals)
   */
  readonly halfLife?: number;
}

/** Options of {@link createTenantMetrics}. */
export interface TenantMetricsOptions {
  /** The prom-client registry to register the metrics in (never the global one unless you pass it). */
  readonly registry: Registry;
  /** The tenant label: off, an allow-list, or the top-N most active tenants. @default false */
  readonly tenantLabel?: TenantLabelOption;
  /** Prefix of every metric name. @default 'tenant_' */
  readonly prefix?: string;
  /** Buckets of the request duration histogram, in seconds. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  readonly buckets?: readonly number[];
  /** Buckets of the resolution duration histogram, in seconds. @default [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] */
  readonly resolutionBuckets?: readonly number[];
  /** The label value of tenants without their own value. @default '__other__' */
  readonly overflowLabel?: string;
  /** The label value of requests with no tenant (skipped paths, central hosts). @default '__none__' */
  readonly noTenantLabel?: string;
  /** At most this many distinct `route` values; later ones are folded into the overflow value. @default 200 */
  readonly maxRoutes?: number;
  /** Told of a failure inside the metrics themselves (never thrown into a request). @default ignore */
  readonly onInternalError?: (error: unknown) => void;
}

/** One finished HTTP request, as an adapter's after-response step reports it. */
export interface RequestObservation {
  /** The tenant id, when the request had one. */
  readonly tenantId: string | undefined;
  /** The HTTP method. Unknown methods are reported as `OTHER`. */
  readonly method: string;
  /** The route template (`/users/:id`), never the raw path. @default '' */
  readonly route?: string | undefined;
  /** The response status code. */
  readonly status: number;
  /** How long the request took, in seconds. */
  readonly durationSeconds: number;
}

/** Cumulative hits and misses by cache layer, as a cache's `stats()` reports them. */
export type CacheStatsByLayer = { readonly [layer: string]: { readonly hits: number; readonly misses: number } };

/** The metrics set made by {@link createTenantMetrics}. */
export interface TenantMetrics {
  /** Hooks for `createTenancy({ hooks })`: resolution time, policy denials, quota rejections, refusals, errors. */
  readonly hooks: TenantHooks;
  /** Records a finished request (call it from the adapter's after-response step). Never throws. */
  observeRequest(observation: RequestObservation): void;
  /** Counts `count` (default 1) cache hits in `layer` (for example `memory`, `redis`). Never throws. */
  recordCacheHit(layer: string, count?: number): void;
  /** Counts `count` (default 1) cache misses in `layer`. Never throws. */
  recordCacheMiss(layer: string, count?: number): void;
  /**
   * Feeds the cache counters from cumulative stats read at each scrape (for
   * example `@tenant/cache`'s `stats()`): the counters grow by the change
   * since the last scrape, and a stats reset starts over from zero.
   * Returns a function that stops reading.
   */
  trackCacheStats(read: () => CacheStatsByLayer): () => void;
  /** Counts a tenant store failure reported by `source` (for example `redis`, `sql`). Never throws. */
  recordStoreError(source: string): void;
  /** Removes every series of this tenant (call it when the tenant is deleted). */
  removeTenant(id: string): void;
  /** Removes a tenant's series whenever `store` reports it deleted. Returns the unsubscribe function. */
  watchStore(store: { subscribe(listener: TenantChangeListener): Unsubscribe }): Unsubscribe;
  /** How many tenants currently have their own `tenant` label value. */
  readonly labelledTenants: number;
  /** The registry the metrics live in. */
  readonly registry: Registry;
  /** The full metric names, for dashboards and queries. */
  readonly names: MetricNames;
}

/** The full name of each metric (with the prefix). */
export interface MetricNames {
  readonly requests: string;
  readonly requestDuration: string;
  readonly quotaRejections: string;
  readonly policyDenials: string;
  readonly rejections: string;
  readonly resolutionDuration: string;
  readonly cacheHits: string;
  readonly cacheMisses: string;
  readonly storeErrors: string;
  readonly errors: string;
  readonly labelledTenants: string;
}
