import { SpaceSaving } from './space-saving.js';
import type { TenantLabelOption, TopTenantsOption } from './types.js';

/** Chooses the `tenant` label value of each observation, keeping the set of values bounded. */
export interface TenantLabeler {
  /** Whether metrics carry a `tenant` label at all. */
  readonly enabled: boolean;
  /**
   * The label value for `id`: the id itself, `overflow` or `none`. With
   * `count`, the observation also counts toward the top-N ranking.
   */
  label(id: string | undefined, count: boolean): string;
  /** Forgets `id` (a deleted tenant): it loses its own label until seen again. */
  forget(id: string): void;
  /** How many tenants currently have their own label value. */
  readonly labelled: number;
}

/** Where a tenant that loses its own label is reported, so its series can be removed. */
export type DemoteListener = (id: string) => void;

export interface LabelerOptions {
  readonly mode: TenantLabelOption;
  readonly overflow: string;
  readonly none: string;
  readonly onDemote: DemoteListener;
}

export function createLabeler(options: LabelerOptions): TenantLabeler {
  const { mode, overflow, none } = options;
  if (mode === false) return { enabled: false, label: () => '', forget: () => undefined, labelled: 0 };
  if ('allow' in mode) {
    const allowed = new Set(mode.allow);
    for (const id of allowed) {
      if (typeof id !== 'string' || id === '' || id === overflow || id === none) throw new RangeError(`[@tenant/metrics] tenantLabel.allow holds an invalid id: ${JSON.stringify(id)}`);
    }
    return {
      enabled: true,
      label: (id) => (id === undefined ? none : allowed.has(id) ? id : overflow),
      forget: () => undefined,
      get labelled() {
        return allowed.size;
      },
    };
  }
  return createTopNLabeler(mode, options);
}

/**
 * Top-N: a Space-Saving summary ranks tenants by observations; at most `top`
 * of them hold their own label. A tenant outside takes the place of the
 * weakest holder only when its guaranteed count beats the holder's estimated
 * count, so a stream of one-off tenants never churns the labels, and the
 * holder that loses its place is reported to `onDemote`.
 */
function createTopNLabeler(mode: TopTenantsOption, options: LabelerOptions): TenantLabeler {
  const { top, halfLife } = mode;
  if (!Number.isSafeInteger(top) || top < 1) throw new RangeError('[@tenant/metrics] tenantLabel.top must be a positive integer');
  const tracked = mode.tracked ?? Math.max(top * 10, 1_000);
  if (!Number.isSafeInteger(tracked) || tracked < top) throw new RangeError('[@tenant/metrics] tenantLabel.tracked must be an integer >= top');
  if (halfLife !== undefined && (!Number.isSafeInteger(halfLife) || halfLife < 1)) throw new RangeError('[@tenant/metrics] tenantLabel.halfLife must be a positive integer');
  let untilHalving = halfLife ?? Infinity;
  const { overflow, none, onDemote } = options;
  const summary = new SpaceSaving(tracked);
  const holders = new Set<string>();
  // The holder with the lowest count, recomputed only when it may have changed:
  // holders' counts only grow, except when one is pushed out of the summary.
  let weakest: string | undefined;
  summary.onEvict = (id) => {
    if (holders.has(id)) weakest = id;
  };
  const findWeakest = (): string => {
    if (weakest !== undefined) return weakest;
    let min = Infinity;
    let found = '';
    for (const id of holders) {
      const count = summary.count(id);
      if (count < min) {
        min = count;
        found = id;
      }
    }
    weakest = found;
    return found;
  };
  return {
    enabled: true,
    label(id, count) {
      if (id === undefined) return none;
      if (count) {
        summary.add(id);
        if (--untilHalving <= 0) {
          summary.halve();
          untilHalving = halfLife ?? Infinity;
        }
      }
      if (holders.has(id)) {
        if (id === weakest) weakest = undefined;
        return id;
      }
      if (holders.size < top) {
        holders.add(id);
        weakest = undefined;
        return id;
      }
      const loser = findWeakest();
      if (summary.guaranteed(id) <= summary.count(loser)) return overflow;
      holders.delete(loser);
      holders.add(id);
      weakest = undefined;
      onDemote(loser);
      return id;
    },
    forget(id) {
      summary.delete(id);
      holders.delete(id);
      if (weakest === id) weakest = undefined;
    },
    get labelled() {
      return holders.size;
    },
  };
}
