import { describe, expect, it } from 'vitest';
import { checkQuotaCost, createMemoryQuota, createMemoryTenantStore, createTenancy, fromHeader, type QuotaResult, type TenantQuota } from '../src/index.js';
import { manualClock } from './fixtures-b/request.js';

const MINUTE = 60_000;

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
// Aligned to a window start, so that window arithmetic in tests is plain.
const T0 = 1_000_000 * MINUTE;

const setup = (start = T0) => {
  const clock = manualClock(start);
  return { clock, quota: createMemoryQuota({ clock }) };
};

const both: TenantQuota = { requests: { limit: 3, windowMs: MINUTE }, tokens: { limit: 100, windowMs: MINUTE } };

describe('memory fixed-window quota: consume', () => {
  it('admits up to the limit, then refuses with the time to the window end', () => {
    const { clock, quota } = setup();
    const limits = { requests: { limit: 2, windowMs: MINUTE } };
    const first = quota.consumeSync('acme', { requests: 1 }, limits);
    expect(first).toMatchObject({ allowed: true, retryAfterMs: 0, dimensions: { requests: { limit: 2, remaining: 1, windowMs: MINUTE, resetAt: T0 + MINUTE } } });
    expect(first.ticket).toMatchObject({ tenantId: 'acme', cost: { requests: 1 }, at: T0 });
    clock.advance(10_000);
    expect(quota.consumeSync('acme', { requests: 1 }, limits).dimensions.requests?.remaining).toBe(0);
    clock.advance(5_000);
    const denied = quota.consumeSync('acme', { requests: 1 }, limits);
    expect(denied).toMatchObject({ allowed: false, reason: 'limit_exceeded', retryAfterMs: 45_000, exceeded: ['requests'] });
    expect(denied.ticket).toBeUndefined();
    expect(denied.dimensions.requests).toEqual({ limit: 2, remaining: 0, windowMs: MINUTE, resetAt: T0 + MINUTE });
  });

  it('checks requests and tokens together and consumes all or nothing', () => {
    const { quota } = setup();
    expect(quota.consumeSync('acme', { requests: 1, tokens: 90 }, both).allowed).toBe(true);
    // Requests would fit, tokens would not: nothing is consumed.
    const denied = quota.consumeSync('acme', { requests: 1, tokens: 20 }, both);
    expect(denied).toMatchObject({ allowed: false, reason: 'limit_exceeded', exceeded: ['tokens'] });
    expect(denied.dimensions).toEqual({
      requests: { limit: 3, remaining: 2, windowMs: MINUTE, resetAt: T0 + MINUTE },
      tokens: { limit: 100, remaining: 10, windowMs: MINUTE, resetAt: T0 + MINUTE },
    });
    // The refused request took no request unit: two more small ones fit exactly.
    expect(quota.consumeSync('acme', { requests: 1, tokens: 5 }, both).allowed).toBe(true);
    const last = quota.consumeSync('acme', { requests: 1, tokens: 5 }, both);
    expect(last.dimensions).toMatchObject({ requests: { remaining: 0 }, tokens: { remaining: 0 } });
    expect(quota.consumeSync('acme', { requests: 1, tokens: 0 }, both)).toMatchObject({ allowed: false, exceeded: ['requests'] });
  });

  it('names every dimension that refused, and waits for the later window end', () => {
    const { clock, quota } = setup();
    const limits: TenantQuota = { requests: { limit: 1, windowMs: MINUTE }, tokens: { limit: 10, windowMs: 10 * MINUTE } };
    quota.consumeSync('acme', { requests: 1, tokens: 10 }, limits);
    clock.advance(1_000);
    const denied = quota.consumeSync('acme', { requests: 1, tokens: 1 }, limits);
    expect(denied.exceeded).toEqual(['requests', 'tokens']);
    expect(denied.retryAfterMs).toBe(10 * MINUTE - 1_000);
  });

  it('computes retryAfterMs for this request: a small one may pass where a large one waits', () => {
    const { quota } = setup();
    const limits = { tokens: { limit: 100, windowMs: MINUTE } };
    quota.consumeSync('acme', { tokens: 80 }, limits);
    expect(quota.consumeSync('acme', { tokens: 30 }, limits)).toMatchObject({ allowed: false, retryAfterMs: MINUTE });
    expect(quota.consumeSync('acme', { tokens: 20 }, limits).allowed).toBe(true);
  });

  it('refuses a cost above the limit as cost_exceeds_limit, with no retry time, consuming nothing', () => {
    const { quota } = setup();
    const result = quota.consumeSync('acme', { requests: 1, tokens: 101 }, both);
    expect(result).toMatchObject({ allowed: false, reason: 'cost_exceeds_limit', retryAfterMs: undefined, exceeded: ['tokens'] });
    expect(quota.consumeSync('acme', { requests: 1, tokens: 100 }, both).allowed).toBe(true);
  });

  it('rolls over to a new window on the injected clock', () => {
    const { clock, quota } = setup(T0 + 59_000);
    const limits = { requests: { limit: 1, windowMs: MINUTE } };
    expect(quota.consumeSync('acme', { requests: 1 }, limits).allowed).toBe(true);
    expect(quota.consumeSync('acme', { requests: 1 }, limits)).toMatchObject({ allowed: false, retryAfterMs: 1_000 });
    clock.advance(999);
    expect(quota.consumeSync('acme', { requests: 1 }, limits).allowed).toBe(false);
    clock.advance(1);
    const next = quota.consumeSync('acme', { requests: 1 }, limits);
    expect(next).toMatchObject({ allowed: true, dimensions: { requests: { remaining: 0, resetAt: T0 + 2 * MINUTE } } });
  });

  it('keeps tenants apart', () => {
    const { quota } = setup();
    const limits = { requests: { limit: 1, windowMs: MINUTE } };
    expect(quota.consumeSync('acme', { requests: 1 }, limits).allowed).toBe(true);
    expect(quota.consumeSync('globex', { requests: 1 }, limits).allowed).toBe(true);
    expect(quota.consumeSync('acme', { requests: 1 }, limits).allowed).toBe(false);
  });

  it('takes limits on each call: a raised limit applies at once, a new window length starts a new count', () => {
    const { quota } = setup();
    quota.consumeSync('acme', { requests: 2 }, { requests: { limit: 2, windowMs: MINUTE } });
    expect(quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 2, windowMs: MINUTE } }).allowed).toBe(false);
    expect(quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 5, windowMs: MINUTE } })).toMatchObject({ allowed: true, dimensions: { requests: { remaining: 2 } } });
    expect(quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 1, windowMs: MINUTE } }).allowed).toBe(false);
    const hourly = quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 2, windowMs: 60 * MINUTE } });
    expect(hourly).toMatchObject({ allowed: true, dimensions: { requests: { remaining: 1, windowMs: 60 * MINUTE } } });
  });

  it('admits everything with no limits, and does not count unlimited dimensions', () => {
    const { quota } = setup();
    expect(quota.consumeSync('acme', { requests: 1_000, tokens: 1e9 }, {})).toEqual({ allowed: true, retryAfterMs: 0, dimensions: {} });
    expect(quota.size).toBe(0);
    const limits = { requests: { limit: 1, windowMs: MINUTE } };
    const result = quota.consumeSync('acme', { requests: 1, tokens: 1e9 }, limits);
    expect(result.allowed).toBe(true);
    expect(result.dimensions.tokens).toBeUndefined();
  });

  it('gives the same results from consume and consumeSync', async () => {
    const a = setup();
    const b = setup();
    const costs = [{ requests: 1, tokens: 40 }, { requests: 1, tokens: 70 }, { requests: 1, tokens: 60 }, { requests: 1, tokens: 1 }, { requests: 1 }, { tokens: 500 }];
    for (const cost of costs) {
      const sync = a.quota.consumeSync('acme', cost, both);
      const async = await b.quota.consume('acme', cost, both);
      expect(async).toEqual(sync);
      a.clock.advance(7_000);
      b.clock.advance(7_000);
    }
  });

  it('admits exactly the limit under many concurrent consumes', async () => {
    const quota = createMemoryQuota();
    const limits = { requests: { limit: 50, windowMs: 60 * MINUTE } };
    const results = await Promise.all(Array.from({ length: 500 }, () => quota.consume('acme', { requests: 1 }, limits)));
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
    expect(results.filter((r) => !r.allowed).every((r) => r.reason === 'limit_exceeded')).toBe(true);
  });
});

describe('memory fixed-window quota: settle', () => {
  const limits: TenantQuota = { tokens: { limit: 1_000, windowMs: MINUTE } };
  const admitted = (result: QuotaResult) => {
    if (!result.ticket) throw new Error('expected a ticket');
    return result.ticket;
  };

  it('refunds an estimate that was too high', async () => {
    const { quota } = setup();
    const ticket = admitted(quota.consumeSync('acme', { tokens: 800 }, limits));
    await quota.settle(ticket, { tokens: 300 });
    expect(quota.consumeSync('acme', { tokens: 700 }, limits)).toMatchObject({ allowed: true, dimensions: { tokens: { remaining: 0 } } });
  });

  it('charges the extra when the real cost is higher, even past the limit', async () => {
    const { quota } = setup();
    const ticket = admitted(quota.consumeSync('acme', { tokens: 500 }, limits));
    await quota.settle(ticket, { tokens: 1_200 });
    const next = quota.consumeSync('acme', { tokens: 0 }, limits);
    expect(next).toMatchObject({ allowed: false, reason: 'limit_exceeded', dimensions: { tokens: { remaining: 0 } } });
  });

  it('settles a ticket once: a second settle changes nothing', async () => {
    const { quota } = setup();
    const ticket = admitted(quota.consumeSync('acme', { tokens: 500 }, limits));
    await quota.settle(ticket, { tokens: 100 });
    await quota.settle(ticket, { tokens: 100 });
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(900);
  });

  it('never counts below zero', async () => {
    const { quota } = setup();
    const ticket = admitted(quota.consumeSync('acme', { tokens: 500 }, limits));
    quota.reset('acme');
    await quota.settle(ticket, { tokens: 0 });
    expect(quota.consumeSync('acme', { tokens: 1_000 }, limits).allowed).toBe(true);
  });

  it('drops a refund after its window ended, and charges a late extra to the current window', async () => {
    const { clock, quota } = setup();
    const refund = admitted(quota.consumeSync('acme', { tokens: 500 }, limits));
    const charge = admitted(quota.consumeSync('acme', { tokens: 100 }, limits));
    clock.advance(MINUTE);
    await quota.settle(refund, { tokens: 0 });
    await quota.settle(charge, { tokens: 400 });
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(700);
  });

  it('leaves dimensions alone that the actual cost does not name or that have no limit', async () => {
    const { quota } = setup();
    const ticket = admitted(quota.consumeSync('acme', { requests: 1, tokens: 200 }, { ...limits, requests: { limit: 5, windowMs: MINUTE } }));
    await quota.settle(ticket, { requests: 1 });
    const after = quota.consumeSync('acme', { requests: 0 }, { ...limits, requests: { limit: 5, windowMs: MINUTE } });
    expect(after.dimensions).toMatchObject({ requests: { remaining: 4 }, tokens: { remaining: 800 } });
  });

  it('refuses what is not a ticket or a valid cost', async () => {
    const { quota } = setup();
    await expect(quota.settle(undefined as never, { tokens: 1 })).rejects.toThrow(TypeError);
    const ticket = admitted(quota.consumeSync('acme', { tokens: 1 }, limits));
    await expect(quota.settle(ticket, { tokens: -1 })).rejects.toThrow(RangeError);
    // A refused settle does not use up the ticket.
    await quota.settle(ticket, { tokens: 11 });
    expect(quota.consumeSync('acme', { tokens: 0 }, limits).dimensions.tokens?.remaining).toBe(989);
  });
});

describe('memory fixed-window quota: memory and reset', () => {
  it('sweeps expired counters lazily, bounding memory with many tenants', () => {
    const clock = manualClock(T0);
    const quota = createMemoryQuota({ clock, sweepIntervalMs: MINUTE, sweepBatch: 10_000 });
    const limits = { requests: { limit: 10, windowMs: MINUTE } };
    for (let i = 0; i < 10_000; i += 1) quota.consumeSync(`t-${i}`, { requests: 1 }, limits);
    expect(quota.size).toBe(10_000);
    clock.advance(MINUTE);
    quota.consumeSync('fresh', { requests: 1 }, limits);
    expect(quota.size).toBe(1);
    // A tenant with one live dimension keeps its record until both expire.
    quota.consumeSync('mixed', { requests: 1, tokens: 1 }, { requests: limits.requests, tokens: { limit: 10, windowMs: 10 * MINUTE } });
    clock.advance(MINUTE);
    quota.consumeSync('other', { requests: 1 }, limits);
    quota.consumeSync('other', { requests: 1 }, limits);
    expect(quota.size).toBe(2);
  });

  it('spreads a sweep over calls: no call visits more than sweepBatch tenants, and memory stays bounded', () => {
    const clock = manualClock(T0);
    const batch = 64;
    const quota = createMemoryQuota({ clock, sweepIntervalMs: MINUTE, sweepBatch: batch });
    const limits = { requests: { limit: 10, windowMs: MINUTE } };
    const N = 100_000;
    for (let i = 0; i < N; i += 1) quota.consumeSync(`t-${i}`, { requests: 1 }, limits);
    expect(quota.size).toBe(N);
    clock.advance(2 * MINUTE);
    // Count the map entries each call visits (each sweep step is one iterator step).
    const visits: number[] = [];
    let calls = 0;
    while (calls < Math.ceil(N / batch) + 1) {
      const before = quota.size;
      visits.push(countIteratorSteps(() => quota.consumeSync(`new-${calls++ % 50}`, { requests: 1 }, limits)));
      expect(before - quota.size).toBeLessThanOrEqual(batch);
    }
    expect(Math.max(...visits)).toBeLessThanOrEqual(batch);
    expect(Math.max(...visits)).toBeGreaterThan(0);
    // The pass ended within N / batch calls, leaving only the live tenants.
    expect(quota.size).toBeLessThanOrEqual(50);
    // Churn: 1,000 new tenants a minute for 30 minutes; memory never holds more than the live
    // minute, the one before it, and what one pass adds.
    let peak = 0;
    for (let minute = 0; minute < 30; minute += 1) {
      for (let i = 0; i < 1_000; i += 1) {
        quota.consumeSync(`churn-${minute}-${i}`, { requests: 1 }, limits);
        peak = Math.max(peak, quota.size);
      }
      clock.advance(MINUTE);
    }
    expect(peak).toBeLessThanOrEqual(3_100);
    expect(() => createMemoryQuota({ sweepBatch: 0 })).toThrow(RangeError);
  });

  it('resets one tenant or all', () => {
    const { quota } = setup();
    const limits = { requests: { limit: 1, windowMs: MINUTE } };
    quota.consumeSync('acme', { requests: 1 }, limits);
    quota.consumeSync('globex', { requests: 1 }, limits);
    quota.reset('acme');
    expect(quota.size).toBe(1);
    expect(quota.consumeSync('acme', { requests: 1 }, limits).allowed).toBe(true);
    expect(quota.consumeSync('globex', { requests: 1 }, limits).allowed).toBe(false);
    quota.reset();
    expect(quota.size).toBe(0);
    expect(quota.consumeSync('globex', { requests: 1 }, limits).allowed).toBe(true);
  });
});

describe('quota costs', () => {
  const bad = [{ requests: -1 }, { tokens: Number.NaN }, { tokens: 1.5 }, { tokens: Number.POSITIVE_INFINITY }, { tokens: 2 ** 60 }, { requests: '1' as unknown as number }];

  it.each(bad)('refuses %o with a RangeError, sync and async, consuming nothing', async (cost) => {
    const { quota } = setup();
    expect(() => quota.consumeSync('acme', cost, both)).toThrow(RangeError);
    await expect(quota.consume('acme', cost, both)).rejects.toThrow(RangeError);
    expect(quota.size).toBe(0);
  });

  it.each([
    ['a zero window', { requests: { limit: 1, windowMs: 0 } }],
    ['a NaN window', { requests: { limit: 1, windowMs: Number.NaN } }],
    ['a fractional window', { tokens: { limit: 1, windowMs: 1.5 } }],
    ['a negative limit', { tokens: { limit: -1, windowMs: MINUTE } }],
    ['a non-integer limit', { requests: { limit: 0.5, windowMs: MINUTE } }],
    ['a dimension that is not an object', { requests: 5 }],
    ['no object at all', null],
  ])('refuses limits with %s (RangeError) instead of counting nothing', async (_name, limits) => {
    const { quota } = setup();
    expect(() => quota.consumeSync('acme', { requests: 1 }, limits as unknown as TenantQuota)).toThrow(RangeError);
    await expect(quota.consume('acme', { requests: 1 }, limits as unknown as TenantQuota)).rejects.toThrow(RangeError);
  });

  it('checks a frozen limits object once, and a mutable one on every call', () => {
    const { quota } = setup();
    const frozen = Object.freeze({ requests: Object.freeze({ limit: 5, windowMs: MINUTE }) });
    expect(quota.consumeSync('acme', { requests: 1 }, frozen).allowed).toBe(true);
    expect(quota.consumeSync('acme', { requests: 1 }, frozen).allowed).toBe(true);
    const mutable = { requests: { limit: 5, windowMs: MINUTE } };
    expect(quota.consumeSync('globex', { requests: 1 }, mutable).allowed).toBe(true);
    mutable.requests.windowMs = 0;
    expect(() => quota.consumeSync('globex', { requests: 1 }, mutable)).toThrow(RangeError);
  });

  it('admits nothing under a zero limit', () => {
    const { quota } = setup();
    expect(quota.consumeSync('acme', { requests: 1 }, { requests: { limit: 0, windowMs: MINUTE } })).toMatchObject({ allowed: false, reason: 'cost_exceeds_limit' });
    expect(quota.consumeSync('acme', { requests: 0 }, { requests: { limit: 0, windowMs: MINUTE } }).allowed).toBe(true);
  });

  it('refuses a cost that is not an object and accepts zero and absent dimensions', () => {
    expect(() => checkQuotaCost(null as never)).toThrow(RangeError);
    expect(() => checkQuotaCost(3 as never)).toThrow(/requests: 1/);
    expect(checkQuotaCost({})).toEqual({});
    expect(checkQuotaCost({ requests: 0, tokens: Number.MAX_SAFE_INTEGER })).toEqual({ requests: 0, tokens: Number.MAX_SAFE_INTEGER });
    expect(() => checkQuotaCost({ tokens: -5 }, 'actual cost')).toThrow('actual cost.tokens');
    expect(checkQuotaCost({ requests: 1, tokens: undefined } as never)).toEqual({ requests: 1, tokens: undefined });
  });

  it('refuses a cost key that is no dimension, which would charge nothing', () => {
    for (const key of ['request', 'Requests', 'token', 'cost', '__proto__x', 'constructor']) {
      expect(() => checkQuotaCost({ [key]: 1 } as never), key).toThrow(`quota cost.${key} is not a quota dimension (requests, tokens)`);
    }
    // inherited enumerable keys count too (a cost made from a class or Object.create)
    expect(() => checkQuotaCost(Object.create({ request: 1 }) as never)).toThrow(RangeError);
    // through the pipeline: a refusal that is the developer's error (500), never a free pass
    const tenancy = createTenancy({
      store: createMemoryTenantStore({ tenants: [{ id: 'acme', quota: { requests: { limit: 1, windowMs: MINUTE } } }] }),
      resolve: fromHeader(),
      cost: () => ({ request: 1 }) as never,
    });
    const request = { method: 'GET', path: '/', query: '', host: 'x', header: (name: string) => (name === 'x-tenant-id' ? 'acme' : undefined) };
    for (let i = 0; i < 3; i++) expect(tenancy.decide(request)).toMatchObject({ ok: false, status: 500, code: 'internal_error' });
  });
});
