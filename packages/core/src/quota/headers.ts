import type { QuotaDimensionState, QuotaResult } from '@tenant/interfaces';

const policyCache = new WeakMap<object, string>();

const policyItem = (name: string, s: QuotaDimensionState) => `"${name}";q=${s.limit};w=${Math.max(1, Math.ceil(s.windowMs / 1000))}`;
const currentItem = (name: string, s: QuotaDimensionState, now: number, floor: number) =>
  `"${name}";r=${s.remaining};t=${Math.max(floor, Math.ceil((s.resetAt - now) / 1000))}`;

/**
 * The rate-limit response headers for a quota result, following
 * draft-ietf-httpapi-ratelimit-headers-09 (the structured-field syntax of
 * revisions 07 to 10): `ratelimit-policy` (quota `q` and window `w` in
 * seconds, per dimension) and `ratelimit` (remaining `r` and seconds to
 * reset `t`), plus `retry-after` (seconds, rounded up) when the request was
 * refused and waiting helps. On such a refusal, the `t` of each refused
 * dimension is at least `retry-after`. Names are lower-case.
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
  // On a refusal that waiting cures, a refused dimension's `t` is never below
  // `Retry-After`: a client that retries at `t` must not be refused again
  // (the quota's own clock, Redis TIME for example, may run behind `now`).
  const retryAfter = !result.allowed && result.retryAfterMs !== undefined ? Math.max(1, Math.ceil(result.retryAfterMs / 1000)) : undefined;
  const floorOf = (name: 'requests' | 'tokens'): number => (retryAfter !== undefined && result.exceeded?.includes(name) === true ? retryAfter : 0);
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
        ? `${currentItem('requests', requests, now, floorOf('requests'))}, ${currentItem('tokens', tokens, now, floorOf('tokens'))}`
        : requests !== undefined
          ? currentItem('requests', requests, now, floorOf('requests'))
          : currentItem('tokens', tokens as QuotaDimensionState, now, floorOf('tokens'));
  }
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return headers;
}
