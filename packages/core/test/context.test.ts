import { EventEmitter, once } from 'node:events';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  bindTenant,
  captureTenant,
  createMemoryTenantStore,
  createTenantIdValidator,
  currentTenant,
  currentTenantId,
  requireTenant,
  runWithSnapshot,
  runWithTenant,
  runWithoutTenant,
  statusError,
} from '../src/index.js';
import { rejected, thrown } from './fixtures-a/errors.js';
import { seededRandom, tenant } from './fixtures-a/tenants.js';

const acme = tenant('acme', { plan: 'pro' });
const globex = tenant('globex');

describe('runWithTenant and the accessors', () => {
  it('has no tenant outside a context', () => {
    expect(currentTenant()).toBeUndefined();
    expect(currentTenantId()).toBeUndefined();
    const error = thrown(() => requireTenant(), 'tenant_context_missing');
    expect(error.status).toBe(500);
    expect(error.message).toContain('runWithTenant()');
  });

  it('sets the tenant for the callback and returns its result', () => {
    const result = runWithTenant(acme, () => {
      expect(currentTenant()).toBe(acme);
      expect(currentTenantId()).toBe('acme');
      expect(requireTenant()).toBe(acme);
      return 42;
    });
    expect(result).toBe(42);
    expect(currentTenant()).toBeUndefined();
  });

  it('returns the promise of an async callback', async () => {
    await expect(runWithTenant(acme, async () => {
      await sleep(1);
      return requireTenant().plan;
    })).resolves.toBe('pro');
  });

  it('nests, restoring the outer tenant afterwards', () => {
    runWithTenant(acme, () => {
      runWithTenant(globex, () => expect(currentTenantId()).toBe('globex'));
      expect(currentTenantId()).toBe('acme');
    });
  });

  it('runWithoutTenant clears the tenant inside a tenant context', async () => {
    await runWithTenant(acme, async () => {
      const inside = await runWithoutTenant(async () => {
        await sleep(1);
        expect(currentTenant()).toBeUndefined();
        thrown(() => requireTenant(), 'tenant_context_missing');
        return runWithTenant(globex, () => currentTenantId());
      });
      expect(inside).toBe('globex');
      expect(currentTenantId()).toBe('acme');
    });
  });

  it.each([null, undefined, 'acme', {}, { id: 1 }])('refuses %j as a tenant with a TypeError', (value) => {
    expect(() => runWithTenant(value as never, () => 1)).toThrow(TypeError);
  });

  it('does not leak the tenant after a synchronous exception', () => {
    expect(() =>
      runWithTenant(acme, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(currentTenant()).toBeUndefined();
    expect(runWithTenant(globex, () => currentTenantId())).toBe('globex');
  });

  it('does not leak the tenant after an async rejection', async () => {
    await expect(
      runWithTenant(acme, async () => {
        await sleep(1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(currentTenant()).toBeUndefined();
    await Promise.resolve();
    expect(currentTenant()).toBeUndefined();
  });
});

describe('propagation across asynchronous boundaries', () => {
  const inAcme = <T>(fn: () => Promise<T>) => runWithTenant(acme, fn);

  it('keeps the tenant across await, timers, immediates, nextTick and microtasks', async () => {
    const seen = await inAcme(async () => {
      const ids: (string | undefined)[] = [];
      await sleep(2);
      ids.push(currentTenantId());
      await new Promise<void>((resolve) => setTimeout(() => (ids.push(currentTenantId()), resolve()), 1));
      await new Promise<void>((resolve) => setImmediate(() => (ids.push(currentTenantId()), resolve())));
      await new Promise<void>((resolve) => process.nextTick(() => (ids.push(currentTenantId()), resolve())));
      await new Promise<void>((resolve) => queueMicrotask(() => (ids.push(currentTenantId()), resolve())));
      ids.push(await Promise.resolve().then(() => currentTenantId()));
      ids.push((await Promise.all([sleep(1).then(() => currentTenantId()), Promise.resolve(currentTenantId())])).join());
      const interval = await new Promise<string | undefined>((resolve) => {
        const handle = setInterval(() => {
          clearInterval(handle);
          resolve(currentTenantId());
        }, 1);
      });
      ids.push(interval);
      return ids;
    });
    expect(seen).toEqual(['acme', 'acme', 'acme', 'acme', 'acme', 'acme', 'acme,acme', 'acme']);
  });

  it('keeps the tenant in callbacks of async generators and thenables', async () => {
    async function* numbers() {
      for (let i = 0; i < 3; i += 1) {
        await sleep(1);
        yield `${currentTenantId()}-${i}`;
      }
    }
    const out = await inAcme(async () => {
      const values: string[] = [];
      for await (const value of numbers()) values.push(value);
      const thenable = { then: (resolve: (v: string | undefined) => void) => setTimeout(() => resolve(currentTenantId()), 1) };
      values.push((await thenable) ?? 'none');
      return values;
    });
    expect(out).toEqual(['acme-0', 'acme-1', 'acme-2', 'acme']);
  });

  it('gives an EventEmitter listener the context of the code that emits', async () => {
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    emitter.on('event', () => seen.push(currentTenantId()));
    runWithTenant(acme, () => emitter.emit('event'));
    runWithTenant(globex, () => emitter.emit('event'));
    emitter.emit('event');
    await inAcme(async () => {
      setTimeout(() => emitter.emit('event'), 1);
      await once(emitter, 'event');
    });
    expect(seen).toEqual(['acme', 'globex', undefined, 'acme']);
  });

  it('keeps the tenant through a stream pipeline', async () => {
    const seen = await inAcme(async () => {
      const ids = new Set<string | undefined>();
      const source = Readable.from(['a', 'b', 'c']);
      source.on('data', () => ids.add(`data:${currentTenantId()}`));
      const upper = new Transform({
        objectMode: true,
        transform(chunk: string, _encoding, callback) {
          ids.add(`transform:${currentTenantId()}`);
          setImmediate(() => callback(null, chunk.toUpperCase()));
        },
      });
      const chunks: string[] = [];
      const sink = new Writable({
        objectMode: true,
        write(chunk: string, _encoding, callback) {
          ids.add(`write:${currentTenantId()}`);
          chunks.push(chunk);
          setTimeout(callback, 1);
        },
      });
      sink.on('finish', () => ids.add(`finish:${currentTenantId()}`));
      await pipeline(source, upper, sink);
      ids.add(`after:${currentTenantId()}`);
      return { ids: [...ids].sort(), chunks };
    });
    expect(seen.chunks).toEqual(['A', 'B', 'C']);
    expect(seen.ids).toEqual(['after:acme', 'data:acme', 'finish:acme', 'transform:acme', 'write:acme']);
  });
});

describe('bindTenant', () => {
  it('pins a callback to the tenant current when it is bound', async () => {
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    runWithTenant(acme, () => emitter.on('event', bindTenant((label: string) => seen.push(`${label}:${currentTenantId()}`))));
    runWithTenant(globex, () => emitter.emit('event', 'from-globex'));
    emitter.emit('event', 'outside');
    await new Promise<void>((resolve) => setTimeout(() => (emitter.emit('event', 'timer'), resolve()), 1));
    expect(seen).toEqual(['from-globex:acme', 'outside:acme', 'timer:acme']);
  });

  it('passes arguments and returns the result', () => {
    const add = runWithTenant(acme, () => bindTenant((a: number, b: number) => `${currentTenantId()}:${a + b}`));
    expect(add(2, 3)).toBe('acme:5');
  });

  it('binds to "no tenant" when bound outside a context, whatever the caller has', () => {
    const probe = bindTenant(() => currentTenantId());
    expect(runWithTenant(acme, probe)).toBeUndefined();
  });

  it('binds to "no tenant" inside runWithoutTenant', () => {
    const probe = runWithTenant(acme, () => runWithoutTenant(() => bindTenant(() => currentTenantId())));
    expect(runWithTenant(globex, probe)).toBeUndefined();
  });
});

describe('captureTenant and runWithSnapshot', () => {
  const store = createMemoryTenantStore({
    tenants: [{ id: 'acme', plan: 'pro' }, { id: 'globex' }, { id: 'initech', status: 'suspended' }, { id: 'hooli', status: 'inactive' }, { id: 'umbrella' }],
  });

  it('captures a JSON-serializable snapshot with only the id', () => {
    const snapshot = runWithTenant(acme, () => captureTenant());
    expect(snapshot).toEqual({ v: 1, tenantId: 'acme' });
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });

  it('refuses to capture outside a context', () => {
    thrown(() => captureTenant(), 'tenant_context_missing');
    thrown(() => runWithTenant(acme, () => runWithoutTenant(() => captureTenant())), 'tenant_context_missing');
  });

  it('restores the tenant from the store, fresh, after a JSON round trip', async () => {
    const stale = tenant('acme', { plan: 'stale' });
    const wire = JSON.stringify(runWithTenant(stale, () => captureTenant()));
    const result = await runWithSnapshot(JSON.parse(wire), { store }, async () => {
      await sleep(1);
      return { id: currentTenantId(), plan: requireTenant().plan };
    });
    expect(result).toEqual({ id: 'acme', plan: 'pro' });
    expect(currentTenant()).toBeUndefined();
  });

  it('replaces the caller\'s tenant with the snapshot\'s', async () => {
    const id = await runWithTenant(globex, () => runWithSnapshot({ v: 1, tenantId: 'acme' }, { store }, () => currentTenantId()));
    expect(id).toBe('acme');
  });

  it.each([null, undefined, 'acme', 42, {}, { tenantId: 'acme' }, { v: 2, tenantId: 'acme' }, [1, 'acme']])(
    'refuses the malformed snapshot %j with tenant_invalid',
    async (snapshot) => {
      let ran = false;
      await rejected(runWithSnapshot(snapshot, { store }, () => (ran = true)), 'tenant_invalid');
      expect(ran).toBe(false);
    },
  );

  it.each(['../acme', 'ACME', '', 7, null, "acme' --"])('refuses the hostile tenant id %j with tenant_invalid', async (tenantId) => {
    await rejected(runWithSnapshot({ v: 1, tenantId }, { store }, () => 1), 'tenant_invalid');
  });

  it('validates with a custom id format', async () => {
    const upper = createMemoryTenantStore({ validateId: createTenantIdValidator({ pattern: /^[A-Z]+$/ }), tenants: [{ id: 'ACME' }] });
    const validateId = createTenantIdValidator({ pattern: /^[A-Z]+$/ });
    expect(await runWithSnapshot({ v: 1, tenantId: 'ACME' }, { store: upper, validateId }, () => currentTenantId())).toBe('ACME');
  });

  it('refuses an unknown tenant with tenant_not_found', async () => {
    const error = await rejected(runWithSnapshot({ v: 1, tenantId: 'nobody' }, { store }, () => 1), 'tenant_not_found');
    expect(error.tenantId).toBe('nobody');
  });

  it('refuses a tenant that is no longer active, unless allowed', async () => {
    await rejected(runWithSnapshot({ v: 1, tenantId: 'initech' }, { store }, () => 1), 'tenant_suspended');
    await rejected(runWithSnapshot({ v: 1, tenantId: 'hooli' }, { store }, () => 1), 'tenant_inactive');
    const snapshot = runWithTenant(tenant('umbrella'), () => captureTenant());
    await store.delete('umbrella');
    const error = await rejected(runWithSnapshot(snapshot, { store }, () => 1), 'tenant_deleted');
    expect(error.status).toBe(410);
    expect(await runWithSnapshot(snapshot, { store, allowInactive: true }, () => requireTenant().status)).toBe('deleted');
    expect(await runWithSnapshot({ v: 1, tenantId: 'initech' }, { store, allowInactive: true }, () => currentTenantId())).toBe('initech');
  });

  it('propagates a failure of the store or of the work, without leaking the tenant', async () => {
    const failing = { get: () => Promise.reject(new Error('store down')) };
    await expect(runWithSnapshot({ v: 1, tenantId: 'acme' }, { store: failing }, () => 1)).rejects.toThrow('store down');
    await expect(runWithSnapshot({ v: 1, tenantId: 'acme' }, { store }, () => Promise.reject(new Error('job failed')))).rejects.toThrow('job failed');
    expect(currentTenant()).toBeUndefined();
  });

  it('restores the tenant in another worker thread', async () => {
    const snapshot = runWithTenant(acme, () => captureTenant());
    const distCjs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const core = require(workerData.distCjs);
      const store = core.createMemoryTenantStore({ tenants: [{ id: 'acme', plan: 'enterprise' }, { id: 'globex', status: 'suspended' }] });
      parentPort.on('message', async (wire) => {
        try {
          const result = await core.runWithSnapshot(JSON.parse(wire), { store }, async () => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            return { id: core.currentTenantId(), plan: core.requireTenant().plan };
          });
          parentPort.postMessage({ ok: result, after: core.currentTenantId() ?? null });
        } catch (error) {
          parentPort.postMessage({ error: core.TenantError.is(error) ? error.code : String(error) });
        }
      });
      `,
      { eval: true, workerData: { distCjs } },
    );
    try {
      const ask = async (wire: string) => {
        worker.postMessage(wire);
        const [reply] = (await once(worker, 'message')) as [unknown];
        return reply;
      };
      expect(await ask(JSON.stringify(snapshot))).toEqual({ ok: { id: 'acme', plan: 'enterprise' }, after: null });
      expect(await ask(JSON.stringify({ v: 1, tenantId: 'globex' }))).toEqual({ error: 'tenant_suspended' });
      expect(await ask(JSON.stringify({ v: 1, tenantId: '../etc' }))).toEqual({ error: 'tenant_invalid' });
      expect(await ask(JSON.stringify({ v: 1, tenantId: 'nobody' }))).toEqual({ error: 'tenant_not_found' });
    } finally {
      await worker.terminate();
    }
  });
});

describe('statusError', () => {
  it.each([
    ['deleted', 'tenant_deleted', 410],
    ['suspended', 'tenant_suspended', 403],
    ['inactive', 'tenant_inactive', 403],
  ] as const)('maps %s to %s', (status, code, httpStatus) => {
    const error = statusError({ ...acme, status });
    expect(error).toMatchObject({ code, status: httpStatus, tenantId: 'acme' });
  });
});

describe('concurrency', () => {
  it('keeps 500 interleaved flows of random tenants apart', async () => {
    const random = seededRandom(20261123);
    const tenants = Array.from({ length: 20 }, (_, i) => tenant(`tenant-${i}`));
    const pause = (): Promise<unknown> => {
      const kind = Math.floor(random() * 6);
      switch (kind) {
        case 0:
          return sleep(Math.floor(random() * 3));
        case 1:
          return new Promise((resolve) => setImmediate(resolve));
        case 2:
          return new Promise((resolve) => process.nextTick(resolve));
        case 3:
          return Promise.resolve();
        case 4:
          return new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
        default:
          return Promise.all([sleep(0), Promise.resolve()]);
      }
    };
    const crossed: string[] = [];
    let steps = 0;
    const flow = async (index: number) => {
      const mine = tenants[Math.floor(random() * tenants.length)]!;
      const stepCount = 2 + Math.floor(random() * 6);
      const nested = random() < 0.2;
      await runWithTenant(mine, async () => {
        for (let step = 0; step < stepCount; step += 1) {
          await pause();
          steps += 1;
          if (currentTenantId() !== mine.id) crossed.push(`flow ${index} step ${step}: ${String(currentTenantId())} instead of ${mine.id}`);
          if (nested && step === 1) {
            const other = tenants[(tenants.indexOf(mine) + 1) % tenants.length]!;
            await runWithTenant(other, async () => {
              await pause();
              if (currentTenantId() !== other.id) crossed.push(`flow ${index} nested: ${String(currentTenantId())}`);
            });
          }
        }
      });
      if (currentTenant() !== undefined) crossed.push(`flow ${index} leaked ${String(currentTenantId())}`);
    };
    await Promise.all(Array.from({ length: 500 }, (_, i) => flow(i)));
    expect(crossed).toEqual([]);
    expect(steps).toBeGreaterThanOrEqual(1000);
  });

  it('does not carry a failed flow\'s tenant into the next one', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        runWithTenant(tenant(`t-${i}`), async () => {
          await sleep(i % 3);
          if (i % 2 === 0) throw new Error(`flow ${i}`);
          return currentTenantId();
        }),
      ),
    );
    results.forEach((result, i) => {
      if (i % 2 === 0) expect(result.status).toBe('rejected');
      else expect(result).toEqual({ status: 'fulfilled', value: `t-${i}` });
    });
    expect(currentTenant()).toBeUndefined();
  });
});
