// Where a Redis check's time goes: client CPU per check (this process) and
// Redis CPU per script call (INFO commandstats), for rate-limiter-flexible's
// single limiter and our one- and two-dimension scripts. It resets Redis's
// statistics, so point it at a PRIVATE redis-server, never a shared one:
//   redis-server --port 6391 --save '' &
//   PROFILE_REDIS_URL=redis://127.0.0.1:6391 node bench/redis-cost.mjs one
//   (add --cpu-prof before bench/ for a CPU profile of the client side)
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createRedisFixedWindowQuota, createRedisSlidingQuota } from '../dist/index.js';

const require = createRequire(import.meta.url);
const { RateLimiterRedis } = require('rate-limiter-flexible');
const url = process.env.PROFILE_REDIS_URL;
if (!url) throw new Error('set PROFILE_REDIS_URL to a private redis-server (this resets its statistics)');
const client = new Redis(url, { enableAutoPipelining: true });
const counter = createRedisSlidingQuota({ client, prefix: 'cost:c:', timeoutMs: 5_000 });
const fixed = createRedisFixedWindowQuota({ client, prefix: 'cost:f:', timeoutMs: 5_000 });
const rlf = new RateLimiterRedis({ storeClient: client, points: 1e9, duration: 60, keyPrefix: 'cost:rlf' });
const HUGE = { requests: { limit: 1e9, windowMs: 60_000 }, tokens: { limit: 1e12, windowMs: 60_000 } };
const R = { requests: HUGE.requests };
const cases = {
  rlf: (i) => rlf.consume(`t${i % 1000}`, 1),
  one: (i) => counter.consume(`t${i % 1000}`, { requests: 1 }, R),
  fixedone: (i) => fixed.consume(`t${i % 1000}`, { requests: 1 }, R),
  two: (i) => counter.consume(`t${i % 1000}`, { requests: 1, tokens: 100 }, HUGE),
};
const which = process.argv[2] ?? 'one';
const fn = cases[which];
if (!fn) throw new Error(`one of ${Object.keys(cases).join(', ')}`);
for (let i = 0; i < 2_000; i++) await fn(i);
await client.config('RESETSTAT');
const N = Number(process.env.N ?? 40_000);
let next = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(Array.from({ length: 64 }, async () => { while (next < N) await fn(next++); }));
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const stats = (await client.info('commandstats')).split('\n').filter((l) => l.startsWith('cmdstat_evalsha') || l.startsWith('cmdstat_eval:'));
console.log(`${which}: ${Math.round((N / elapsed) * 1000)} checks/s; client CPU ${((cpu.user + cpu.system) / N).toFixed(2)} µs/check; ${stats.join(' ').trim()}`);
client.disconnect();
