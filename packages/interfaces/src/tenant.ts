/** The life-cycle state of a tenant. Only `active` tenants are served. */
export type TenantStatus = 'active' | 'suspended' | 'inactive' | 'deleted';

/** Every {@link TenantStatus}, in a stable order. */
export const TENANT_STATUSES: readonly TenantStatus[] = Object.freeze(['active', 'suspended', 'inactive', 'deleted']);

/** A limit on one dimension of usage over a fixed or sliding window. */
export interface QuotaLimit {
  /** How many units (requests, tokens) the window admits. `0` admits nothing. */
  readonly limit: number;
  /** The window length in milliseconds (a positive integer). */
  readonly windowMs: number;
}

/** The dimensions a quota can limit. */
export type QuotaDimension = 'requests' | 'tokens';

/** Every {@link QuotaDimension}, in a stable order. */
export const QUOTA_DIMENSIONS: readonly QuotaDimension[] = Object.freeze(['requests', 'tokens']);

/**
 * A tenant's quota: a limit per dimension. An absent dimension is unlimited,
 * so `{}` means no quota at all.
 */
export type TenantQuota = { readonly [D in QuotaDimension]?: QuotaLimit };

/**
 * A tenant's policy: allow-lists by dimension. `models`, `tools` and
 * `features` are the common ones; any other name is a dimension of your own.
 * An absent or empty list allows everything in that dimension; `'*'` in a
 * list also allows everything.
 */
export interface TenantPolicy {
  /** Models the tenant may use. */
  readonly models?: readonly string[];
  /** Tools the tenant may call. */
  readonly tools?: readonly string[];
  /** Features the tenant may use. */
  readonly features?: readonly string[];
  /** Allow-lists of dimensions of your own, by name. */
  readonly [dimension: string]: readonly string[] | undefined;
}

/** A JSON value, as kept in tenant metadata. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * One tenant's configuration, as a store returns it: immutable (frozen) plain
 * data that survives a JSON round trip unchanged.
 */
export interface TenantConfig {
  /** The immutable tenant id, in the validated id format. */
  readonly id: string;
  /** A display name. */
  readonly name?: string;
  /** The life-cycle state. */
  readonly status: TenantStatus;
  /** The plan the tenant is on, if you use plans. */
  readonly plan?: string;
  /** Usage limits; `{}` is unlimited. */
  readonly quota: TenantQuota;
  /** Allow-lists; `{}` allows everything. */
  readonly policy: TenantPolicy;
  /** Host names that resolve to this tenant, lower-case, the primary first. */
  readonly domains: readonly string[];
  /** Free-form JSON metadata. */
  readonly metadata: { readonly [key: string]: JsonValue };
  /** When the tenant was created (ISO 8601, UTC). */
  readonly createdAt: string;
  /** When the tenant was last changed (ISO 8601, UTC). */
  readonly updatedAt: string;
  /** When the tenant was soft-deleted (ISO 8601, UTC); present only while `status` is `deleted`. */
  readonly deletedAt?: string;
  /** Incremented by every write; used for optimistic concurrency. Starts at 1. */
  readonly version: number;
}

/** What a caller gives to create a tenant; the store fills in the rest. */
export interface TenantInput {
  /** The tenant id; validated against the store's id format. */
  readonly id: string;
  readonly name?: string;
  /** @default 'active' */
  readonly status?: Exclude<TenantStatus, 'deleted'>;
  readonly plan?: string;
  /** @default {} */
  readonly quota?: TenantQuota;
  /** @default {} */
  readonly policy?: TenantPolicy;
  /** @default [] */
  readonly domains?: readonly string[];
  /** @default {} */
  readonly metadata?: { readonly [key: string]: JsonValue };
}

/**
 * A change to a tenant. Absent fields are kept; `name` and `plan` are cleared
 * with `null`. Deletion goes through {@link TenantStore.delete}, not a status.
 */
export interface TenantPatch {
  readonly name?: string | null;
  readonly status?: Exclude<TenantStatus, 'deleted'>;
  readonly plan?: string | null;
  readonly quota?: TenantQuota;
  readonly policy?: TenantPolicy;
  readonly domains?: readonly string[];
  readonly metadata?: { readonly [key: string]: JsonValue };
}
