// One scenario run against every backend beside core's in-memory fixed
// window: the same decisions, the same remaining units, the same result shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryQuota, type QuotaManager, type QuotaResult, type TenantQuota } from '@tenant/core';
import type { Redis } from 'ioredis';
import { createMemorySlidingQuota, createRedisFixedWindowQuota, createRedisSlidingQuota } from '../src/index.js';
import { connect, deletePrefix, ready, safeWindow, uniquePrefix } from './helpers/shared.js';

let client: Redis;
const prefix = uniquePrefix('semantics');

beforeAll(async () => {
  client = await ready(connect());
});
afterAll(async () => {
  await deletePrefix(client, prefix);
  client.disconnect();
});

// These tests are about what is counted, not about slow answers: a timeout far
// above the default keeps a busy machine from turning checks into
// backend_unavailable (the failure policy has its own tests).
const timeoutMs = 30_000;
const backends: [string, () => QuotaManager][] = [
  ['memory counter', () => createMemorySlidingQuota()],
  ['memory log', () => createMemorySlidingQuota({ algorithm: 'log' })],
  ['redis counter', () => createRedisSlidingQuota({ client, prefix, timeoutMs })],
  ['redis log', () => createRedisSlidingQuota({ client, prefix, algorithm: 'log', timeoutMs })],
  ['redis fixed', () => createRedisFixedWindowQuota({ client, prefix, timeoutMs })],
];

/** What must be equal between backends (times differ by clock and algorithm). */
function view(result: QuotaResult) {
  return {
    keys: Object.keys(result).sort(),
    allowed: result.allowed,
    reason: result.reason,
    exceeded: result.exceeded,
    wait: result.retryAfterMs === undefined ? 'never' : result.retryAfterMs > 0 ? 'later' : 'now',
    dimensions: Object.fromEntries(Object.entries(result.dimensions).map(([d, s]) => [d, { limit: s.limit, remaining: s.remaining, windowMs: s.windowMs, keys: Object.keys(s).sort() }])),
    ticket: result.ticket === undefined ? undefined : { keys: Object.keys(result.ticket).sort(), cost: result.ticket.cost, dataKeys: Object.keys(result.ticket.data ?? {}).sort() },
  };
}

async function scenario(quota: QuotaManager, tenant: string, w: number) {
  const limits: TenantQuota = { requests: { limit: 5, windowMs: w }, tokens: { limit: 100, windowMs: w } };
  const tokensOnly: TenantQuota = { tokens: { limit: 10, windowMs: w } };
  const out: ReturnType<typeof view>[] = [];
  const step = async (cost: { requests?: number; tokens?: number }, l = limits) => {
    const result = await quota.consume(tenant, cost, l);
    out.push(view(result));
    return result;
  };
  const first = await step({ requests: 1, tokens: 30 });
  const second = await step({ requests: 1, tokens: 30 });
  await step({ requests: 1, tokens: 30 });
  await step({ requests: 1, tokens: 20 }); // tokens exceeded: nothing consumed
  await step({ tokens: 101 }); // alone above the limit
  await step({ requests: 1, tokens: 10 }); // fits exactly: the refused one took nothing
  await quota.settle(first.ticket!, { requests: 1, tokens: 0 }); // refund 30
  await step({ requests: 0, tokens: 0 });
  await step({ requests: 1, tokens: 30 });
  await step({ requests: 1 }); // requests exceeded
  await quota.settle(second.ticket!, { tokens: 45 }); // charge 15 beyond the limit
  await step({ tokens: 0 });
  await step({ tokens: 1 });
  await step({ requests: 1 }, tokensOnly); // requests unlimited here
  await step({ tokens: 11 }, tokensOnly);
  await step({ requests: 1 }, {}); // nothing limited: nothing counted
  await step({ requests: 1, tokens: 1 }, { requests: { limit: 0, windowMs: w } });
  await step({ tokens: 5 }, { requests: { limit: 0, windowMs: w } });
  return out;
}

describe('every backend answers as core\'s fixed window within one window', () => {
  const w = safeWindow(Date.now());
  let reference: Awaited<ReturnType<typeof scenario>>;
  beforeAll(async () => {
    reference = await scenario(createMemoryQuota(), 'acme', w);
  });

  it.each(backends)('%s', async (_name, make) => {
    const quota = make();
    const tenant = `acme-${Math.random().toString(36).slice(2, 8)}`;
    const results = await scenario(quota, tenant, w);
    expect(results).toEqual(reference);
    // Tenants are independent.
    expect((await quota.consume(`${tenant}-other`, { requests: 5 }, { requests: { limit: 5, windowMs: w } })).allowed).toBe(true);
  });
});

describe.each(backends.filter(([name]) => name.startsWith('redis')))('%s', (_name, make) => {
  it('admits exactly the limit under concurrent calls', async () => {
    const quota = make();
    const limits = { requests: { limit: 100, windowMs: safeWindow(Date.now()) }, tokens: { limit: 1_000, windowMs: safeWindow(Date.now()) } };
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => quota.consume('busy', { requests: 1, tokens: i % 3 === 0 ? 20 : 1 }, limits)));
    expect(results.filter((r) => r.reason === 'backend_unavailable')).toEqual([]);
    const admitted = results.filter((r) => r.allowed);
    const tokens = admitted.reduce((sum, r) => sum + (r.ticket?.cost.tokens ?? 0), 0);
    expect(admitted.length <= 100 && tokens <= 1_000).toBe(true);
    expect(admitted.length === 100 || tokens > 1_000 - 20).toBe(true);
    const after = await quota.consume('busy', { requests: 0, tokens: 0 }, limits);
    expect(after.dimensions.requests?.remaining).toBe(100 - admitted.length);
    expect(after.dimensions.tokens?.remaining).toBe(1_000 - tokens);
  });

  // One limited dimension takes the window counters' one-dimension script: as exact.
  it.each(['requests', 'tokens'] as const)('admits exactly the limit under concurrent calls, %s alone', async (d) => {
    const quota = make();
    const tenant = `busy-${d}-${Math.random().toString(36).slice(2, 8)}`;
    const limits = { [d]: { limit: 100, windowMs: safeWindow(Date.now()) } };
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => quota.consume(tenant, { [d]: i % 3 === 0 ? 2 : 1 }, limits)));
    expect(results.filter((r) => r.reason === 'backend_unavailable')).toEqual([]);
    const used = results.reduce((sum, r) => sum + (r.allowed ? (r.ticket?.cost[d] ?? 0) : 0), 0);
    expect(used).toBeLessThanOrEqual(100);
    expect(used).toBeGreaterThanOrEqual(99);
    const after = await quota.consume(tenant, { [d]: 0 }, limits);
    expect(after.dimensions[d]?.remaining).toBe(100 - used);
    // The same state read by the two-dimension script (the other dimension now limited too).
    const both = await quota.consume(tenant, { requests: 0, tokens: 0 }, { requests: { limit: 1_000, windowMs: limits[d]!.windowMs }, tokens: { limit: 1_000, windowMs: limits[d]!.windowMs }, ...limits });
    expect(both.dimensions[d]?.remaining).toBe(100 - used);
    const keys = await client.keys(`${prefix}{${tenant}}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0);
  });

  it('counts near 2^53 the same through the one- and two-dimension scripts', async () => {
    const quota = make();
    const tenant = `big-${Math.random().toString(36).slice(2, 8)}`;
    const w = safeWindow(Date.now());
    const L = Number.MAX_SAFE_INTEGER;
    const both = { requests: { limit: 10, windowMs: w }, tokens: { limit: L, windowMs: w } };
    const tokens = { tokens: both.tokens };
    expect((await quota.consume(tenant, { requests: 1, tokens: 4_000_000_000_000_000 }, both)).allowed).toBe(true);
    expect((await quota.consume(tenant, { tokens: 3 }, tokens)).dimensions.tokens?.remaining).toBe(L - 4_000_000_000_000_003);
    expect((await quota.consume(tenant, { tokens: 5_000_000_000_000_000 }, tokens)).allowed).toBe(true);
    expect((await quota.consume(tenant, { requests: 0, tokens: 0 }, both)).dimensions.tokens?.remaining).toBe(L - 9_000_000_000_000_003);
    expect((await quota.consume(tenant, { tokens: 1_000_000_000_000_000 }, tokens)).allowed).toBe(false);
  });

  it('puts every key of a tenant under one hash tag, even for ids with braces', async () => {
    const quota = make();
    const limits = { requests: { limit: 5, windowMs: 60_000 }, tokens: { limit: 5, windowMs: 60_000 } };
    await quota.consume('we{ird}', { requests: 1, tokens: 1 }, limits);
    await quota.consume('we', { requests: 1, tokens: 1 }, limits);
    const keys = (await client.keys(`${prefix}{we*`)).filter((k) => k.includes('ird'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`${prefix}{we%7Bird%7D}:`)).toBe(true);
    expect((await quota.consume('we{ird}', { requests: 0 }, limits)).dimensions.requests?.remaining).toBe(4);
  });

  it('sets an expiry on every key it writes, no longer than the state is needed', async () => {
    const quota = make();
    const tenant = `ttl-${Math.random().toString(36).slice(2, 8)}`;
    // Tokens on a short window, requests on a long one: the key must outlive both.
    await quota.consume(tenant, { requests: 1, tokens: 1 }, { requests: { limit: 5, windowMs: 600_000 }, tokens: { limit: 5, windowMs: 1_000 } });
    await quota.consume(tenant, { tokens: 1 }, { requests: { limit: 5, windowMs: 600_000 }, tokens: { limit: 5, windowMs: 1_000 } });
    const keys = await client.keys(`${prefix}{${tenant}}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * 600_000 + 1);
    }
    const longest = Math.max(...(await Promise.all(keys.map((k) => client.pttl(k)))));
    expect(longest).toBeGreaterThan(1_000);
  });

  it('settles a ticket once', async () => {
    const quota = make();
    const limits = { tokens: { limit: 100, windowMs: safeWindow(Date.now()) } };
    const { ticket } = await quota.consume('once', { tokens: 50 }, limits);
    await quota.settle(ticket!, { tokens: 10 });
    await quota.settle(ticket!, { tokens: 10 });
    await quota.settle(ticket!, { tokens: 90 });
    expect((await quota.consume('once', { tokens: 0 }, limits)).dimensions.tokens?.remaining).toBe(90);
    await expect(quota.settle(null as never, { tokens: 1 })).rejects.toThrow(TypeError);
  });

  it('rejects bad input without touching Redis', async () => {
    const quota = make();
    await expect(quota.consume('acme', { requests: -1 }, { requests: { limit: 1, windowMs: 1_000 } })).rejects.toThrow(RangeError);
    await expect(quota.consume('acme', { requests: 1 }, { requests: { limit: -1, windowMs: 1_000 } })).rejects.toThrow(RangeError);
    await expect(quota.consume('', { requests: 1 }, { requests: { limit: 1, windowMs: 1_000 } })).rejects.toThrow(TypeError);
  });
});

it('the log computes retryAfterMs for this request\'s cost (Redis clock)', async () => {
  const quota = createRedisSlidingQuota({ client, prefix, algorithm: 'log' });
  const w = 60_000;
  const limits = { tokens: { limit: 100, windowMs: w } };
  const tickets = [];
  for (let i = 0; i < 3; i++) tickets.push((await quota.consume('retry', { tokens: 30 }, limits)).ticket!);
  const sent = performance.now();
  const small = await quota.consume('retry', { tokens: 20 }, limits);
  const large = await quota.consume('retry', { tokens: 50 }, limits);
  // Redis time between the two checks is at most what passed here between sending one and hearing the other.
  const between = Math.ceil(performance.now() - sent);
  expect(small.retryAfterMs).toBeGreaterThan(0);
  expect(small.retryAfterMs!).toBeLessThanOrEqual(tickets[0]!.at + w + 1 - tickets[2]!.at);
  // 20 tokens wait for the first entry to leave the window, 50 for the second: as late or later, in Redis time.
  expect(large.retryAfterMs! + between).toBeGreaterThanOrEqual(small.retryAfterMs!);
  expect(large.retryAfterMs! - small.retryAfterMs!).toBeLessThanOrEqual(tickets[1]!.at - tickets[0]!.at + 1);
  expect(small.dimensions.tokens?.resetAt).toBeGreaterThanOrEqual(tickets[0]!.at + w);
});

it('works under an ioredis keyPrefix (keys prefixed, arguments untouched)', async () => {
  const prefixed = await ready(connect(undefined, { keyPrefix: `${prefix}kp:` }));
  try {
    const quota = createRedisSlidingQuota({ client: prefixed, prefix: 'q:' });
    const limits = { requests: { limit: 2, windowMs: 60_000 } };
    const results = await Promise.all([1, 2, 3].map(() => quota.consume('acme', { requests: 1 }, limits)));
    expect(results.map((r) => r.allowed).sort()).toEqual([false, true, true]);
    expect(await client.exists(`${prefix}kp:q:{acme}:sw`)).toBe(1);
  } finally {
    prefixed.disconnect();
  }
});

it('options are checked', () => {
  expect(() => createRedisSlidingQuota({} as never)).toThrow(TypeError);
  expect(() => createRedisSlidingQuota({ client, algorithm: 'gcra' as never })).toThrow(TypeError);
  expect(() => createRedisFixedWindowQuota({ client, onFailure: 'maybe' as never })).toThrow(TypeError);
  for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) expect(() => createRedisFixedWindowQuota({ client, timeoutMs })).toThrow(RangeError);
  expect(() => createRedisFixedWindowQuota({ client, onFailure: 'fallback', fallback: {} as never })).toThrow(TypeError);
});
