import type { QuotaDimensionState, QuotaResult } from '@tenant/interfaces';

const policyCache = new WeakMap<object, string>();

const policyItem = (name: string, s: QuotaDimensionState) => `"${name}";q=${s.limit};w=${Math.max(1, Math.ceil(s.windowMs / 1000))}`;
const currentItem = (name: string, s: QuotaDimensionState, now: number) =>
  `"${name}";r=${s.remaining};t=${Math.max(0, Math.ceil((s.resetAt - now) / 1000))}`;

/**
 * The rate-limit response headers for a quota result, following
 * draft-ietf-httpapi-ratelimit-headers: `ratelimit-policy` (quota `q` and
 * window `w` in seconds, per dimension) and `ratelimit` (remaining `r` and
 * seconds to reset `t`), plus `retry-after` (seconds, rounded up) when the
 * request was refused and waiting helps. Names are lower-case.
 *
 * Pass the `limits` object the result was computed from to compute the
 * `ratelimit-policy` line once per limits object instead of per call.
 *
 * @example
 * ```ts
 * import { rateLimitHeaders } from '@tenant/core';
 *
 * rateLimitHeaders(result, Date.now());
 * // { 'ratelimit-policy': '"requests";q=100;w=60', ratelimit: '"requests";r=0;t=12', 'retry-after': '12' }
 * ```
 */
export function rateLimitHeaders(result: QuotaResult, now: number, limits?: object): Record<string, string> {
  const { requests, tokens } = result.dimensions;
  const headers: Record<string, string> = {};
  if (requests !== undefined || tokens !== undefined) {
    // The policy line depends only on the limits: computed once per limits object.
    let policy = limits === undefined ? undefined : policyCache.get(limits);
    if (policy === undefined) {
      policy =
        requests !== undefined && tokens !== undefined
          ? `${policyItem('requests', requests)}, ${policyItem('tokens', tokens)}`
          : requests !== undefined
            ? policyItem('requests', requests)
            : policyItem('tokens', tokens as QuotaDimensionState);
      if (limits !== undefined) policyCache.set(limits, policy);
    }
    headers['ratelimit-policy'] = policy;
    headers['ratelimit'] =
      requests !== undefined && tokens !== undefined
        ? `${currentItem('requests', requests, now)}, ${currentItem('tokens', tokens, now)}`
        : requests !== undefined
          ? currentItem('requests', requests, now)
          : currentItem('tokens', tokens as QuotaDimensionState, now);
  }
  if (!result.allowed && result.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
  }
  return headers;
}
