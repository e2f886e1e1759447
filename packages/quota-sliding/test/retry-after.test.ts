// Generated windows, limits and costs: on every refusal that waiting cures,
// the RateLimit `t` of each refused dimension is at least Retry-After and a
// retry at `t` is admitted; where the model is exact (the log), a retry one
// millisecond before `retryAfterMs` is still refused. In memory on a manual
// clock; on Redis (timed by Redis TIME) by waiting for `t`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { rateLimitHeaders, type QuotaCost, type QuotaDimension, type QuotaManager, type QuotaResult, type TenantQuota } from '@tenant/core';
import type { Redis } from 'ioredis';
import { createMemorySlidingQuota, createRedisFixedWindowQuota, createRedisSlidingQuota, type SlidingAlgorithm } from '../src/index.js';
import { connect, deletePrefix, ready, redisNow, uniquePrefix } from './helpers/shared.js';

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

/**
 * Checks a refusal: each refused dimension's `resetAt` is no earlier than
 * `quotaNow + retryAfterMs` (the source of `t`), and the headers built at
 * `now`; returns the latest `t` of a refused dimension, in seconds.
 */
function checkRefusal(result: QuotaResult, now: number, limits: TenantQuota, quotaNow = now): number {
  for (const dimension of result.exceeded ?? []) {
    expect(result.dimensions[dimension]?.resetAt, `${dimension} resetAt`).toBeGreaterThanOrEqual(quotaNow + (result.retryAfterMs ?? Number.NaN));
  }
  const headers = rateLimitHeaders(result, now, limits);
  const retryAfter = Number(headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter * 1000).toBeGreaterThanOrEqual(result.retryAfterMs ?? Number.NaN);
  let latest = 0;
  for (const dimension of result.exceeded ?? []) {
    const t = resetOf(headers['ratelimit'], dimension);
    expect(t, `${dimension} t against Retry-After ${retryAfter} (${headers['ratelimit']})`).toBeGreaterThanOrEqual(retryAfter);
    latest = Math.max(latest, t);
  }
  return latest;
}

function manualClock(start: number) {
  let now = start;
  return { now: () => now, set: (at: number) => void (now = at), advance: (ms: number) => void (now += ms) };
}

describe.each(['counter', 'log'] as SlidingAlgorithm[])('memory %s: t and Retry-After on refusals, generated', (algorithm) => {
  const seeds = Array.from({ length: 200 }, (_, i) => 104_729 * (i + 1));
  let total = 0;
  it.each(seeds)('seed %i', (seed) => {
    const pick = random(seed);
    const clock = manualClock(1_700_000_000_000 + pick(0, 10_000_000));
    const quota = createMemorySlidingQuota({ algorithm, clock });
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
      const latest = checkRefusal(result, now, limits);
      if (algorithm === 'log') {
        // Exact: one millisecond early is still refused, and trying consumed nothing.
        clock.set(now + (result.retryAfterMs as number) - 1);
        expect(quota.consumeSync('acme', cost, limits).allowed).toBe(false);
      }
      // A client that waits the `t` it read gets in.
      clock.set(now + latest * 1000);
      expect(quota.consumeSync('acme', cost, limits).allowed).toBe(true);
    }
    total += refusals;
  });
  it('the generated cases were refused often enough to mean something', () => {
    expect(total).toBeGreaterThan(300);
  });
});

describe('redis: t and Retry-After on refusals, generated', () => {
  let client: Redis;
  const prefix = uniquePrefix('retry-after');
  beforeAll(async () => {
    client = await ready(connect());
  });
  afterAll(async () => {
    await deletePrefix(client, prefix);
    client.disconnect();
  });
  const backends: [string, () => QuotaManager][] = [
    ['sliding counter', () => createRedisSlidingQuota({ client, prefix, timeoutMs: 10_000 })],
    ['sliding log', () => createRedisSlidingQuota({ client, prefix, algorithm: 'log', timeoutMs: 10_000 })],
    ['fixed window', () => createRedisFixedWindowQuota({ client, prefix, timeoutMs: 10_000 })],
  ];
  it.each(backends)('%s: a retry at t is admitted', async (name, make) => {
    const quota = make();
    // Short windows, so that waiting for t costs about a second; the cases run side by side.
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const pick = random(7_001 * (i + 1) + name.length);
        const tenant = `retry-${name.replace(' ', '-')}-${i}`;
        const limits: TenantQuota = i % 2 === 0
          ? { requests: { limit: pick(1, 6), windowMs: pick(2, 15) * 100 } }
          : { requests: { limit: pick(2, 8), windowMs: pick(2, 15) * 100 }, tokens: { limit: pick(10, 60), windowMs: pick(2, 15) * 100 } };
        let refused: QuotaResult | undefined;
        let cost: QuotaCost = { requests: 1 };
        let before = 0;
        for (let n = 0; n < 100 && refused === undefined; n += 1) {
          cost = { requests: 1, tokens: pick(1, 10) };
          before = await redisNow(client);
          const result = await quota.consume(tenant, cost, limits);
          if (!result.allowed && result.reason === 'limit_exceeded') refused = result;
        }
        expect(refused, `${tenant} was refused once filled`).toBeDefined();
        // Headers as the pipeline writes them, on this process's clock (not Redis TIME).
        const latest = checkRefusal(refused as QuotaResult, Date.now(), limits, before);
        await sleep(latest * 1000);
        const retry = await quota.consume(tenant, cost, limits);
        expect(retry.allowed, `${tenant} retried after t=${latest}s: ${JSON.stringify(retry)}`).toBe(true);
      }),
    );
  }, 30_000);
});
