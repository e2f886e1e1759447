// In-memory quota checks per second beside a trivial baseline, in one run.
import { bench, describe } from 'vitest';
import { createMemoryQuota } from '@tenant/core';

const TENANTS = 10_000;
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
const both = { requests: { limit: 1_000_000_000, windowMs: 60_000 }, tokens: { limit: 1_000_000_000_000, windowMs: 60_000 } };
const quota = createMemoryQuota();
const counters = new Map<string, number>();
let i = 0;

describe('in-memory quota check', () => {
  bench(
    'baseline: Map counter increment',
    () => {
      const id = ids[i++ % TENANTS]!;
      counters.set(id, (counters.get(id) ?? 0) + 1);
    },
    { time: 1500 },
  );

  bench(
    '@tenant/core fixed window, consumeSync(): requests + tokens, all or nothing',
    () => {
      quota.consumeSync(ids[i++ % TENANTS]!, { requests: 1, tokens: 100 }, both);
    },
    { time: 1500 },
  );

  bench(
    '@tenant/core fixed window, await consume(): requests + tokens, all or nothing',
    async () => {
      await quota.consume(ids[i++ % TENANTS]!, { requests: 1, tokens: 100 }, both);
    },
    { time: 1500 },
  );
});
