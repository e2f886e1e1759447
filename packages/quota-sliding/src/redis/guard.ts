import { TenantError, type ErrorPhase } from '@tenant/core';
import type { BackendState } from '../types.js';

/** Options of {@link createGuard} (internal: not exported by the package). */
export interface GuardOptions {
  /** The node this guard watches (`host:port` on a Cluster, `''` for a single Redis). */
  readonly node: string;
  readonly timeoutMs: number;
  readonly retryIntervalMs: number;
  readonly report: (error: TenantError, phase: ErrorPhase, tenantId: string) => void;
  readonly onStateChange: ((state: BackendState, error: unknown) => void) | undefined;
}

/**
 * Bounds every Redis call by a timeout and keeps one node's state: after
 * a failure, calls skip Redis for `retryIntervalMs` (so a dead Redis costs
 * nothing per request), then one call probes it, and the first answer
 * brings the state back `up`. Every failure seen is reported once.
 */
export interface Guard {
  readonly state: BackendState;
  /** Whether to skip Redis now (down, and not this call's turn to probe). */
  skip(): boolean;
  /** Runs a Redis call under the timeout; never rejects: `{ ok: false }` (and a report) on failure. */
  run<T>(call: () => Promise<T>, phase: ErrorPhase, tenantId: string): Promise<{ ok: true; value: T } | { ok: false }>;
}

export function createGuard(options: GuardOptions): Guard {
  const { node, timeoutMs, retryIntervalMs, report, onStateChange } = options;
  let state: BackendState = 'up';
  let downUntil = 0;

  const change = (next: BackendState, error: unknown) => {
    if (state === next) return;
    state = next;
    if (onStateChange) {
      try {
        onStateChange(next, error);
      } catch {
        // An observer must not break a request.
      }
    }
  };

  // Every call waits at most timeoutMs. One timer per guard, not one per
  // call: calls start in deadline order (same timeoutMs), so a FIFO of the
  // calls in flight is sorted, and the timer is armed for its oldest one.
  interface Pending {
    readonly deadline: number;
    reject: ((error: Error) => void) | undefined;
  }
  const queue: Pending[] = [];
  let head = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drop = () => {
    while (head < queue.length && queue[head]!.reject === undefined) head++;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };
  const arm = () => {
    timer = undefined;
    const now = performance.now();
    drop();
    while (head < queue.length && queue[head]!.deadline <= now) {
      const entry = queue[head++]!;
      const reject = entry.reject;
      entry.reject = undefined;
      reject?.(new Error(`no answer from Redis within ${timeoutMs} ms`));
      drop();
    }
    if (head < queue.length) {
      timer = setTimeout(arm, Math.max(1, Math.ceil(queue[head]!.deadline - now)));
      timer.unref?.();
    }
  };

  const withTimeout = <T>(call: () => Promise<T>): Promise<T> => {
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + timeoutMs, reject };
      queue.push(entry);
      if (timer === undefined) {
        timer = setTimeout(arm, timeoutMs);
        timer.unref?.();
      }
      pending.then(
        (value) => {
          if (entry.reject === undefined) return; // timed out already
          entry.reject = undefined;
          resolve(value);
        },
        (error: unknown) => {
          if (entry.reject === undefined) return;
          entry.reject = undefined;
          reject(error as Error);
        },
      );
    });
  };

  return {
    get state() {
      return state;
    },
    skip() {
      if (state === 'up') return false;
      const now = Date.now();
      if (now < downUntil) return true;
      downUntil = now + retryIntervalMs; // this call probes; the others keep skipping
      return false;
    },
    async run(call, phase, tenantId) {
      try {
        const value = await withTimeout(call);
        change('up', undefined);
        return { ok: true, value };
      } catch (cause) {
        downUntil = Date.now() + retryIntervalMs;
        const where = node === '' ? 'Redis' : `Redis node ${node}`;
        const error = new TenantError('quota_unavailable', `[@tenant/quota-sliding] ${where} could not answer the quota ${phase === 'settle' ? 'settlement' : 'check'}: ${(cause as Error)?.message ?? String(cause)}`, {
          cause,
          tenantId,
          ...(node === '' ? {} : { details: { node } }),
        });
        change('down', error);
        report(error, phase, tenantId);
        return { ok: false };
      }
    },
  };
}
