import { createMemoryTenantStore, TenantError, type MemoryTenantStoreOptions, type TenantStore } from '@tenant/core';

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/**
 * The real in-memory store, with a switch that makes reads fail as a database
 * that is down would, and counters of the reads that reached it.
 */
export function observedStore(options: MemoryTenantStoreOptions = {}) {
  const inner = createMemoryTenantStore(options);
  const state = { down: false, gets: 0, domainGets: 0, lists: 0 };
  const refuse = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
  const store: TenantStore = {
    ...inner,
    get(id) {
      state.gets += 1;
      return state.down ? refuse() : inner.get(id);
    },
    getByDomain(domain) {
      state.domainGets += 1;
      return state.down ? refuse() : inner.getByDomain(domain);
    },
    list(query) {
      state.lists += 1;
      return state.down ? refuse() : inner.list(query);
    },
  };
  return { store, inner, state };
}

export const isStoreUnavailable = (error: unknown) => TenantError.is(error, 'store_unavailable') && error.status === 503;

/** A unique prefix per test run, for keys on the shared Redis. */
export const runPrefix = (name: string) => `test:${name}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
