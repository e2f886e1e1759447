import { QUOTA_DIMENSIONS, type QuotaCost } from '@tenant/interfaces';

/**
 * Checks a quota cost: every given dimension must be a non-negative safe
 * integer. A negative cost would be a refund in disguise, so it is refused.
 *
 * @throws RangeError for anything else.
 */
export function checkQuotaCost(cost: QuotaCost, what = 'quota cost'): QuotaCost {
  if (typeof cost !== 'object' || cost === null) throw new RangeError(`[@tenant/core] ${what} must be an object such as { requests: 1, tokens: 500 }`);
  for (const dimension of QUOTA_DIMENSIONS) {
    const value = cost[dimension];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`[@tenant/core] ${what}.${dimension} must be a non-negative integer`);
    }
  }
  return cost;
}
