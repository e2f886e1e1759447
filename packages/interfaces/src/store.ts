import type { TenantConfig, TenantInput, TenantPatch, TenantStatus } from './tenant.js';

/** Options of a conditional write. */
export interface WriteOptions {
  /**
   * When given, the write succeeds only if the tenant's current `version` is
   * this one; otherwise it fails with `version_conflict` and changes nothing.
   */
  readonly expectedVersion?: number;
}

/** A page request for {@link TenantStore.list}. */
export interface TenantListQuery {
  /** Only tenants in this status (or these statuses). Without it, every status but `deleted`. */
  readonly status?: TenantStatus | readonly TenantStatus[];
  /** Only tenants on this plan. */
  readonly plan?: string;
  /** Page size. @default 50 (at most 1000) */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of tenants, ordered by id. */
export interface TenantPage {
  readonly items: readonly TenantConfig[];
  /** Present when there are more items: pass it as `cursor` to get them. */
  readonly nextCursor?: string;
}

/** What happened to a tenant. */
export type TenantChangeType = 'created' | 'updated' | 'deleted' | 'restored';

/** One entry of a store's change feed. */
export interface TenantChangeEvent {
  readonly type: TenantChangeType;
  /** The tenant id. */
  readonly id: string;
  /** The tenant after the change. */
  readonly tenant: TenantConfig;
  /** The tenant before the change (absent for `created`). */
  readonly previous?: TenantConfig;
}

/** Receives change events. It must not throw; if it does, the store swallows the error. */
export type TenantChangeListener = (event: TenantChangeEvent) => void;

/** Stops a subscription. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * Where tenant configs live. Implementations: `MemoryTenantStore` in
 * `@tenant/core`, `SqlTenantStore` in `@tenant/store-sql`, and wrappers such as
 * caches, which implement the same interface over another store.
 *
 * Every method that finds no tenant resolves to `undefined` (reads) or
 * rejects with a `TenantError` of code `tenant_not_found` (writes).
 */
export interface TenantStore {
  /** The tenant with this id, including a soft-deleted one; `undefined` if none. */
  get(id: string): Promise<TenantConfig | undefined>;
  /**
   * The tenant with this id when the store has it at hand, without I/O (an
   * in-memory store, a fresh cache entry); `undefined` when it would have to
   * look, or has no such tenant. Optional: the pipeline calls it first when
   * present, and `get` when it answers `undefined`, so a request whose tenant
   * is at hand is decided without a promise. It must agree with `get` (the
   * same config `get` would resolve to at that moment) and must not throw.
   * A wrapper that overrides `get` (say `{ ...store, get }`) must override
   * `peek` too, or drop it: a copied `peek` would answer past the new `get`.
   */
  peek?(id: string): TenantConfig | undefined;
  /** The tenant that owns this host name (lower-case, no port), including a soft-deleted one. */
  getByDomain(domain: string): Promise<TenantConfig | undefined>;
  /** One page of tenants, ordered by id. */
  list(query?: TenantListQuery): Promise<TenantPage>;
  /** Creates a tenant; fails with `tenant_exists`, `domain_taken` or `config_invalid`. */
  create(input: TenantInput): Promise<TenantConfig>;
  /** Applies a patch; fails with `tenant_not_found`, `version_conflict`, `domain_taken` or `config_invalid`. */
  update(id: string, patch: TenantPatch, options?: WriteOptions): Promise<TenantConfig>;
  /** Soft-deletes: status becomes `deleted`, `deletedAt` is set; the id and domains stay reserved. */
  delete(id: string, options?: WriteOptions): Promise<TenantConfig>;
  /** Undoes a soft delete, setting the given status. */
  restore(id: string, options?: WriteOptions & { readonly status?: Exclude<TenantStatus, 'deleted'> }): Promise<TenantConfig>;
  /** Subscribes to this store's change feed (writes made through this instance, or observed by it). */
  subscribe(listener: TenantChangeListener): Unsubscribe;
}
