import { QUOTA_DIMENSIONS, type QuotaCost, type TenantQuota } from '@tenant/interfaces';

/**
 * Checks a quota cost: every given dimension must be a non-negative safe
 * integer. A negative cost would be a refund in disguise, so it is refused;
 * so is a key that is no dimension (`{ request: 1 }`, a typo from plain
 * JavaScript), which would otherwise charge nothing and let every request
 * through.
 *
 * @throws RangeError for anything else.
 */
export function checkQuotaCost(cost: QuotaCost, what = 'quota cost'): QuotaCost {
  if (typeof cost !== 'object' || cost === null) throw new RangeError(`[@tenant/core] ${what} must be an object such as { requests: 1, tokens: 500 }`);
  for (const key in cost) {
    const value = (cost as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (!(QUOTA_DIMENSIONS as readonly string[]).includes(key)) {
      throw new RangeError(`[@tenant/core] ${what}.${key} is not a quota dimension (${QUOTA_DIMENSIONS.join(', ')})`);
    }
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw new RangeError(`[@tenant/core] ${what}.${key} must be a non-negative integer`);
    }
  }
  return cost;
}

// Limits objects already checked: tenant configs are frozen and reused, so
// each is checked once rather than on every request.
const checkedLimits = new WeakSet<object>();

/**
 * Checks quota limits: `{ requests?, tokens? }`, each `{ limit, windowMs }`
 * with a non-negative integer limit and a positive integer window. Without
 * this, a window of 0 or `NaN` would silently count nothing.
 *
 * @throws RangeError for anything else.
 */
export function checkQuotaLimits(limits: TenantQuota): TenantQuota {
  if (typeof limits !== 'object' || limits === null) {
    throw new RangeError('[@tenant/core] quota limits must be an object such as { requests: { limit: 100, windowMs: 60_000 } }');
  }
  if (checkedLimits.has(limits)) return limits;
  for (const dimension of QUOTA_DIMENSIONS) {
    const limit = limits[dimension];
    if (limit === undefined) continue;
    if (typeof limit !== 'object' || limit === null) throw new RangeError(`[@tenant/core] quota limits.${dimension} must be { limit, windowMs }`);
    if (!Number.isSafeInteger(limit.limit) || limit.limit < 0) throw new RangeError(`[@tenant/core] quota limits.${dimension}.limit must be a non-negative integer`);
    if (!Number.isSafeInteger(limit.windowMs) || limit.windowMs < 1) throw new RangeError(`[@tenant/core] quota limits.${dimension}.windowMs must be a positive integer`);
  }
  if (Object.isFrozen(limits)) checkedLimits.add(limits);
  return limits;
}
