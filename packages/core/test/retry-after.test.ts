// Generated windows, limits and costs: on every refusal that waiting cures,
// the RateLimit `t` of each refused dimension is at least Retry-After, a
// retry at `t` is admitted, and (the fixed window being exact) a retry one
// millisecond before `retryAfterMs` is not.
import { describe, expect, it } from 'vitest';
import { createMemoryQuota, rateLimitHeaders, type QuotaCost, type QuotaDimension, type TenantQuota } from '../src/index.js';
import { manualClock } from './fixtures-b/request.js';

/** A small seeded generator (mulberry32), so that a failing case can be replayed. */
function random(seed: number): (min: number, max: number) => number {
  let a = seed >>> 0;
  return (min, max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return min + Math.floor(unit * (max - min + 1));
  };
}

/** `t` of one dimension in a RateLimit header value. */
function resetOf(header: string | undefined, dimension: QuotaDimension): number {
  const item = (header ?? '').split(', ').find((part) => part.startsWith(`"${dimension}";`));
  const t = item?.split(';').find((param) => param.startsWith('t='));
  return Number(t?.slice(2));
}

describe('fixed window: t and Retry-After on refusals, generated', () => {
  const seeds = Array.from({ length: 300 }, (_, i) => 7_919 * (i + 1));
  it.each(seeds)('seed %i', (seed) => {
    const pick = random(seed);
    const clock = manualClock(1_700_000_000_000 + pick(0, 10_000_000));
    const quota = createMemoryQuota({ clock });
    const limits: TenantQuota = {
      ...(pick(0, 3) > 0 ? { requests: { limit: pick(1, 12), windowMs: pick(1, 120) * 500 } } : {}),
      ...(pick(0, 3) > 0 ? { tokens: { limit: pick(10, 400), windowMs: pick(1, 7200) * 50 } } : {}),
    };
    if (limits.requests === undefined && limits.tokens === undefined) return;
    const costOf = (): QuotaCost => ({ requests: 1, tokens: pick(0, Math.max(1, Math.ceil((limits.tokens?.limit ?? 10) / 3))) });
    let refusals = 0;
    for (let step = 0; step < 200 && refusals < 3; step += 1) {
      clock.advance(pick(0, 2_000));
      const cost = costOf();
      const result = quota.consumeSync('acme', cost, limits);
      if (result.allowed || result.reason !== 'limit_exceeded') continue;
      refusals += 1;
      const now = clock.now();
      const headers = rateLimitHeaders(result, now, limits);
      const retryAfter = Number(headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter * 1000).toBeGreaterThanOrEqual(result.retryAfterMs ?? Number.NaN);
      let latest = 0;
      for (const dimension of result.exceeded ?? []) {
        expect(result.dimensions[dimension]?.resetAt, `${dimension} resetAt`).toBeGreaterThanOrEqual(now + (result.retryAfterMs as number));
        const t = resetOf(headers['ratelimit'], dimension);
        expect(t, `${dimension} t against Retry-After ${retryAfter}`).toBeGreaterThanOrEqual(retryAfter);
        latest = Math.max(latest, t);
      }
      // Exact: one millisecond early is still refused, and nothing was consumed by trying.
      clock.set(now + (result.retryAfterMs as number) - 1);
      expect(quota.consumeSync('acme', cost, limits).allowed).toBe(false);
      // A client that waits the `t` it read gets in.
      clock.set(now + latest * 1000);
      expect(quota.consumeSync('acme', cost, limits).allowed).toBe(true);
    }
  });
});
