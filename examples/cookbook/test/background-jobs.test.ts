import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTenantStore, runWithTenant } from '@tenant/core';
import { createRedisBackend, createTenantCache } from '@tenant/cache';
import { createQueue, createWorker, requestReport } from '../src/background-jobs.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('recipe: background jobs with tenant context (Redis)', () => {
  const prefix = `cookbook:jobs:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }, { id: 'globex' }] });
  const cache = createTenantCache({ backend: createRedisBackend(redis), prefix: `${prefix}c:`, defaultTtlMs: 60_000 });
  const queue = createQueue(redis, `${prefix}queue`);
  const worker = createWorker(store, cache);
  const tenant = async (id: string) => (await store.get(id))!;

  beforeAll(() => redis.connect()); // fails the suite when Redis is not there
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('runs a job in the tenant of the request that queued it, and keeps its output in that tenant', async () => {
    await runWithTenant(await tenant('acme'), () => requestReport(queue, 'r1'));
    expect(JSON.parse((await redis.lindex(`${prefix}queue`, 0))!)).toEqual({ reportId: 'r1', tenant: { v: 1, tenantId: 'acme' } });
    expect(await worker.drain(queue)).toEqual([{ ok: true, tenant: 'acme' }]);
    expect(await runWithTenant(await tenant('acme'), () => cache.get('report:r1'))).toMatchObject({ id: 'r1', tenant: 'acme' });
    expect(await runWithTenant(await tenant('globex'), () => cache.get('report:r1'))).toBeUndefined();
  });

  it('refuses to queue a job outside a tenant context', async () => {
    await expect(requestReport(queue, 'r2')).rejects.toMatchObject({ code: 'tenant_context_missing' });
  });

  it('refuses a job whose tenant was suspended or deleted after it was queued', async () => {
    await runWithTenant(await tenant('globex'), () => requestReport(queue, 'r3'));
    await store.update('globex', { status: 'suspended' });
    expect(await worker.drain(queue)).toEqual([{ ok: false, code: 'tenant_suspended' }]);
    expect(await cache.forTenant('globex').get('report:r3')).toBeUndefined();
  });

  it('refuses forged and malformed jobs', async () => {
    const forged = [
      { reportId: 'x', tenant: { v: 1, tenantId: '../acme' } },
      { reportId: 'x', tenant: { v: 1, tenantId: 'nobody' } },
      { reportId: 'x', tenant: { tenantId: 'acme' } },
      { tenant: { v: 1, tenantId: 'acme' } },
    ];
    expect(await Promise.all(forged.map(worker.run))).toEqual([
      { ok: false, code: 'tenant_invalid' },
      { ok: false, code: 'tenant_not_found' },
      { ok: false, code: 'tenant_invalid' },
      { ok: false, code: 'invalid_job' },
    ]);
  });
});
