import type { QuotaLimit } from '@tenant/interfaces';
import type { DimensionCheck } from '../result.js';

/**
 * One dimension's sliding log: every consumption in the window with its
 * time and cost, oldest first, and their sum. Exact, at a memory cost of one
 * entry per admitted request still in the window.
 */
export interface SlidingLog {
  windowMs: number;
  at: number[];
  cost: number[];
  id: number[];
  /** Index of the oldest live entry (entries before it are dropped lazily). */
  head: number;
  sum: number;
  nextId: number;
}

export const emptyLog = (windowMs: number): SlidingLog => ({ windowMs, at: [], cost: [], id: [], head: 0, sum: 0, nextId: 1 });

/** Drops the entries that left the window `(now − windowMs, now]`. */
export function evictLog(log: SlidingLog, now: number): void {
  const edge = now - log.windowMs;
  let { head } = log;
  while (head < log.at.length && log.at[head]! <= edge) log.sum -= log.cost[head++]!;
  if (head > 32 && head * 2 > log.at.length) {
    log.at.splice(0, head);
    log.cost.splice(0, head);
    log.id.splice(0, head);
    head = 0;
  }
  log.head = head;
}

/** Checks `want` units against an evicted log. */
export function checkLog(log: SlidingLog, limit: QuotaLimit, want: number, now: number): DimensionCheck {
  const L = limit.limit;
  const used = log.sum;
  let wait = 0;
  if (want > L) wait = -1;
  else if (used + want > L) {
    // The oldest entries leave first: wait until enough of them have.
    let freed = 0;
    for (let i = log.head; i < log.at.length; i++) {
      freed += log.cost[i]!;
      if (used - freed + want <= L) {
        wait = Math.max(1, log.at[i]! + log.windowMs - now);
        break;
      }
    }
  }
  const oldest = log.head < log.at.length ? log.at[log.head]! : now;
  return {
    limit,
    want,
    wait,
    remainingBefore: Math.max(0, L - used),
    remainingAfter: Math.max(0, L - used - want),
    resetAt: oldest + log.windowMs,
    data: want > 0 ? log.nextId : 0,
  };
}

/** Records a consumption of `cost` at `now`; returns its entry id. */
export function appendLog(log: SlidingLog, cost: number, now: number): number {
  const id = log.nextId++;
  if (cost === 0) return id;
  log.at.push(now);
  log.cost.push(cost);
  log.id.push(id);
  log.sum += cost;
  return id;
}

/**
 * Applies a settle delta: a refund lowers the ticket's own entry while it is
 * in the window (and is dropped after); a charge is a new entry at `now`.
 */
export function settleLog(log: SlidingLog, entryId: number, delta: number, now: number): void {
  if (delta > 0) {
    appendLog(log, delta, now);
    return;
  }
  // Ids grow with time: binary search among the live entries.
  let lo = log.head;
  let hi = log.id.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const id = log.id[mid]!;
    if (id === entryId) {
      const refund = Math.min(-delta, log.cost[mid]!);
      log.cost[mid]! -= refund;
      log.sum -= refund;
      return;
    }
    if (id < entryId) lo = mid + 1;
    else hi = mid - 1;
  }
}
