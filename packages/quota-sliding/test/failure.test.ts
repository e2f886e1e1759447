// The failure policy against a redis-server of our own: stopped, paused
// (slower than the timeout), restarted mid-run, scripts flushed; and how the
// pipeline sees each case through its hooks.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryTenantStore, createTenancy, TenantError, type ErrorEvent, type QuotaEvent, type TenantRequest } from '@tenant/core';
import { createMemorySlidingQuota, createRedisSlidingQuota, type BackendState, type FailurePolicy } from '../src/index.js';
import { startRedis, type OwnRedis } from './helpers/redis-server.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let server: OwnRedis;
const clients: Redis[] = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  server = await startRedis();
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  for (const client of clients) client.disconnect();
  await server.destroy();
});
afterEach(async () => {
  server.resume();
  if (!server.running) await server.start();
});

async function client(extra: Record<string, unknown> = {}): Promise<Redis> {
  const c = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50, lazyConnect: true, ...extra });
  c.on('error', () => undefined); // connection errors reach us through the manager
  clients.push(c);
  await c.connect();
  return c;
}

const untilReady = async (c: Redis) => {
  for (let i = 0; i < 200 && c.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
  expect(c.status).toBe('ready');
};

function observed(onFailure: FailurePolicy, c: Redis, extra: { timeoutMs?: number; retryIntervalMs?: number } = {}) {
  const errors: ErrorEvent[] = [];
  const states: BackendState[] = [];
  const fallback = createMemorySlidingQuota();
  const quota = createRedisSlidingQuota({
    client: c,
    prefix: `t${Math.random().toString(36).slice(2, 8)}:`,
    onFailure,
    fallback,
    timeoutMs: extra.timeoutMs ?? 200,
    retryIntervalMs: extra.retryIntervalMs ?? 100,
    hooks: { onError: (event) => void errors.push(event) },
    onStateChange: (state) => void states.push(state),
  });
  return { quota, errors, states, fallback };
}

const limits = { requests: { limit: 3, windowMs: 60_000 } };

describe('Redis stopped', () => {
  it('closed (default): refuses with backend_unavailable, never a quota denial, and reports it', async () => {
    const c = await client();
    const { quota, errors, states } = observed('closed', c);
    expect((await quota.consume('acme', { requests: 1 }, limits)).allowed).toBe(true);
    await server.stop();
    const result = await quota.consume('acme', { requests: 1 }, limits);
    expect(result).toEqual({ allowed: false, reason: 'backend_unavailable', retryAfterMs: undefined, dimensions: {} });
    expect(quota.state).toBe('down');
    expect(states).toEqual(['down']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ phase: 'quota', tenantId: 'acme' });
    expect(TenantError.is(errors[0]!.error, 'quota_unavailable')).toBe(true);
    // Within the retry interval, calls do not wait on Redis again (and are not reported again).
    expect((await quota.consume('acme', { requests: 1 }, limits)).reason).toBe('backend_unavailable');
    expect(errors).toHaveLength(1);
  });

  it('open: admits uncounted, marked fail_open', async () => {
    const c = await client();
    const { quota, errors } = observed('open', c);
    await server.stop();
    for (let i = 0; i < 5; i++) {
      const result = await quota.consume('acme', { requests: 1 }, limits);
      expect(result).toMatchObject({ allowed: true, degraded: 'fail_open', retryAfterMs: 0 });
      expect(result.ticket).toBeUndefined();
    }
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  it('fallback: counts in the insurance limiter, and settles there', async () => {
    const c = await client();
    const { quota, fallback } = observed('fallback', c);
    await server.stop();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await quota.consume('acme', { requests: 1 }, limits));
    expect(results.map((r) => [r.allowed, r.degraded])).toEqual([[true, 'fallback'], [true, 'fallback'], [true, 'fallback'], [false, 'fallback']]);
    expect(results[3]).toMatchObject({ reason: 'limit_exceeded', exceeded: ['requests'] });
    await quota.settle(results[0]!.ticket!, { requests: 0 }); // refunded in the fallback
    expect(fallback.consumeSync('acme', { requests: 0 }, limits).dimensions.requests?.remaining).toBe(1);
  });

  it('recovers by itself when Redis returns', async () => {
    const c = await client();
    const { quota, errors, states } = observed('closed', c, { retryIntervalMs: 50 });
    await server.stop();
    expect((await quota.consume('acme', { requests: 1 }, limits)).reason).toBe('backend_unavailable');
    await server.start();
    await untilReady(c);
    await new Promise((r) => setTimeout(r, 60));
    const result = await quota.consume('acme', { requests: 1 }, limits);
    expect(result).toMatchObject({ allowed: true, dimensions: { requests: { remaining: 2 } } });
    expect(result.degraded).toBeUndefined();
    expect(quota.state).toBe('up');
    expect(states).toEqual(['down', 'up']);
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });
});

describe('Redis slower than the timeout', () => {
  it('applies the policy once timeoutMs has passed, even if the command would wait', async () => {
    const c = await client();
    const { quota, errors } = observed('open', c, { timeoutMs: 100 });
    const admin = await client();
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const result = await quota.consume('acme', { requests: 1 }, limits);
    expect(result).toMatchObject({ allowed: true, degraded: 'fail_open' });
    expect(errors).toHaveLength(1);
    expect((errors[0]!.error as Error).message).toMatch(/within 100 ms/);
    await admin.call('CLIENT', 'UNPAUSE');
  });

  it('with an offline queue (commands wait for a reconnect), the timeout still bounds each check', async () => {
    const c = await client({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    const { quota } = observed('closed', c, { timeoutMs: 100 });
    await server.stop();
    const results = await Promise.all([1, 2, 3].map(() => quota.consume('acme', { requests: 1 }, limits)));
    for (const result of results) expect(result.reason).toBe('backend_unavailable');
    await server.start();
  });
});

describe('Redis restarted mid-run', () => {
  it('reloads the scripts (NOSCRIPT → EVAL), counts exactly again, and recovers', async () => {
    const c = await client();
    const { quota, states } = observed('closed', c, { retryIntervalMs: 20 });
    const lim = { requests: { limit: 50, windowMs: 60_000 } };
    let running = true;
    const outcomes: string[] = [];
    const loop = (async () => {
      while (running) {
        const r = await quota.consume('acme', { requests: 1 }, lim);
        outcomes.push(r.allowed ? 'ok' : (r.reason ?? 'denied'));
        await new Promise((res) => setTimeout(res, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    await new Promise((r) => setTimeout(r, 150));
    await server.start(); // an empty server: no scripts, no counters
    await untilReady(c);
    await new Promise((r) => setTimeout(r, 100));
    running = false;
    await loop;
    expect(outcomes).toContain('backend_unavailable');
    expect(outcomes.at(-1)).not.toBe('backend_unavailable');
    expect(states).toContain('down');
    expect(states.at(-1)).toBe('up');
    expect(quota.state).toBe('up');
    // The new server counts from zero, exactly.
    const seen = (await quota.consume('acme', { requests: 0 }, lim)).dimensions.requests!.remaining;
    const rest = await Promise.all(Array.from({ length: 60 }, () => quota.consume('acme', { requests: 1 }, lim)));
    expect(rest.filter((r) => r.allowed)).toHaveLength(seen);
  });

  it('survives SCRIPT FLUSH with no error at all', async () => {
    const c = await client();
    const { quota, errors } = observed('closed', c);
    expect((await quota.consume('flush', { requests: 1 }, limits)).allowed).toBe(true);
    await c.script('FLUSH');
    expect((await quota.consume('flush', { requests: 1 }, limits)).dimensions.requests?.remaining).toBe(1);
    expect(errors).toHaveLength(0);
  });
});

describe('Redis frozen (SIGSTOP), then thawed', () => {
  it.each(['closed', 'open', 'fallback'] as const)('%s: every check under load gets the policy within timeoutMs, and the manager recovers', async (policy) => {
    const c = await client();
    const { quota, states, errors } = observed(policy, c, { timeoutMs: 300, retryIntervalMs: 100 });
    const lim = { requests: { limit: 1_000, windowMs: 3_600_000 } };
    expect((await quota.consume('frozen', { requests: 1 }, lim)).degraded).toBeUndefined();
    server.pause();
    const during: { allowed: boolean; reason?: string | undefined; degraded?: string | undefined }[] = [];
    for (let round = 0; round < 4; round++) {
      during.push(...(await Promise.all(Array.from({ length: 20 }, () => quota.consume('frozen', { requests: 1 }, lim)))));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(during).toHaveLength(80);
    if (policy === 'closed') expect(during.every((r) => !r.allowed && r.reason === 'backend_unavailable')).toBe(true);
    if (policy === 'open') expect(during.every((r) => r.allowed && r.degraded === 'fail_open')).toBe(true);
    if (policy === 'fallback') expect(during.every((r) => r.allowed && r.degraded === 'fallback')).toBe(true);
    expect(quota.state).toBe('down');
    expect(states).toEqual(['down']);
    expect(errors.every((e) => TenantError.is(e.error, 'quota_unavailable'))).toBe(true);
    server.resume();
    let recovered = false;
    for (let i = 0; i < 100 && !recovered; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await quota.consume('frozen', { requests: 1 }, lim);
      recovered = r.allowed && r.degraded === undefined;
    }
    expect(recovered).toBe(true);
    expect(quota.state).toBe('up');
    expect(states).toEqual(['down', 'up']);
  });
});

describe('over-admission with the fallback (the bound docs/quotas.md states)', () => {
  it('P processes, limit L: at most L in Redis before the outage, P × L in the fallbacks, L again after a restart without persistence', async () => {
    const L = 20;
    const P = 3;
    const prefix = `o${Math.random().toString(36).slice(2, 8)}:`;
    // Each "process": its own client and its own in-memory fallback.
    const processes = await Promise.all(
      Array.from({ length: P }, async () =>
        createRedisSlidingQuota({ client: await client(), prefix, onFailure: 'fallback', timeoutMs: 2_000, retryIntervalMs: 50 }),
      ),
    );
    const lim = { requests: { limit: L, windowMs: 3_600_000 } };
    const drain = async (via: 'redis' | 'fallback') => {
      let admitted = 0;
      for (let open = true; open; ) {
        open = false;
        for (const quota of processes) {
          const r = await quota.consume('tenant', { requests: 1 }, lim);
          expect(r.degraded).toBe(via === 'fallback' ? 'fallback' : undefined);
          if (r.allowed) {
            admitted += 1;
            open = true;
          }
        }
      }
      return admitted;
    };
    const beforeOutage = await drain('redis');
    await server.stop();
    const duringOutage = await drain('fallback');
    await server.start(); // no persistence: an empty server
    for (const quota of processes) {
      for (let i = 0; i < 100 && quota.state !== 'up'; i++) {
        await new Promise((r) => setTimeout(r, 60));
        await quota.consume('probe', { requests: 0 }, lim);
      }
    }
    const afterRestart = await drain('redis');
    expect([beforeOutage, duringOutage, afterRestart]).toEqual([L, P * L, L]);
    expect(beforeOutage + duringOutage + afterRestart).toBe((P + 2) * L);
  });
});

describe('through the pipeline', () => {
  const request = (tenant: string): TenantRequest => ({ method: 'GET', path: '/', query: '', host: 'localhost', header: (name) => (name === 'x-tenant-id' ? tenant : undefined) });

  it.each(['closed', 'open'] as const)('%s: the pipeline answers 429 for quota, 503 or admits for an outage, and the hooks see it', async (policy) => {
    const c = await client();
    const quotaEvents: QuotaEvent[] = [];
    const errors: ErrorEvent[] = [];
    const hooks = { onQuota: (e: QuotaEvent) => void quotaEvents.push(e), onError: (e: ErrorEvent) => void errors.push(e) };
    const quota = createRedisSlidingQuota({ client: c, prefix: `p${Math.random().toString(36).slice(2, 8)}:`, onFailure: policy, hooks, retryIntervalMs: 50 });
    const tenancy = createTenancy({ store: createMemoryTenantStore({ tenants: [{ id: 'acme', quota: { requests: { limit: 1, windowMs: 60_000 } } }] }), quota, hooks });
    expect((await tenancy.handle(request('acme'))).ok).toBe(true);
    const limited = await tenancy.handle(request('acme'));
    expect(limited).toMatchObject({ ok: false, status: 429 });
    expect(Number((limited as { headers: Record<string, string> }).headers['retry-after'])).toBeGreaterThan(0);
    await server.stop();
    const down = await tenancy.handle(request('acme'));
    if (policy === 'closed') expect(down).toMatchObject({ ok: false, status: 503 });
    else expect(down.ok).toBe(true);
    expect(quotaEvents.at(-1)!.result).toMatchObject(policy === 'closed' ? { reason: 'backend_unavailable' } : { degraded: 'fail_open' });
    expect(errors.some((e) => e.phase === 'quota' && TenantError.is(e.error, 'quota_unavailable'))).toBe(true);
  });

  it('left no unhandled rejection behind', async () => {
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  });
});
