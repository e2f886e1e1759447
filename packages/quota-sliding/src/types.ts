import type { Clock, QuotaCost, QuotaManager, QuotaResult, QuotaTicket, TenantHooks, TenantQuota } from '@tenant/core';

/**
 * The sliding-window algorithm:
 * - `counter`: the sliding-window counter, two counters per window (the
 *   current one and the previous one, weighted by its overlap); constant
 *   memory per tenant and dimension, approximate (see the README's bound).
 * - `log`: the exact sliding log, one entry per admitted request still in
 *   the window; exact, memory and work grow with the limit.
 */
export type SlidingAlgorithm = 'counter' | 'log';

/** Options of {@link createMemorySlidingQuota}. */
export interface MemorySlidingQuotaOptions {
  /** The algorithm. @default 'counter' */
  readonly algorithm?: SlidingAlgorithm;
  /** The clock; windows are aligned to epoch multiples of their length. @default systemClock */
  readonly clock?: Clock;
  /**
   * How often, at most, expired state is swept (in milliseconds of the
   * clock). Sweeps run inside calls, never on a timer.
   * @default 60_000
   */
  readonly sweepIntervalMs?: number;
  /**
   * The most tenants one call visits while sweeping. A sweep is spread over
   * calls, this many tenants each, so no single request pays for a pass over
   * every tenant; a pass ends after about `tenants / sweepBatch` calls.
   * @default 100
   */
  readonly sweepBatch?: number;
}

/** A sliding-window {@link QuotaManager} kept in this process's memory. */
export interface MemorySlidingQuota extends QuotaManager {
  /** The algorithm in use. */
  readonly algorithm: SlidingAlgorithm;
  /** How many tenants have live state (memory is proportional to this). */
  readonly size: number;
  /** The same check as `consume`, answered synchronously. */
  consumeSync(tenantId: string, cost: QuotaCost, limits: TenantQuota): QuotaResult;
  /** The same as `settle`, synchronously (a ticket is settled once; later calls do nothing). */
  settleSync(ticket: QuotaTicket, actual: QuotaCost): void;
  /** Forgets the state of one tenant, or of all tenants. */
  reset(tenantId?: string): void;
}

/**
 * The few methods of an ioredis client (a `Redis` or a `Cluster`) that the
 * Redis managers use: scripts are registered with `defineCommand`, which
 * sends EVALSHA and falls back to EVAL on NOSCRIPT (after a restart or a
 * `SCRIPT FLUSH`), and are then called as methods of the client.
 */
export interface RedisQuotaClient {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
}

/**
 * What a Redis manager does when Redis fails (an error, or no answer within
 * `timeoutMs`):
 * - `closed`: refuse, with `reason: 'backend_unavailable'` (never a quota denial);
 * - `open`: admit uncounted, with `degraded: 'fail_open'`;
 * - `fallback`: count in a local insurance limiter, with `degraded: 'fallback'`.
 */
export type FailurePolicy = 'closed' | 'open' | 'fallback';

/** The state of a Redis manager's backend. */
export type BackendState = 'up' | 'down';

/** Options shared by the Redis managers. */
export interface RedisQuotaOptions {
  /** The ioredis client (`Redis` or `Cluster`); created and closed by you. */
  readonly client: RedisQuotaClient;
  /**
   * Prefix of every key. Each tenant's keys are `<prefix>{<tenant id>}:…`,
   * one hash tag per tenant, so one script only touches one Cluster slot.
   * @default 'tq:'
   */
  readonly prefix?: string;
  /** What to do when Redis fails. @default 'closed' */
  readonly onFailure?: FailurePolicy;
  /**
   * The insurance limiter for `onFailure: 'fallback'`: any in-process
   * manager with `consumeSync`.
   * @default createMemorySlidingQuota() (sliding-window counter)
   */
  readonly fallback?: QuotaManager & Required<Pick<QuotaManager, 'consumeSync'>>;
  /**
   * How long a check may wait for Redis before the failure policy applies,
   * in milliseconds. A command that answers later may still have counted.
   * @default 250
   */
  readonly timeoutMs?: number;
  /**
   * After a failure, how long calls apply the failure policy at once
   * without asking Redis, in milliseconds; the next call then probes Redis,
   * and the manager recovers by itself when it answers.
   * @default 1_000
   */
  readonly retryIntervalMs?: number;
  /**
   * Observers: every backend failure is reported to `onError` with
   * `phase: 'quota'` (a `TenantError` with code `quota_unavailable` and the
   * Redis error as `cause`). Pass the same hooks as to `createTenancy`.
   */
  readonly hooks?: TenantHooks | readonly TenantHooks[];
  /**
   * Called when a Redis node goes down or comes back: `node` is its
   * `host:port` on a Cluster (the slot's master as the client maps it), `''`
   * for a single Redis.
   */
  readonly onStateChange?: (state: BackendState, error: unknown, node: string) => void;
}

/** Options of {@link createRedisSlidingQuota}. */
export interface RedisSlidingQuotaOptions extends RedisQuotaOptions {
  /** The algorithm. @default 'counter' */
  readonly algorithm?: SlidingAlgorithm;
}

/** A {@link QuotaManager} on Redis with a failure policy. */
export interface RedisQuota extends QuotaManager {
  /** `fixed`, or the sliding algorithm in use. */
  readonly algorithm: SlidingAlgorithm | 'fixed';
  /**
   * `down` while at least one Redis node is down (it did not answer the last
   * time it was asked), `up` otherwise. Only the tenants of a down node get
   * the failure policy: see {@link RedisQuota.nodes}.
   */
  readonly state: BackendState;
  /**
   * The state of each Redis node asked so far, by node: `host:port` on a
   * Cluster, `''` for a single Redis. A snapshot.
   */
  readonly nodes: ReadonlyMap<string, BackendState>;
  /** The key prefix in use. */
  readonly prefix: string;
}
