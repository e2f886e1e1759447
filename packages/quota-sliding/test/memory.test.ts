// The in-memory managers with a fake clock: exact arithmetic, the counter's
// documented bound, the log's exactness, lazy sweeping.
import { describe, expect, it } from 'vitest';
import { createMemorySlidingQuota, type SlidingAlgorithm } from '../src/index.js';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, set: (t: number) => void (now = t), advance: (ms: number) => void (now += ms) };
}

/** How many steps of Map iterators `fn` takes (a sweep visits one tenant per step). */
function countIteratorSteps(fn: () => void): number {
  const proto = Object.getPrototypeOf(new Map().entries()) as { next: (this: unknown) => unknown };
  const next = proto.next;
  let steps = 0;
  proto.next = function (this: unknown) {
    steps += 1;
    return next.call(this);
  };
  try {
    fn();
  } finally {
    proto.next = next;
  }
  return steps;
}

/** A small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Admitted (time, cost) pairs of a random bursty traffic over `windows` windows. */
function traffic(algorithm: SlidingAlgorithm, seed: number, L: number, w: number, windows: number, tokens: boolean) {
  const clock = fakeClock(0);
  const quota = createMemorySlidingQuota({ algorithm, clock });
  const limits = tokens ? { tokens: { limit: L, windowMs: w } } : { requests: { limit: L, windowMs: w } };
  const random = prng(seed);
  const admitted: { at: number; cost: number }[] = [];
  while (clock.now() < windows * w) {
    // Bursts and lulls: sometimes many calls in one millisecond.
    const burst = random() < 0.1 ? Math.ceil(random() * L * 2) : 1;
    for (let i = 0; i < burst; i++) {
      const cost = tokens ? 1 + Math.floor(random() * 5) : 1;
      const result = quota.consumeSync('acme', tokens ? { tokens: cost } : { requests: 1 }, limits);
      if (result.allowed) admitted.push({ at: clock.now(), cost });
    }
    clock.advance(1 + Math.floor(random() * (w / 20)));
  }
  return admitted;
}

/** The largest usage found in a closed interval [a, b] with b − a = d < w, as (usage, d) pairs. */
function intervals(admitted: readonly { at: number; cost: number }[], w: number) {
  const found: { used: number; d: number }[] = [];
  for (let i = 0; i < admitted.length; i++) {
    let used = 0;
    for (let j = i; j < admitted.length && admitted[j]!.at - admitted[i]!.at < w; j++) {
      used += admitted[j]!.cost;
      found.push({ used, d: admitted[j]!.at - admitted[i]!.at });
    }
  }
  return found;
}

describe('sliding log (exact)', () => {
  it('never admits more than the limit in any window, whatever the traffic', () => {
    for (const [seed, tokens] of [[1, false], [2, true], [3, false], [4, true]] as const) {
      const L = 20;
      const admitted = traffic('log', seed, L, 1_000, 8, tokens);
      expect(admitted.reduce((sum, a) => sum + a.cost, 0)).toBeGreaterThan(L * 4);
      for (const { used } of intervals(admitted, 1_000)) expect(used).toBeLessThanOrEqual(L);
    }
  });

  it('computes retryAfterMs for this cost: until enough of the oldest usage leaves', () => {
    const clock = fakeClock(0);
    const quota = createMemorySlidingQuota({ algorithm: 'log', clock });
    const limits = { tokens: { limit: 100, windowMs: 1_000 } };
    for (const at of [100, 200, 300]) {
      clock.set(at);
      expect(quota.consumeSync('acme', { tokens: 30 }, limits).allowed).toBe(true);
    }
    clock.set(500);
    expect(quota.consumeSync('acme', { tokens: 20 }, limits)).toMatchObject({ allowed: false, retryAfterMs: 600, exceeded: ['tokens'] });
    expect(quota.consumeSync('acme', { tokens: 50 }, limits)).toMatchObject({ allowed: false, retryAfterMs: 700 });
    expect(quota.consumeSync('acme', { tokens: 101 }, limits)).toMatchObject({ allowed: false, reason: 'cost_exceeds_limit', retryAfterMs: undefined });
    clock.set(1_099);
    expect(quota.consumeSync('acme', { tokens: 20 }, limits).allowed).toBe(false);
    clock.set(1_100);
    expect(quota.consumeSync('acme', { tokens: 20 }, limits)).toMatchObject({ allowed: true, dimensions: { tokens: { remaining: 20, resetAt: 1_200 } } });
  });

  it('refunds into the ticket\'s own entry while it is in the window, and charges late usage now', () => {
    const clock = fakeClock(0);
    const quota = createMemorySlidingQuota({ algorithm: 'log', clock });
    const limits = { tokens: { limit: 100, windowMs: 1_000 } };
    const first = quota.consumeSync('acme', { tokens: 60 }, limits);
    clock.set(400);
    const second = quota.consumeSync('acme', { tokens: 40 }, limits);
    quota.settleSync(first.ticket!, { tokens: 10 });
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(50);
    // A ticket is settled once: a second settle of the same ticket does nothing.
    quota.settleSync(first.ticket!, { tokens: 0 });
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(50);
    // The refunded entry still leaves at 1000: then 40 are used.
    clock.set(1_000);
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(60);
    quota.settleSync(second.ticket!, { tokens: 70 }); // 30 more, charged now
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(30);
    clock.set(1_400); // the 40 left; the 30 charged at 1000 stay until 2000
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(70);
  });
});

describe('sliding-window counter', () => {
  it('holds the documented bound: at most L × (1 + d/w) in any interval of length d < w', () => {
    for (const [seed, tokens] of [[5, false], [6, true], [7, false], [8, true]] as const) {
      const L = 20;
      const w = 1_000;
      const admitted = traffic('counter', seed, L, w, 8, tokens);
      expect(admitted.reduce((sum, a) => sum + a.cost, 0)).toBeGreaterThan(L * 4);
      for (const { used, d } of intervals(admitted, w)) expect(used).toBeLessThanOrEqual(Math.floor(L * (1 + (d + 1) / w)));
    }
  });

  it('admits no burst of 2L at a window edge (a fixed window would)', () => {
    const clock = fakeClock(0);
    const quota = createMemorySlidingQuota({ clock });
    const limits = { requests: { limit: 10, windowMs: 1_000 } };
    clock.set(999);
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (quota.consumeSync('acme', { requests: 1 }, limits).allowed) admitted++;
    clock.set(1_000);
    for (let i = 0; i < 10; i++) if (quota.consumeSync('acme', { requests: 1 }, limits).allowed) admitted++;
    expect(admitted).toBe(10);
  });

  it('computes retryAfterMs for this cost from the weighted previous window', () => {
    const clock = fakeClock(500);
    const quota = createMemorySlidingQuota({ clock });
    const limits = { requests: { limit: 10, windowMs: 1_000 } };
    expect(quota.consumeSync('acme', { requests: 10 }, limits).allowed).toBe(true);
    // At 1200 the previous window weighs 10 × 0.8 = 8: 3 more fit once it weighs 7, at 1300.
    clock.set(1_200);
    expect(quota.consumeSync('acme', { requests: 3 }, limits)).toMatchObject({ allowed: false, retryAfterMs: 100, dimensions: { requests: { remaining: 2 } } });
    clock.set(1_299);
    expect(quota.consumeSync('acme', { requests: 3 }, limits).allowed).toBe(false);
    clock.set(1_300);
    expect(quota.consumeSync('acme', { requests: 3 }, limits)).toMatchObject({ allowed: true, dimensions: { requests: { remaining: 0, resetAt: 2_000 } } });
    // Now cur (3) + 8 > 10: not before the next window, then until cur weighs 2 (w × 1/3 → 334 ms in).
    expect(quota.consumeSync('acme', { requests: 8 }, limits)).toMatchObject({ allowed: false, retryAfterMs: 700 + 334 });
    clock.set(2_334);
    expect(quota.consumeSync('acme', { requests: 8 }, limits).allowed).toBe(true);
  });

  it('refunds into the window the ticket was consumed in, also while it is the previous one', () => {
    const clock = fakeClock(0);
    const quota = createMemorySlidingQuota({ clock });
    const limits = { tokens: { limit: 100, windowMs: 1_000 } };
    const ticket = quota.consumeSync('acme', { tokens: 100 }, limits).ticket!;
    clock.set(1_500); // previous window weighs 100 × 0.5
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(50);
    quota.settleSync(ticket, { tokens: 20 }); // previous becomes 20, weighs 10
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(90);
    const late = quota.consumeSync('acme', { tokens: 10 }, limits).ticket!;
    clock.set(2_500); // the previous window (1000-2000) weighs half
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(95);
    quota.settleSync(late, { tokens: 50 }); // a charge found late counts now, in full
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(55);
  });
});

describe.each(['counter', 'log'] as const)('memory (%s): shared behaviour', (algorithm) => {
  it('keeps memory bounded by active tenants, swept without timers', () => {
    const clock = fakeClock(0);
    const quota = createMemorySlidingQuota({ algorithm, clock, sweepIntervalMs: 1_000, sweepBatch: 2_000 });
    const limits = { requests: { limit: 5, windowMs: 1_000 } };
    for (let i = 0; i < 1_000; i++) quota.consumeSync(`t${i}`, { requests: 1 }, limits);
    expect(quota.size).toBe(1_000);
    clock.set(3_001);
    quota.consumeSync('late', { requests: 1 }, limits);
    expect(quota.size).toBe(1);
    quota.reset();
    expect(quota.size).toBe(0);
  });

  it('spreads a sweep over calls: no call visits more than sweepBatch tenants, and memory stays bounded', () => {
    const clock = fakeClock(0);
    const batch = 50;
    const quota = createMemorySlidingQuota({ algorithm, clock, sweepIntervalMs: 1_000, sweepBatch: batch });
    const limits = { requests: { limit: 5, windowMs: 1_000 }, tokens: { limit: 100, windowMs: 1_000 } };
    const N = 100_000;
    for (let i = 0; i < N; i++) quota.consumeSync(`t${i}`, { requests: 1, tokens: 3 }, limits);
    expect(quota.size).toBe(N);
    clock.set(3_001);
    let maxVisits = 0;
    for (let call = 0; call <= Math.ceil(N / batch); call++) {
      const before = quota.size;
      maxVisits = Math.max(maxVisits, countIteratorSteps(() => quota.consumeSync(`new${call % 20}`, { requests: 1 }, limits)));
      expect(before - quota.size).toBeLessThanOrEqual(batch);
    }
    expect(maxVisits).toBe(batch);
    expect(quota.size).toBeLessThanOrEqual(20);
    // Churn: 500 new tenants a second for 20 seconds: memory holds the live windows (two, for
    // the counter) and what one pass leaves, never the whole history.
    let peak = 0;
    for (let second = 0; second < 20; second++) {
      for (let i = 0; i < 500; i++) {
        quota.consumeSync(`churn-${second}-${i}`, { requests: 1 }, limits);
        peak = Math.max(peak, quota.size);
      }
      clock.advance(1_000);
    }
    expect(peak).toBeLessThanOrEqual(2_100);
    expect(() => createMemorySlidingQuota({ algorithm, sweepBatch: 0 })).toThrow(RangeError);
  });

  it('refuses bad costs, limits and options', async () => {
    const quota = createMemorySlidingQuota({ algorithm });
    expect(() => quota.consumeSync('acme', { requests: -1 }, { requests: { limit: 1, windowMs: 1 } })).toThrow(RangeError);
    await expect(quota.consume('acme', { tokens: 1.5 }, { tokens: { limit: 1, windowMs: 1 } })).rejects.toThrow(RangeError);
    expect(() => quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 1, windowMs: 0 } })).toThrow(/windowMs/);
    expect(() => createMemorySlidingQuota({ algorithm: 'gcra' as never })).toThrow(TypeError);
    await expect(quota.settle({ tenantId: 'acme', cost: {}, limits: {}, at: 0 }, { tokens: -3 })).rejects.toThrow(RangeError);
  });
});
