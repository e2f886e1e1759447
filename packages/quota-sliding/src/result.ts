import type { QuotaCost, QuotaDimension, QuotaDimensionState, QuotaLimit, QuotaResult, QuotaTicket, TenantQuota } from '@tenant/interfaces';

/** Answers of one dimension's check, the same for every backend (memory or a Redis script). */
export interface DimensionCheck {
  readonly limit: QuotaLimit;
  /** What this request asks of the dimension. */
  readonly want: number;
  /** `0`: fits; `> 0`: milliseconds until it fits; `-1`: never fits (cost above the limit). */
  readonly wait: number;
  /** Units left if nothing is consumed. */
  readonly remainingBefore: number;
  /** Units left once this request is consumed. */
  readonly remainingAfter: number;
  /** When usage next drops (epoch milliseconds). */
  readonly resetAt: number;
  /** What settle needs to find this consumption again (a window start, a log entry). */
  readonly data: string | number;
}

/** What one check found for each limited dimension. */
export interface Checks {
  requests: DimensionCheck | undefined;
  tokens: DimensionCheck | undefined;
}

/** The result of a check with no limited dimension: admitted, nothing counted (as core's fixed window does). */
export const UNLIMITED: QuotaResult = Object.freeze({ allowed: true, retryAfterMs: 0, dimensions: Object.freeze({}) });

/** Whether every dimension fits, so the request may be consumed (all or nothing). */
export const fits = (checks: Checks): boolean => (checks.requests === undefined || checks.requests.wait === 0) && (checks.tokens === undefined || checks.tokens.wait === 0);

const state = (c: DimensionCheck, committed: boolean): QuotaDimensionState => ({
  limit: c.limit.limit,
  remaining: committed ? c.remainingAfter : c.remainingBefore,
  windowMs: c.limit.windowMs,
  resetAt: c.resetAt,
});

/**
 * Builds the {@link QuotaResult} of a check in the exact shape of core's
 * fixed window: `committed` says whether the backend consumed the request
 * (which it does exactly when every dimension fits).
 */
export function toResult(tenantId: string, cost: QuotaCost, limits: TenantQuota, now: number, checks: Checks, committed: boolean): QuotaResult {
  const { requests, tokens } = checks;
  const dimensions: { -readonly [D in QuotaDimension]?: QuotaDimensionState } = {};
  if (requests !== undefined) dimensions.requests = state(requests, committed);
  if (tokens !== undefined) dimensions.tokens = state(tokens, committed);
  if (committed) {
    const data: Record<string, string | number> = {};
    if (requests !== undefined) data['requests'] = requests.data;
    if (tokens !== undefined) data['tokens'] = tokens.data;
    const ticket: QuotaTicket = { tenantId, cost: { ...cost }, limits, at: now, data };
    return { allowed: true, retryAfterMs: 0, dimensions, ticket };
  }
  const exceeded: QuotaDimension[] = [];
  let tooLarge = false;
  let retryAfterMs = 0;
  for (const [dimension, c] of [['requests', requests], ['tokens', tokens]] as const) {
    if (c === undefined || c.wait === 0) continue;
    exceeded.push(dimension);
    if (c.wait < 0) tooLarge = true;
    else retryAfterMs = Math.max(retryAfterMs, c.wait);
  }
  if (tooLarge) return { allowed: false, reason: 'cost_exceeds_limit', retryAfterMs: undefined, dimensions, exceeded };
  // A refused dimension's `resetAt` is when this request fits, not when usage
  // first drops (the oldest entry leaving may free too little): the
  // `RateLimit` `t` a client reads must not send it back before `Retry-After`.
  const fitsAt = now + retryAfterMs;
  for (const dimension of exceeded) {
    const s = dimensions[dimension] as QuotaDimensionState;
    if (s.resetAt < fitsAt) dimensions[dimension] = { ...s, resetAt: fitsAt };
  }
  return { allowed: false, reason: 'limit_exceeded', retryAfterMs, dimensions, exceeded };
}

const checkedLimits = new WeakSet<object>();

/**
 * Checks the limits passed to a call (once per limits object): each present
 * dimension must be `{ limit, windowMs }` with a non-negative integer limit
 * and a positive integer window.
 *
 * @throws RangeError otherwise.
 */
export function checkLimits(limits: TenantQuota): TenantQuota {
  if (typeof limits !== 'object' || limits === null) throw new RangeError('[@tenant/quota-sliding] limits must be an object such as { requests: { limit: 100, windowMs: 60_000 } }');
  if (checkedLimits.has(limits)) return limits;
  for (const dimension of ['requests', 'tokens'] as const) {
    const limit = limits[dimension];
    if (limit === undefined) continue;
    if (!Number.isSafeInteger(limit.limit) || limit.limit < 0) throw new RangeError(`[@tenant/quota-sliding] limits.${dimension}.limit must be a non-negative integer`);
    if (!Number.isSafeInteger(limit.windowMs) || limit.windowMs < 1) throw new RangeError(`[@tenant/quota-sliding] limits.${dimension}.windowMs must be a positive integer`);
  }
  checkedLimits.add(limits);
  return limits;
}

/** Whether a call limits nothing (then nothing is counted, as in core). */
export const isUnlimited = (limits: TenantQuota): boolean => limits.requests === undefined && limits.tokens === undefined;

/** The window start a ticket recorded for a dimension, if a number. */
export function ticketNumber(ticket: QuotaTicket, dimension: QuotaDimension): number | undefined {
  const value = ticket.data?.[dimension];
  return typeof value === 'number' ? value : typeof value === 'string' && value !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined;
}

/**
 * A per-manager record of settled tickets: a ticket (the same object) is
 * settled once; later calls with it do nothing, as the pipeline's settle.
 */
export function createSettledSet(): (ticket: QuotaTicket) => boolean {
  const settled = new WeakSet<QuotaTicket>();
  return (ticket) => {
    if (settled.has(ticket)) return false;
    settled.add(ticket);
    return true;
  };
}
