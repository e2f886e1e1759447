import type { QuotaLimit } from '@tenant/interfaces';
import type { DimensionCheck } from '../result.js';

/**
 * One dimension's counters: the current aligned window and the one before.
 * A fixed window reads only `cur`; the sliding-window counter also weighs
 * `prev` by how much of the previous window still overlaps the sliding one.
 * The same arithmetic runs in the Redis script (see `../redis/scripts.ts`).
 */
export interface WindowCounters {
  windowMs: number;
  start: number;
  cur: number;
  prev: number;
}

/** The counters as seen at `now` (rolled forward, or empty if stale). */
export function rollWindow(counters: WindowCounters | undefined, windowMs: number, now: number): WindowCounters {
  const start = now - (now % windowMs);
  if (counters === undefined || counters.windowMs !== windowMs) return { windowMs, start, cur: 0, prev: 0 };
  if (counters.start === start) return counters;
  if (counters.start === start - windowMs) return { windowMs, start, cur: 0, prev: counters.cur };
  return { windowMs, start, cur: 0, prev: 0 };
}

/**
 * Checks `want` units against a window (`sliding`: the counter estimate
 * `prev × (windowMs − elapsed) / windowMs + cur`; otherwise the fixed window `cur`).
 */
export function checkWindow(c: WindowCounters, limit: QuotaLimit, want: number, now: number, sliding: boolean): DimensionCheck {
  const w = c.windowMs;
  const L = limit.limit;
  const elapsed = now - c.start;
  const prev = sliding ? c.prev : 0;
  const used = (prev * (w - elapsed)) / w + c.cur;
  let wait = 0;
  if (want > L) wait = -1;
  else if (used + want > L) {
    if (c.cur + want > L) {
      // Not before the next window, and then until cur's weight has decayed enough.
      const y = sliding ? Math.ceil((w * (c.cur + want - L)) / c.cur) : 0;
      wait = c.start + w - now + y;
    } else {
      wait = Math.max(1, Math.ceil((w * (prev - (L - want - c.cur))) / prev) - elapsed);
    }
  }
  return {
    limit,
    want,
    wait,
    remainingBefore: Math.max(0, Math.floor(L - used)),
    remainingAfter: Math.max(0, Math.floor(L - used - want)),
    resetAt: c.start + w,
    data: c.start,
  };
}

/**
 * Applies a settle delta to the counters: to the window the ticket was
 * consumed in while it still counts (current, or previous when `sliding`);
 * a charge found late goes to the current window; a late refund is dropped.
 */
export function settleWindow(c: WindowCounters, ticketStart: number, delta: number, sliding: boolean): void {
  if (ticketStart === c.start) c.cur = Math.max(0, c.cur + delta);
  else if (sliding && ticketStart === c.start - c.windowMs && delta < 0) c.prev = Math.max(0, c.prev + delta);
  else if (delta > 0) c.cur += delta;
}
