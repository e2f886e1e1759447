// Window edges on real Redis, timed by Redis TIME: hammer a short window
// across several edges and check every admitted pair by the times Redis
// recorded (ticket.at), so the assertion never depends on the test's speed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisSlidingQuota, type SlidingAlgorithm } from '../src/index.js';
import { connect, deletePrefix, ready, uniquePrefix } from './helpers/shared.js';

let client: Redis;
const prefix = uniquePrefix('boundary');
beforeAll(async () => {
  client = await ready(connect(undefined, { enableAutoPipelining: true }));
});
afterAll(async () => {
  await deletePrefix(client, prefix);
  client.disconnect();
});

const W = 300;
const L = 12;

async function hammer(algorithm: SlidingAlgorithm, oneDimension = false) {
  const quota = createRedisSlidingQuota({ client, prefix, algorithm, timeoutMs: 2_000 });
  // One limited dimension runs the counter's one-dimension script; two, the full one.
  const limits = oneDimension ? { requests: { limit: L, windowMs: W } } : { requests: { limit: L, windowMs: W }, tokens: { limit: 3 * L, windowMs: W } };
  const admitted: { at: number; requests: number; tokens: number }[] = [];
  const until = Date.now() + 4 * W;
  let n = 0;
  const lane = async () => {
    while (Date.now() < until) {
      const tokens = 1 + (n++ % 5);
      const result = await quota.consume(`edge-${algorithm}-${oneDimension ? 1 : 2}`, { requests: 1, tokens }, limits);
      expect(result.reason).not.toBe('backend_unavailable');
      if (result.ticket) admitted.push({ at: result.ticket.at, requests: 1, tokens });
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  admitted.sort((a, b) => a.at - b.at);
  return admitted;
}

/** The usage of every run of admissions closer together than a window: [requests, tokens, span]. */
function runs(admitted: readonly { at: number; requests: number; tokens: number }[]) {
  const found: [number, number, number][] = [];
  for (let i = 0; i < admitted.length; i++) {
    let requests = 0;
    let tokens = 0;
    for (let j = i; j < admitted.length && admitted[j]!.at - admitted[i]!.at < W; j++) {
      requests += admitted[j]!.requests;
      tokens += admitted[j]!.tokens;
      found.push([requests, tokens, admitted[j]!.at - admitted[i]!.at]);
    }
  }
  return found;
}

it('exact mode (log): no window ever holds more than the limit, across edges', async () => {
  const admitted = await hammer('log');
  expect(admitted.length).toBeGreaterThan(2 * L); // several windows were filled
  for (const [requests, tokens] of runs(admitted)) {
    expect(requests).toBeLessThanOrEqual(L);
    expect(tokens).toBeLessThanOrEqual(3 * L);
  }
});

it('counter: stays within the documented bound L × (1 + d/w) across edges', async () => {
  const admitted = await hammer('counter');
  expect(admitted.length).toBeGreaterThan(2 * L);
  for (const [requests, tokens, d] of runs(admitted)) {
    expect(requests).toBeLessThanOrEqual(Math.floor(L * (1 + (d + 1) / W)));
    expect(tokens).toBeLessThanOrEqual(Math.floor(3 * L * (1 + (d + 1) / W)));
  }
});

it('counter, one dimension (its own script): stays within the same bound across edges', async () => {
  const admitted = await hammer('counter', true);
  expect(admitted.length).toBeGreaterThan(2 * L);
  for (const [requests, , d] of runs(admitted)) expect(requests).toBeLessThanOrEqual(Math.floor(L * (1 + (d + 1) / W)));
});
