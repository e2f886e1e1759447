// Side-by-side benchmark of @tenant/quota-sliding and rate-limiter-flexible,
// in one run: in-memory checks/s, Redis checks/s with p50/p99 latency
// (ioredis auto-pipelining on), and memory per active tenant key.
// Run with `pnpm --filter @tenant/quota-sliding bench` (builds first under
// turbo; imports the built package). Talks only to REDIS_URL (127.0.0.1),
// under its own key prefix, deleted afterwards; bounded in time and count.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createMemoryQuota } from '@tenant/core';
import { createMemorySlidingQuota, createRedisFixedWindowQuota, createRedisSlidingQuota } from '../dist/index.js';

const require = createRequire(import.meta.url);
const { RateLimiterMemory, RateLimiterRedis } = require('rate-limiter-flexible');

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `bench:quota-sliding:${process.pid}:`;
const TENANTS = 10_000;
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
const HUGE = { requests: { limit: 1_000_000_000, windowMs: 60_000 }, tokens: { limit: 1_000_000_000_000, windowMs: 60_000 } };
const HUGE_1S = { requests: { limit: 1_000_000_000, windowMs: 1_000 }, tokens: { limit: 1_000_000_000_000, windowMs: 1_000 } };
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
function table(title, header, rows) {
  console.log(`\n### ${title}\n`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

// ---- in-memory checks per second ---------------------------------------
/** Runs `fn` for about `ms`; returns the calls made and the time taken. */
async function timed(fn, isAsync, ms) {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    // batches of 256 keep the clock out of the measured loop
    if (isAsync) for (let k = 0; k < 256; k++) await fn(n++);
    else for (let k = 0; k < 256; k++) fn(n++);
  }
  return { n, elapsed: performance.now() - start };
}

async function memoryRows() {
  const counter = createMemorySlidingQuota();
  const log = createMemorySlidingQuota({ algorithm: 'log' });
  const fixed = createMemoryQuota();
  const rlf = new RateLimiterMemory({ points: 1_000_000_000, duration: 60 });
  const rlfTokens = new RateLimiterMemory({ points: 1_000_000_000, duration: 60, keyPrefix: 'tokens' });
  const cost = { requests: 1, tokens: 100 };
  const ONE = { requests: 1 };
  const HUGE_R = { requests: HUGE.requests };
  const cases = [
    ['rate-limiter-flexible RateLimiterMemory, await consume(): requests only', 1, true, (i) => rlf.consume(ids[i % TENANTS], 1)],
    ['rate-limiter-flexible, two RateLimiterMemory (requests, tokens), not atomic', 2, true, async (i) => { await rlf.consume(ids[i % TENANTS], 1); await rlfTokens.consume(ids[i % TENANTS], 100); }],
    ['@tenant/quota-sliding counter, await consume(): requests + tokens', 2, true, (i) => counter.consume(ids[i % TENANTS], cost, HUGE)],
    ['@tenant/quota-sliding counter, consumeSync(): requests + tokens', 2, false, (i) => counter.consumeSync(ids[i % TENANTS], cost, HUGE)],
    ['@tenant/quota-sliding counter, await consume(): requests only', 1, true, (i) => counter.consume(ids[i % TENANTS], ONE, HUGE_R)],
    ['@tenant/quota-sliding counter, consumeSync(): requests only', 1, false, (i) => counter.consumeSync(ids[i % TENANTS], ONE, HUGE_R)],
    ['@tenant/quota-sliding log (exact, 1 s window), consumeSync(): requests + tokens', 2, false, (i) => log.consumeSync(ids[i % TENANTS], cost, HUGE_1S)],
    ['@tenant/core fixed window, consumeSync(): requests + tokens (reference)', 2, false, (i) => fixed.consumeSync(ids[i % TENANTS], cost, HUGE)],
  ];
  // Warm up every case, then interleave rounds so JIT and machine load hit all alike.
  for (const [, , isAsync, fn] of cases) await timed(fn, isAsync, 200);
  const totals = cases.map(() => ({ n: 0, elapsed: 0 }));
  for (let round = 0; round < 5; round++) {
    for (const [index, [, , isAsync, fn]] of cases.entries()) {
      const r = await timed(fn, isAsync, 400);
      totals[index].n += r.n;
      totals[index].elapsed += r.elapsed;
    }
  }
  const rate = totals.map((t) => (t.n / t.elapsed) * 1000);
  // Ratios: against rate-limiter-flexible with the same dimensions (row 0: one limiter, row 1: two), and against its single limiter.
  const rows = cases.map(([name, dims], index) => [name, dims, fmt(rate[index]), index < 2 ? '' : `${fmt(rate[index] / rate[dims === 1 ? 0 : 1], 2)}×`, index < 1 ? '' : `${fmt(rate[index] / rate[0], 2)}×`]);
  table(`In-memory checks per second (${fmt(TENANTS)} tenants)`, ['', 'dimensions', 'checks/s', 'vs RLF, same dimensions', 'vs RLF, one limiter'], rows);
}

// ---- Redis checks per second and latency ------------------------------
/** Runs `total` checks, `inFlight` at a time; returns the elapsed time and each latency (ms). */
async function redisRun(fn, total, inFlight = 64) {
  const latencies = new Float64Array(total);
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await fn(i);
      latencies[i] = performance.now() - t0;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { elapsed: performance.now() - start, latencies };
}

async function redisRows(client) {
  const prefix = (name) => `${PREFIX}${name}:`;
  const counter = createRedisSlidingQuota({ client, prefix: prefix('counter'), timeoutMs: 5_000 });
  const log = createRedisSlidingQuota({ client, prefix: prefix('log'), algorithm: 'log', timeoutMs: 5_000 });
  const fixed = createRedisFixedWindowQuota({ client, prefix: prefix('fixed'), timeoutMs: 5_000 });
  const rlf = new RateLimiterRedis({ storeClient: client, points: 1_000_000_000, duration: 60, keyPrefix: `${PREFIX}rlf` });
  const rlfTokens = new RateLimiterRedis({ storeClient: client, points: 1_000_000_000, duration: 60, keyPrefix: `${PREFIX}rlft` });
  const cost = { requests: 1, tokens: 100 };
  const T = 1_000;
  const ONE = { requests: 1 };
  const HUGE_R = { requests: HUGE.requests };
  const cases = [
    ['rate-limiter-flexible RateLimiterRedis: requests only', 1, (i) => rlf.consume(ids[i % T], 1)],
    ['rate-limiter-flexible, two RateLimiterRedis (requests, tokens), not atomic', 2, async (i) => { await rlf.consume(ids[i % T], 1); await rlfTokens.consume(ids[i % T], 100); }],
    ['@tenant/quota-sliding counter: requests only, one-dimension script', 1, (i) => counter.consume(ids[i % T], ONE, HUGE_R)],
    ['@tenant/quota-sliding fixed window: requests only, one-dimension script', 1, (i) => fixed.consume(ids[i % T], ONE, HUGE_R)],
    ['@tenant/quota-sliding counter: requests + tokens, one script', 2, (i) => counter.consume(ids[i % T], cost, HUGE)],
    ['@tenant/quota-sliding log (exact, 1 s window): requests + tokens, one script', 2, (i) => log.consume(ids[i % T], cost, HUGE_1S)],
    ['@tenant/quota-sliding fixed window: requests + tokens, one script', 2, (i) => fixed.consume(ids[i % T], cost, HUGE)],
  ];
  // Rounds interleave the cases, so a busy moment of the machine hits them all alike.
  const ROUNDS = 4;
  const PER_ROUND = 5_000;
  for (const [, , fn] of cases) for (let i = 0; i < 500; i++) await fn(i); // warm-up: scripts loaded
  const totals = cases.map(() => ({ elapsed: 0, latencies: [] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, [, , fn]] of cases.entries()) {
      const r = await redisRun(fn, PER_ROUND);
      totals[index].elapsed += r.elapsed;
      totals[index].latencies.push(...r.latencies);
    }
  }
  const rate = totals.map(({ elapsed, latencies }) => (latencies.length / elapsed) * 1000);
  const rows = cases.map(([name, dims], index) => {
    const { latencies } = totals[index];
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
    return [name, dims, fmt(rate[index]), index < 2 ? '' : `${fmt(rate[index] / rate[dims === 1 ? 0 : 1], 2)}×`, `${fmt(at(0.5) * 1000)} µs`, `${fmt(at(0.99) * 1000)} µs`];
  });
  table(`Redis checks per second (${fmt(T)} tenants, 64 in flight, auto-pipelining)`, ['', 'dimensions', 'checks/s', 'vs RLF, same dimensions', 'p50', 'p99'], rows);
}

// ---- memory per active tenant key --------------------------------------
async function heapPerKey(make, touch, n = 50_000) {
  gc();
  await new Promise((r) => setTimeout(r, 10));
  gc();
  const before = process.memoryUsage().heapUsed;
  const limiter = make();
  for (let i = 0; i < n; i++) await touch(limiter, `tenant-${i}`);
  gc();
  await new Promise((r) => setTimeout(r, 10));
  gc();
  const after = process.memoryUsage().heapUsed;
  globalThis.__keep = limiter;
  return (after - before) / n;
}

async function redisBytesPerTenant(client, pattern, tenants) {
  let cursor = '0';
  let bytes = 0;
  do {
    const [nextCursor, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = nextCursor;
    for (const key of keys) bytes += Number(await client.memory('USAGE', key, 'SAMPLES', 0));
  } while (cursor !== '0');
  return bytes / tenants;
}

async function memoryPerKeyRows(client) {
  const cost = { requests: 1, tokens: 100 };
  const heap = [
    ['rate-limiter-flexible RateLimiterMemory (requests only; one timer per key)', 1, await heapPerKey(() => new RateLimiterMemory({ points: 1_000_000, duration: 60 }), (l, id) => l.consume(id, 1))],
    ['@tenant/quota-sliding counter (requests + tokens)', 2, await heapPerKey(() => createMemorySlidingQuota(), (l, id) => void l.consumeSync(id, cost, HUGE))],
    ['@tenant/quota-sliding log, one request in the window (requests + tokens)', 2, await heapPerKey(() => createMemorySlidingQuota({ algorithm: 'log' }), (l, id) => void l.consumeSync(id, cost, HUGE))],
    ['@tenant/core fixed window (requests + tokens, reference)', 2, await heapPerKey(() => createMemoryQuota(), (l, id) => void l.consumeSync(id, cost, HUGE))],
  ];
  globalThis.__keep = undefined;
  const N = 2_000;
  const prefix = (name) => `${PREFIX}mem-${name}:`;
  const rlf = new RateLimiterRedis({ storeClient: client, points: 1_000_000, duration: 60, keyPrefix: `${PREFIX}mem-rlf` });
  const counter = createRedisSlidingQuota({ client, prefix: prefix('counter'), timeoutMs: 5_000 });
  const log = createRedisSlidingQuota({ client, prefix: prefix('log'), algorithm: 'log', timeoutMs: 5_000 });
  const fixed = createRedisFixedWindowQuota({ client, prefix: prefix('fixed'), timeoutMs: 5_000 });
  await Promise.all(Array.from({ length: N }, (_, i) => Promise.all([rlf.consume(`tenant-${i}`, 1), counter.consume(`tenant-${i}`, cost, HUGE), log.consume(`tenant-${i}`, cost, HUGE), fixed.consume(`tenant-${i}`, cost, HUGE)])));
  const redis = [
    ['rate-limiter-flexible RateLimiterRedis (requests only)', 1, await redisBytesPerTenant(client, `${PREFIX}mem-rlf*`, N)],
    ['@tenant/quota-sliding counter (requests + tokens)', 2, await redisBytesPerTenant(client, `${prefix('counter')}*`, N)],
    ['@tenant/quota-sliding log, one request in the window (requests + tokens)', 2, await redisBytesPerTenant(client, `${prefix('log')}*`, N)],
    ['@tenant/quota-sliding fixed window (requests + tokens)', 2, await redisBytesPerTenant(client, `${prefix('fixed')}*`, N)],
  ];
  table('Memory per active tenant (in process: V8 heap; 50,000 tenants)', ['', 'dimensions', 'bytes/tenant'], heap.map(([a, b, c]) => [a, b, fmt(c)]));
  table(`Memory per active tenant (Redis: MEMORY USAGE of its keys; ${fmt(N)} tenants)`, ['', 'dimensions', 'bytes/tenant'], redis.map(([a, b, c]) => [a, b, fmt(c)]));
}

async function cleanup(client) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

const client = new Redis(REDIS_URL, { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
await client.connect();
const info = await client.info('server');
console.log(`Node ${process.version}, ${cpus().length} CPUs, Redis ${/redis_version:(\S+)/.exec(info)?.[1]} at ${REDIS_URL}`);
try {
  await memoryRows();
  await redisRows(client);
  await memoryPerKeyRows(client);
} finally {
  await cleanup(client);
  client.disconnect();
}
process.exit(0); // rate-limiter-flexible's per-key timers are unref'd, but be sure
