import {
  type QuotaCost,
  type QuotaDimension,
  type QuotaDimensionState,
  type QuotaLimit,
  type QuotaManager,
  type QuotaResult,
  type TenantQuota,
} from '@tenant/interfaces';
import { systemClock, type Clock } from '../clock.js';
import { checkQuotaCost, checkQuotaLimits } from './cost.js';
import { promisedQuotaMethods } from './sync.js';
import { createIncrementalSweep } from './sweep.js';

/** Options of {@link createMemoryQuota}. */
export interface MemoryQuotaOptions {
  /** The clock; windows are aligned to epoch multiples of their length. @default systemClock */
  readonly clock?: Clock;
  /**
   * How often, at most, expired counters are swept (in milliseconds of the
   * clock). Sweeps run inside `consume`, never on a timer.
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

/** A fixed-window {@link QuotaManager} kept in this process's memory. */
export interface MemoryQuota extends QuotaManager {
  /** How many tenants have live counters (memory is proportional to this). */
  readonly size: number;
  /**
   * The same check as `consume`, answered synchronously: for callers in the
   * same process that want no promise on their hot path.
   */
  consumeSync(tenantId: string, cost: QuotaCost, limits: TenantQuota): QuotaResult;
  /** Forgets the counters of one tenant, or of all tenants. */
  reset(tenantId?: string): void;
}

interface Counter {
  windowMs: number;
  start: number;
  used: number;
}

interface TenantCounters {
  requests: Counter | undefined;
  tokens: Counter | undefined;
}

/** One dimension's check, before anything is committed. */
interface Check {
  readonly limit: QuotaLimit;
  readonly start: number;
  readonly used: number;
  readonly want: number;
}

const usedIn = (counter: Counter | undefined, start: number, windowMs: number): number =>
  counter !== undefined && counter.start === start && counter.windowMs === windowMs ? counter.used : 0;

function check(limit: QuotaLimit | undefined, counter: Counter | undefined, want: number | undefined, now: number): Check | undefined {
  if (limit === undefined) return undefined;
  const start = now - (now % limit.windowMs);
  return { limit, start, used: usedIn(counter, start, limit.windowMs), want: want ?? 0 };
}

function state(c: Check, committed: boolean): QuotaDimensionState {
  const used = committed ? c.used + c.want : c.used;
  return { limit: c.limit.limit, remaining: Math.max(0, c.limit.limit - used), windowMs: c.limit.windowMs, resetAt: c.start + c.limit.windowMs };
}

function commit(counters: TenantCounters, dimension: QuotaDimension, c: Check): void {
  const counter = counters[dimension];
  if (counter !== undefined && counter.start === c.start && counter.windowMs === c.limit.windowMs) counter.used += c.want;
  else counters[dimension] = { windowMs: c.limit.windowMs, start: c.start, used: c.want };
}

/**
 * Creates a fixed-window quota manager in memory: per tenant and dimension,
 * a counter for the current window (windows start at epoch multiples of their
 * length, so every process agrees on them).
 *
 * All dimensions are checked together and consumed all or nothing; a
 * rejected request consumes nothing; `retryAfterMs` is the time until the
 * window that blocks this request ends. `settle` charges or refunds the
 * difference once per ticket (never below zero). Memory is one small record per
 * tenant with a live window; expired records are swept lazily, with no
 * per-key timers, and incrementally: no call visits more than `sweepBatch`
 * tenants. In one process, concurrent calls admit exactly the limit.
 *
 * A fixed window admits up to twice the limit across a window boundary; use
 * `@tenant/quota-sliding` where that matters.
 *
 * @example
 * ```ts
 * import { createMemoryQuota } from '@tenant/core';
 *
 * const quota = createMemoryQuota();
 * const limits = { requests: { limit: 100, windowMs: 60_000 }, tokens: { limit: 50_000, windowMs: 60_000 } };
 * const result = await quota.consume('acme', { requests: 1, tokens: 800 }, limits);
 * if (result.allowed && result.ticket) {
 *   // ...once the real token count is known:
 *   await quota.settle(result.ticket, { tokens: 1_250 });
 * }
 * ```
 */
export function createMemoryQuota(options: MemoryQuotaOptions = {}): MemoryQuota {
  const clock = options.clock ?? systemClock;
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  const sweepBatch = options.sweepBatch ?? 100;
  const tenants = new Map<string, TenantCounters>();
  const live = (counter: Counter | undefined, now: number) => counter !== undefined && counter.start + counter.windowMs > now;
  const sweep = createIncrementalSweep(tenants, { intervalMs: sweepIntervalMs, batch: sweepBatch, start: clock.now() }, (_tenantId, counters, now) => {
    if (!live(counters.requests, now)) counters.requests = undefined;
    if (!live(counters.tokens, now)) counters.tokens = undefined;
    return counters.requests === undefined && counters.tokens === undefined;
  });

  const consumeSync = (tenantId: string, cost: QuotaCost, limits: TenantQuota): QuotaResult => {
    checkQuotaCost(cost);
    checkQuotaLimits(limits);
    const now = clock.now();
    sweep.step(now);
    const counters = tenants.get(tenantId);
    const requests = check(limits.requests, counters?.requests, cost.requests, now);
    const tokens = check(limits.tokens, counters?.tokens, cost.tokens, now);
    if (requests === undefined && tokens === undefined) return { allowed: true, retryAfterMs: 0, dimensions: {} };

    let exceeded: QuotaDimension[] | undefined;
    let tooLarge = false;
    let retryAfterMs = 0;
    // two plain checks rather than a loop over [name, check] pairs: no arrays made per call
    const over = (dimension: QuotaDimension, c: Check | undefined): void => {
      if (c === undefined || c.used + c.want <= c.limit.limit) return;
      (exceeded ??= []).push(dimension);
      if (c.want > c.limit.limit) tooLarge = true;
      else retryAfterMs = Math.max(retryAfterMs, c.start + c.limit.windowMs - now);
    };
    over('requests', requests);
    over('tokens', tokens);
    const committed = exceeded === undefined;
    const dimensions: { -readonly [D in QuotaDimension]?: QuotaDimensionState } = {};
    if (requests !== undefined) dimensions.requests = state(requests, committed);
    if (tokens !== undefined) dimensions.tokens = state(tokens, committed);
    if (exceeded !== undefined) {
      if (tooLarge) return { allowed: false, reason: 'cost_exceeds_limit', retryAfterMs: undefined, dimensions, exceeded };
      // Each refused dimension resets when the whole request fits again (the
      // latest of the refused windows' ends), so that its `RateLimit` `t` is
      // never earlier than `Retry-After`.
      for (const dimension of exceeded) {
        const s = dimensions[dimension] as QuotaDimensionState;
        if (s.resetAt < now + retryAfterMs) dimensions[dimension] = { ...s, resetAt: now + retryAfterMs };
      }
      return { allowed: false, reason: 'limit_exceeded', retryAfterMs, dimensions, exceeded };
    }
    let record = counters;
    if (record === undefined) tenants.set(tenantId, (record = { requests: undefined, tokens: undefined }));
    const data: Record<string, number> = {};
    if (requests !== undefined) {
      commit(record, 'requests', requests);
      data['requests'] = requests.start;
    }
    if (tokens !== undefined) {
      commit(record, 'tokens', tokens);
      data['tokens'] = tokens.start;
    }
    return { allowed: true, retryAfterMs: 0, dimensions, ticket: { tenantId, cost: { ...cost }, limits, at: now, data } };
  };

  // A ticket (the same object) is settled once; later calls do nothing.
  const settled = new WeakSet<object>();

  const settleSync = (ticket: QuotaResult['ticket'] & object, actual: QuotaCost) => {
    if (typeof ticket !== 'object' || ticket === null || typeof ticket.tenantId !== 'string' || typeof ticket.limits !== 'object') {
      throw new TypeError('[@tenant/core] settle needs the ticket of an admitted quota result');
    }
    checkQuotaCost(actual, 'actual cost');
    if (settled.has(ticket)) return;
    settled.add(ticket);
    const now = clock.now();
    for (const dimension of ['requests', 'tokens'] as const) {
      const limit = ticket.limits[dimension];
      const real = actual[dimension];
      if (limit === undefined || real === undefined) continue;
      const delta = real - (ticket.cost[dimension] ?? 0);
      if (delta === 0) continue;
      const ticketStart = Number(ticket.data?.[dimension] ?? ticket.at - (ticket.at % limit.windowMs));
      const currentStart = now - (now % limit.windowMs);
      // A refund only matters while its window lasts; a charge found late
      // still counts, against the window in force now.
      if (ticketStart !== currentStart && delta < 0) continue;
      let counters = tenants.get(ticket.tenantId);
      if (counters === undefined) tenants.set(ticket.tenantId, (counters = { requests: undefined, tokens: undefined }));
      const used = usedIn(counters[dimension], currentStart, limit.windowMs);
      counters[dimension] = { windowMs: limit.windowMs, start: currentStart, used: Math.max(0, used + delta) };
    }
  };

  return {
    get size() {
      return tenants.size;
    },
    reset(tenantId?: string) {
      // A sweep under way ends at its next step: a Map's iterator sees the clear.
      if (tenantId === undefined) tenants.clear();
      else tenants.delete(tenantId);
    },
    consumeSync,
    ...promisedQuotaMethods(consumeSync, settleSync),
  };
}
