/** A source of the current time, injectable for tests. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * `pending`, bounded in time: it settles as `pending` does, or rejects with
 * `onTimeout()` once `timeoutMs` has passed. A late answer or failure of
 * `pending` is dropped, never left unhandled. The time limit of the quota
 * managers, the cached store and the SQL store.
 *
 * @example
 * ```ts
 * import { withinTime } from '@tenant/core';
 *
 * const row = await withinTime(db.query('select 1'), 1_000, () => new Error('no answer within 1 s'));
 * ```
 */
export function withinTime<T>(pending: Promise<T>, timeoutMs: number, onTimeout: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
