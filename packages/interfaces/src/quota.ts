import type { QuotaDimension, TenantQuota } from './tenant.js';

/** What one request costs. Absent dimensions cost nothing. */
export type QuotaCost = { readonly [D in QuotaDimension]?: number };

/** The state of one limited dimension after a check. */
export interface QuotaDimensionState {
  /** The limit of the window. */
  readonly limit: number;
  /** Units left in the window after this request (never negative). */
  readonly remaining: number;
  /** The window length in milliseconds. */
  readonly windowMs: number;
  /**
   * When this dimension's usage next drops (epoch milliseconds). On a
   * refusal, for a dimension that refused, when the request would fit again:
   * never earlier than the decision's time plus `retryAfterMs`, so that the
   * `RateLimit` `t` built from it is never below `Retry-After`.
   */
  readonly resetAt: number;
}

/**
 * Why a quota check did not admit the request:
 * - `limit_exceeded`: the window's quota is used up; retry after `retryAfterMs`.
 * - `cost_exceeds_limit`: this request alone costs more than the limit; retrying will not help.
 * - `backend_unavailable`: the backend could not answer and the manager fails closed.
 */
export type QuotaDenialReason = 'limit_exceeded' | 'cost_exceeds_limit' | 'backend_unavailable';

/**
 * How a check was admitted while its backend was failing:
 * `fail_open` (admitted without counting) or `fallback` (counted by a local limiter).
 */
export type QuotaDegradation = 'fail_open' | 'fallback';

/**
 * A record of what a consume took, to settle once the real cost is known.
 * Plain, JSON-serializable data.
 */
export interface QuotaTicket {
  readonly tenantId: string;
  /** What was consumed. */
  readonly cost: QuotaCost;
  /** The limits in force when it was consumed. */
  readonly limits: TenantQuota;
  /** When it was consumed (epoch milliseconds, by the backend's clock). */
  readonly at: number;
  /** Backend-specific data needed to settle (for example window starts). */
  readonly data?: { readonly [key: string]: string | number };
}

/** The answer of a quota check. */
export interface QuotaResult {
  /** Whether the request is admitted. */
  readonly allowed: boolean;
  /** Why not, when `allowed` is false. */
  readonly reason?: QuotaDenialReason;
  /** Present when the request was admitted in a degraded mode. */
  readonly degraded?: QuotaDegradation;
  /**
   * How long to wait before this same request could be admitted, in
   * milliseconds: `0` when admitted, `undefined` when waiting will not help
   * (`cost_exceeds_limit`) or is unknown (`backend_unavailable`).
   */
  readonly retryAfterMs: number | undefined;
  /** The state of each limited dimension (absent dimensions are unlimited). */
  readonly dimensions: { readonly [D in QuotaDimension]?: QuotaDimensionState };
  /** What was consumed, to settle later; absent when nothing was consumed. */
  readonly ticket?: QuotaTicket;
  /** The dimensions that refused the request. */
  readonly exceeded?: readonly QuotaDimension[];
}

/**
 * Counts usage per tenant against limits passed on each call, so that
 * per-tenant and per-plan limits change without extra reads.
 *
 * Semantics every implementation keeps: all dimensions are checked together,
 * all or nothing; a rejected request consumes nothing; `retryAfterMs` is
 * computed for this request's cost.
 */
export interface QuotaManager {
  /** Checks and, when admitted, consumes `cost` for the tenant. */
  consume(tenantId: string, cost: QuotaCost, limits: TenantQuota): Promise<QuotaResult>;
  /**
   * Optional capability: the same check as `consume`, answered
   * synchronously. In-process managers offer it; the pipeline uses it when
   * present, to keep promises off the hot path. Remote backends leave it out.
   * @default undefined (the pipeline uses `consume`)
   */
  consumeSync?(tenantId: string, cost: QuotaCost, limits: TenantQuota): QuotaResult;
  /**
   * Replaces the cost a ticket consumed with the actual cost: the difference
   * is charged (positive) or refunded (negative). Settle each ticket once.
   */
  settle(ticket: QuotaTicket, actual: QuotaCost): Promise<void>;
}
