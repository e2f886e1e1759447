/**
 * A sweep of expired entries spread over calls: {@link IncrementalSweep.step}
 * is called on every quota check and visits at most `batch` entries, so no
 * call pays for the whole map. A pass starts every `intervalMs` and visits at
 * most as many entries as the map held when it began (entries added meanwhile
 * may wait for the next pass), so it ends within `size / batch` calls.
 */
export interface IncrementalSweep {
  /** Sweeps one slice when a pass is due or under way; `now` is the caller's clock reading. */
  step(now: number): void;
}

/**
 * The incremental sweep of the in-memory quotas (core's fixed window and
 * `@tenant/quota-sliding`'s memory quotas): `expire(key, value, now)` clears
 * what has expired in an entry and returns `true` when the entry is empty, so
 * that it is deleted.
 *
 * @example
 * ```ts
 * import { createIncrementalSweep } from '@tenant/core';
 *
 * const counters = new Map<string, { until: number }>();
 * const sweep = createIncrementalSweep(counters, { intervalMs: 60_000, batch: 100, start: Date.now() }, (_id, c, now) => c.until <= now);
 * sweep.step(Date.now()); // in every consume
 * ```
 */
export function createIncrementalSweep<K, V>(
  map: Map<K, V>,
  options: { readonly intervalMs: number; readonly batch: number; readonly start: number },
  expire: (key: K, value: V, now: number) => boolean,
): IncrementalSweep {
  const { intervalMs, batch } = options;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError('[@tenant/core] sweepBatch must be a positive integer');
  let next = options.start + intervalMs;
  let cursor: Iterator<[K, V]> | undefined;
  let passLeft = 0;
  return {
    step(now) {
      if (cursor === undefined) {
        if (now < next) return;
        cursor = map.entries();
        passLeft = map.size;
      }
      for (let visited = 0; visited < batch; visited++) {
        const entry = passLeft-- > 0 ? cursor.next() : undefined;
        if (entry === undefined || entry.done === true) {
          cursor = undefined;
          next = now + intervalMs;
          return;
        }
        const [key, value] = entry.value;
        if (expire(key, value, now)) map.delete(key);
      }
    },
  };
}
