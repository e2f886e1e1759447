/**
 * Exact, distributed sliding-window and fixed-window per-tenant quotas, in
 * memory and on Redis (ioredis, Cluster-safe), with a failure policy.
 *
 * @packageDocumentation
 */
export { createMemorySlidingQuota } from './memory/memory-quota.js';
export { createRedisSlidingQuota, createRedisFixedWindowQuota } from './redis/redis-quota.js';
export type {
  SlidingAlgorithm,
  MemorySlidingQuotaOptions,
  MemorySlidingQuota,
  RedisQuotaClient,
  FailurePolicy,
  BackendState,
  RedisQuotaOptions,
  RedisSlidingQuotaOptions,
  RedisQuota,
} from './types.js';
