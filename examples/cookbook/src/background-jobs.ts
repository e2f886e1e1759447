import type { Redis } from 'ioredis';
import { captureTenant, requireTenant, runWithSnapshot, TenantError, type TenantSnapshot, type TenantStore } from '@tenant/core';
import type { TenantCache } from '@tenant/cache';

/** A job as it sits in the queue: plain JSON, the tenant as a snapshot (its id, nothing else). */
export interface ReportJob {
  readonly reportId: string;
  readonly tenant: TenantSnapshot;
}

/** A minimal queue on a Redis list; BullMQ, pg-boss or SQS play the same part. */
export function createQueue(redis: Redis, name: string) {
  return {
    add: async (job: ReportJob) => void (await redis.lpush(name, JSON.stringify(job))),
    // What comes off a queue is untrusted input: parsed here, validated by the worker.
    take: async (): Promise<unknown> => {
      const raw = await redis.rpop(name);
      return raw === null ? undefined : JSON.parse(raw);
    },
  };
}
export type Queue = ReturnType<typeof createQueue>;

/** In a request handler, inside the tenant's context: the job carries the tenant with it. */
export async function requestReport(queue: Queue, reportId: string): Promise<void> {
  await queue.add({ reportId, tenant: captureTenant() });
}

/** What a finished (or refused) job reports. */
export type JobOutcome = { readonly ok: true; readonly tenant: string } | { readonly ok: false; readonly code: string };

/**
 * The worker: restores each job's tenant from the store (so a tenant
 * suspended since the request is refused, not served from a stale copy) and
 * runs the job in its context, where tenant-scoped code works as in a request.
 */
export function createWorker(store: TenantStore, cache: TenantCache) {
  async function run(job: unknown): Promise<JobOutcome> {
    const { reportId, tenant } = (job ?? {}) as Partial<ReportJob>;
    if (typeof reportId !== 'string') return { ok: false, code: 'invalid_job' };
    try {
      return await runWithSnapshot(tenant, { store }, async () => {
        const report = { id: reportId, tenant: requireTenant().id, createdAt: new Date().toISOString() };
        await cache.set(`report:${reportId}`, report, { ttlMs: 3_600_000 }); // in this tenant's namespace
        return { ok: true, tenant: report.tenant } as const;
      });
    } catch (error) {
      // Refused jobs (tenant_suspended, tenant_not_found, tenant_invalid) are not retried.
      if (TenantError.is(error)) return { ok: false, code: error.code };
      throw error;
    }
  }

  return {
    run,
    /** Runs the jobs waiting in `queue`, one at a time. */
    async drain(queue: Queue): Promise<JobOutcome[]> {
      const outcomes: JobOutcome[] = [];
      for (let job = await queue.take(); job !== undefined; job = await queue.take()) outcomes.push(await run(job));
      return outcomes;
    },
  };
}
