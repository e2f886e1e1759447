import { createTenantConfig, type TenantConfig, type TenantInput } from '../../src/index.js';

/** A valid, frozen tenant config built through the same validation as the stores. */
export function tenant(id: string, fields: Omit<TenantInput, 'id'> = {}): TenantConfig {
  return createTenantConfig({ id, ...fields }, { now: new Date(0) });
}

/** A small deterministic PRNG (mulberry32), so that "random" schedules are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
