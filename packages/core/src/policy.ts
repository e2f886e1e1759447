import type { PolicyDecision, PolicyEvaluator, PolicyRequest, TenantConfig } from '@tenant/interfaces';

const ALLOWED: PolicyDecision = Object.freeze({ allowed: true });

/**
 * The allow-list policy evaluator. For each dimension the request names, every
 * value it asks for must be in the tenant's list for that dimension. A
 * dimension with no list, an empty list, or `'*'` in its list allows all.
 *
 * @example
 * ```ts
 * import { createPolicyEvaluator } from '@tenant/core';
 *
 * const policy = createPolicyEvaluator();
 * policy.evaluate(tenant, { models: 'gpt-4o', tools: ['search'] });
 * // { allowed: false, reason: '"gpt-4o" is not in this tenant\'s allowed models', dimension: 'models', value: 'gpt-4o' }
 * ```
 */
export function createPolicyEvaluator(): PolicyEvaluator {
  return Object.freeze({ evaluate: evaluatePolicy });
}

/** Evaluates a request against a tenant's allow-lists (see {@link createPolicyEvaluator}). */
export function evaluatePolicy(tenant: TenantConfig, request: PolicyRequest): PolicyDecision {
  for (const dimension of Object.keys(request)) {
    const asked = request[dimension];
    if (asked === undefined) continue;
    const allowList = Object.prototype.hasOwnProperty.call(tenant.policy, dimension) ? tenant.policy[dimension] : undefined;
    if (allowList === undefined || allowList.length === 0 || allowList.includes('*')) continue;
    for (const value of typeof asked === 'string' ? [asked] : asked) {
      if (!allowList.includes(value)) {
        return { allowed: false, reason: `"${printable(value)}" is not in this tenant's allowed ${dimension}`, dimension, value };
      }
    }
  }
  return ALLOWED;
}

function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f"\\]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
