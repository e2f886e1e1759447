import { createServer, type RequestListener } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentTenantId, runWithTenant } from '@tenant/core';
import { createTestTenant } from '@tenant/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ACTUAL_TOKENS_HEADER,
  ADAPTER_TEST_TENANTS,
  assertQuotaEnforced,
  assertRefusals,
  assertTenantsApart,
  closeAfterEach,
  createAdapterTestStore,
  createSettleProbe,
  quotaTestCost,
  traceContext,
} from '../src/index.js';
import { withTenancy } from './node-http-adapter.js';

const servers = closeAfterEach();
const json = (body: unknown): RequestListener => (_req, res) => void res.setHeader('content-type', 'application/json').end(JSON.stringify(body));

describe('helpers for an adapter’s own tests', () => {
  it('createAdapterTestStore() holds the documented tenants, fresh each time', async () => {
    const store = createAdapterTestStore();
    expect(ADAPTER_TEST_TENANTS.map((t) => t.id)).toEqual(['acme', 'globex', 'initech']);
    expect((await store.get('initech'))?.status).toBe('suspended');
    expect((await store.get('acme'))?.quota?.requests?.limit).toBe(100);
    expect(createAdapterTestStore()).not.toBe(store);
  });

  it('assertRefusals() passes a correct adapter, and fails one that lets a tenant through or answers plain JSON', async () => {
    let reached = 0;
    const good = await servers.listen(createServer(withTenancy({ store: createAdapterTestStore() }, (_req, res) => void (reached += 1, res.end('no')))));
    await assertRefusals(good, '/x');
    expect(reached).toBe(0);
    const open = await servers.listen(createServer(json({ ok: true })));
    await expect(assertRefusals(open)).rejects.toThrow(/GET \/ as initech: status/);
    const plain = await servers.listen(
      createServer((req, res) => {
        res.statusCode = req.headers['x-tenant-id'] === 'initech' ? 403 : 400;
        json({ status: res.statusCode, code: 'tenant_suspended' })(req, res);
      }),
    );
    await expect(assertRefusals(plain)).rejects.toThrow(/content-type/);
  });

  it('traceContext() sees the tenant after await, timers and streams, and nothing outside a context', async () => {
    expect(await traceContext()).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const inside = await runWithTenant(createTestTenant({ id: 'acme' }), () => traceContext());
    expect(inside).toEqual(['acme', 'acme', 'acme', 'acme', 'acme']);
  });

  it('assertTenantsApart() passes a correct adapter, and fails one that answers with the wrong tenant', async () => {
    const route = (current: () => string | undefined): RequestListener => (req, res) => {
      void sleep(Number(req.url!.slice(1))).then(() => json({ header: req.headers['x-tenant-id'], current: current() })(req, res));
    };
    const good = await servers.listen(createServer(withTenancy({ store: createAdapterTestStore() }, route(currentTenantId))));
    await assertTenantsApart(good, (ms) => `/${ms}`);
    // a "context" shared by the whole server: the last tenant in wins
    let last: string | undefined;
    const leaky = await servers.listen(createServer((req, res) => ((last = req.headers['x-tenant-id'] as string), route(() => last)(req, res))));
    await expect(assertTenantsApart(leaky, (ms) => `/${ms}`)).rejects.toThrow(/the answer/);
  });

  it('assertQuotaEnforced() passes an adapter that charges quotaTestCost, and fails one that charges nothing', async () => {
    const charged = await servers.listen(createServer(withTenancy({ store: createAdapterTestStore(), cost: quotaTestCost }, json({ ok: true }))));
    await assertQuotaEnforced(charged, '/x');
    const free = await servers.listen(createServer(withTenancy({ store: createAdapterTestStore(), cost: () => ({ requests: 1 }) }, json({ ok: true }))));
    await expect(assertQuotaEnforced(free, '/x')).rejects.toThrow(/second GET \/x: status/);
  });

  it('createSettleProbe() passes an adapter that settles the reported tokens, and fails when they are not reported', async () => {
    const probe = createSettleProbe();
    const reported = await servers.listen(createServer(withTenancy({ store: createAdapterTestStore(), ...probe.options }, (_req, res) => void res.setHeader(ACTUAL_TOKENS_HEADER, '10').end('ok'))));
    await probe.assertSettled(reported, '/x');
    expect(probe.settled).toEqual([10, 10, 10]);
    const silent = createSettleProbe();
    const unreported = await servers.listen(createServer(withTenancy({ store: createAdapterTestStore(), ...silent.options }, (_req, res) => void res.end('ok'))));
    // unreported, each request keeps its 50-token estimate: the third is over acme's 100 tokens
    await expect(silent.assertSettled(unreported, '/x')).rejects.toThrow(/GET \/x: status \(.*quota_exceeded/);
    await expect.poll(() => silent.settled).toEqual([50, 50]);
  });

  let previous: string | undefined;
  it('closeAfterEach() starts a server on 127.0.0.1 for the test', async () => {
    previous = await servers.listen(createServer(json({ ok: true })));
    expect(previous).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
    expect((await fetch(previous)).status).toBe(200);
  });

  it('closeAfterEach() closed it after that test', async () => {
    await expect(fetch(previous!)).rejects.toThrow();
  });
});
