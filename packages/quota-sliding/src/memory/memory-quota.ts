import { checkQuotaCost, createIncrementalSweep, promisedQuotaMethods, systemClock, type Clock, type QuotaCost, type QuotaLimit, type QuotaResult, type QuotaTicket, type TenantQuota } from '@tenant/core';
import { checkLimits, createSettledSet, isUnlimited, fits, toResult, ticketNumber, UNLIMITED, type Checks, type DimensionCheck } from '../result.js';
import type { MemorySlidingQuota, MemorySlidingQuotaOptions, SlidingAlgorithm } from '../types.js';
import { appendLog, checkLog, emptyLog, evictLog, settleLog, type SlidingLog } from './log.js';
import { checkWindow, rollWindow, settleWindow, type WindowCounters } from './window.js';

/** How one algorithm keeps one dimension's state. */
interface Engine<S> {
  /** Brings the state up to `now` (without consuming) and checks `want`. */
  check(state: S | undefined, limit: QuotaLimit, want: number, now: number): { state: S; check: DimensionCheck };
  commit(state: S, check: DimensionCheck, now: number): void;
  settle(state: S | undefined, limit: QuotaLimit, ticketData: number | undefined, delta: number, now: number): S | undefined;
  live(state: S, now: number): boolean;
}

const counterEngine: Engine<WindowCounters> = {
  check(state, limit, want, now) {
    const rolled = rollWindow(state, limit.windowMs, now);
    return { state: rolled, check: checkWindow(rolled, limit, want, now, true) };
  },
  commit(state, check) {
    state.cur += check.want;
  },
  settle(state, limit, ticketStart, delta, now) {
    const rolled = rollWindow(state, limit.windowMs, now);
    settleWindow(rolled, ticketStart ?? now - (now % limit.windowMs), delta, true);
    return rolled;
  },
  live: (state, now) => state.start + 2 * state.windowMs > now && (state.cur > 0 || state.prev > 0),
};

const logEngine: Engine<SlidingLog> = {
  check(state, limit, want, now) {
    const log = state !== undefined && state.windowMs === limit.windowMs ? state : emptyLog(limit.windowMs);
    evictLog(log, now);
    return { state: log, check: checkLog(log, limit, want, now) };
  },
  commit(state, check, now) {
    appendLog(state, check.want, now);
  },
  settle(state, limit, entryId, delta, now) {
    const log = state !== undefined && state.windowMs === limit.windowMs ? state : emptyLog(limit.windowMs);
    evictLog(log, now);
    settleLog(log, entryId ?? 0, delta, now);
    return log;
  },
  live(state, now) {
    evictLog(state, now);
    return state.head < state.at.length;
  },
};

interface TenantState<S> {
  requests: S | undefined;
  tokens: S | undefined;
}

/**
 * Creates a sliding-window quota manager kept in this process's memory,
 * with the semantics of core's fixed window: requests and tokens checked
 * together, all or nothing; a rejected request consumes nothing;
 * `retryAfterMs` computed for this request's cost; limits passed per call.
 *
 * - `algorithm: 'counter'` (default): the sliding-window counter, two
 *   counters per tenant and dimension; never admits a 2× burst at a window
 *   edge (see the README for its error bound).
 * - `algorithm: 'log'`: the exact sliding log, one entry per admitted
 *   request in the window.
 *
 * Memory is bounded by the tenants active in the last two windows: expired
 * state is swept lazily inside calls, never by timers, and incrementally:
 * no call visits more than `sweepBatch` tenants, however many there are. It also serves as
 * the insurance limiter of the Redis managers (`onFailure: 'fallback'`).
 *
 * @example
 * ```ts
 * import { createTenancy, createMemoryTenantStore } from '@tenant/core';
 * import { createMemorySlidingQuota } from '@tenant/quota-sliding';
 *
 * const tenancy = createTenancy({ store: createMemoryTenantStore(), quota: createMemorySlidingQuota() });
 * ```
 */
export function createMemorySlidingQuota(options: MemorySlidingQuotaOptions = {}): MemorySlidingQuota {
  const algorithm: SlidingAlgorithm = options.algorithm ?? 'counter';
  if (algorithm !== 'counter' && algorithm !== 'log') throw new TypeError(`[@tenant/quota-sliding] algorithm must be 'counter' or 'log', not ${String(algorithm)}`);
  return algorithm === 'counter' ? createWith(counterEngine, algorithm, options) : createWith(logEngine, algorithm, options);
}

function createWith<S>(engine: Engine<S>, algorithm: SlidingAlgorithm, options: MemorySlidingQuotaOptions): MemorySlidingQuota {
  const clock: Clock = options.clock ?? systemClock;
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  if (!(sweepIntervalMs > 0)) throw new RangeError('[@tenant/quota-sliding] sweepIntervalMs must be positive');
  const sweepBatch = options.sweepBatch ?? 100;
  if (!Number.isSafeInteger(sweepBatch) || sweepBatch < 1) throw new RangeError('[@tenant/quota-sliding] sweepBatch must be a positive integer');
  const tenants = new Map<string, TenantState<S>>();
  const sweep = createIncrementalSweep(tenants, { intervalMs: sweepIntervalMs, batch: sweepBatch, start: clock.now() }, (_tenantId, state, now) => {
    if (state.requests !== undefined && !engine.live(state.requests, now)) state.requests = undefined;
    if (state.tokens !== undefined && !engine.live(state.tokens, now)) state.tokens = undefined;
    return state.requests === undefined && state.tokens === undefined;
  });

  const consumeSync = (tenantId: string, cost: QuotaCost, limits: TenantQuota): QuotaResult => {
    checkQuotaCost(cost);
    checkLimits(limits);
    if (isUnlimited(limits)) return UNLIMITED;
    const now = clock.now();
    sweep.step(now);
    const current = tenants.get(tenantId);
    const r = limits.requests === undefined ? undefined : engine.check(current?.requests, limits.requests, cost.requests ?? 0, now);
    const t = limits.tokens === undefined ? undefined : engine.check(current?.tokens, limits.tokens, cost.tokens ?? 0, now);
    const checks: Checks = { requests: r?.check, tokens: t?.check };
    const ok = fits(checks);
    if (ok) {
      let record = current;
      if (record === undefined) tenants.set(tenantId, (record = { requests: undefined, tokens: undefined }));
      if (r !== undefined) {
        engine.commit(r.state, r.check, now);
        record.requests = r.state;
      }
      if (t !== undefined) {
        engine.commit(t.state, t.check, now);
        record.tokens = t.state;
      }
    }
    return toResult(tenantId, cost, limits, now, checks, ok);
  };

  const firstSettle = createSettledSet();
  const settleSync = (ticket: QuotaTicket, actual: QuotaCost): void => {
    if (typeof ticket !== 'object' || ticket === null || typeof ticket.tenantId !== 'string') throw new TypeError('[@tenant/quota-sliding] settle needs the ticket of an admitted result');
    checkQuotaCost(actual, 'actual cost');
    if (!firstSettle(ticket)) return;
    const now = clock.now();
    for (const dimension of ['requests', 'tokens'] as const) {
      const limit = ticket.limits[dimension];
      const real = actual[dimension];
      if (limit === undefined || real === undefined) continue;
      const delta = real - (ticket.cost[dimension] ?? 0);
      if (delta === 0) continue;
      let record = tenants.get(ticket.tenantId);
      if (record === undefined) {
        if (delta < 0) continue;
        tenants.set(ticket.tenantId, (record = { requests: undefined, tokens: undefined }));
      }
      record[dimension] = engine.settle(record[dimension], limit, ticketNumber(ticket, dimension), delta, now);
    }
  };

  return {
    algorithm,
    get size() {
      return tenants.size;
    },
    reset(tenantId?: string) {
      // A sweep under way ends at its next step: a Map's iterator sees the clear.
      if (tenantId === undefined) tenants.clear();
      else tenants.delete(tenantId);
    },
    consumeSync,
    settleSync,
    ...promisedQuotaMethods(consumeSync, settleSync),
  };
}
