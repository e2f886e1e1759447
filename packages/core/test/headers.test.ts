import { describe, expect, it } from 'vitest';
import { createMemoryQuota, rateLimitHeaders, type QuotaResult, type TenantQuota } from '../src/index.js';
import { manualClock } from './fixtures-b/request.js';

const MINUTE = 60_000;
// Aligned to an hour, so minute and hour windows both start here.
const T0 = 500_000 * 3_600_000;

describe('rateLimitHeaders', () => {
  it('writes RateLimit-Policy and RateLimit for an admitted request, without Retry-After', () => {
    const clock = manualClock(T0 + 12_300);
    const quota = createMemoryQuota({ clock });
    const result = quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 100, windowMs: MINUTE } });
    expect(rateLimitHeaders(result, clock.now())).toEqual({
      'ratelimit-policy': '"requests";q=100;w=60',
      ratelimit: '"requests";r=99;t=48',
    });
  });

  it('adds Retry-After in whole seconds, rounded up, when refused', () => {
    const clock = manualClock(T0 + 47_500);
    const quota = createMemoryQuota({ clock });
    const limits = { requests: { limit: 1, windowMs: MINUTE } };
    quota.consumeSync('acme', { requests: 1 }, limits);
    const denied = quota.consumeSync('acme', { requests: 1 }, limits);
    expect(denied.retryAfterMs).toBe(12_500);
    expect(rateLimitHeaders(denied, clock.now())).toEqual({
      'ratelimit-policy': '"requests";q=1;w=60',
      ratelimit: '"requests";r=0;t=13',
      'retry-after': '13',
    });
  });

  it('lists both dimensions, requests first', () => {
    const clock = manualClock(T0);
    const quota = createMemoryQuota({ clock });
    const limits: TenantQuota = { requests: { limit: 10, windowMs: MINUTE }, tokens: { limit: 5_000, windowMs: 3_600_000 } };
    const result = quota.consumeSync('acme', { requests: 1, tokens: 1_200 }, limits);
    expect(rateLimitHeaders(result, clock.now())).toEqual({
      'ratelimit-policy': '"requests";q=10;w=60, "tokens";q=5000;w=3600',
      ratelimit: '"requests";r=9;t=60, "tokens";r=3800;t=3600',
    });
    const tokensOnly = quota.consumeSync('globex', { tokens: 1 }, { tokens: limits.tokens! });
    expect(rateLimitHeaders(tokensOnly, clock.now())).toEqual({ 'ratelimit-policy': '"tokens";q=5000;w=3600', ratelimit: '"tokens";r=4999;t=3600' });
  });

  it('rounds a sub-second window and retry up to one second, and never shows negative times', () => {
    const result: QuotaResult = {
      allowed: false,
      reason: 'limit_exceeded',
      retryAfterMs: 1,
      dimensions: { requests: { limit: 5, remaining: 0, windowMs: 500, resetAt: 1_000 } },
    };
    expect(rateLimitHeaders(result, 2_000)).toEqual({ 'ratelimit-policy': '"requests";q=5;w=1', ratelimit: '"requests";r=0;t=0', 'retry-after': '1' });
  });

  it('gives no Retry-After when waiting will not help, and nothing for unlimited tenants', () => {
    const tooLarge: QuotaResult = {
      allowed: false,
      reason: 'cost_exceeds_limit',
      retryAfterMs: undefined,
      dimensions: { tokens: { limit: 10, remaining: 10, windowMs: MINUTE, resetAt: MINUTE } },
    };
    expect(rateLimitHeaders(tooLarge, 0)).not.toHaveProperty('retry-after');
    expect(rateLimitHeaders({ allowed: true, retryAfterMs: 0, dimensions: {} }, 0)).toEqual({});
  });

  it('computes the policy line once per limits object', () => {
    const limits = { requests: { limit: 3, windowMs: MINUTE } };
    const first: QuotaResult = { allowed: true, retryAfterMs: 0, dimensions: { requests: { limit: 3, remaining: 2, windowMs: MINUTE, resetAt: MINUTE } } };
    expect(rateLimitHeaders(first, 0, limits)['ratelimit-policy']).toBe('"requests";q=3;w=60');
    // The cached line is keyed by the limits object, not rebuilt from the result.
    const other: QuotaResult = { ...first, dimensions: { requests: { limit: 9, remaining: 2, windowMs: MINUTE, resetAt: MINUTE } } };
    expect(rateLimitHeaders(other, 0, limits)['ratelimit-policy']).toBe('"requests";q=3;w=60');
    expect(rateLimitHeaders(other, 0, {})['ratelimit-policy']).toBe('"requests";q=9;w=60');
  });
});
