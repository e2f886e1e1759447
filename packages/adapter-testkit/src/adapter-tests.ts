import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { createMemoryTenantStore, currentTenantId, type AdapterExtras, type MemoryTenantStore, type TenancyOptions, type TenantErrorCode, type TenantInput } from '@tenant/core';
import { sendRequest } from './http-client.js';
import { listen } from './listen.js';
import { ACTUAL_TOKENS_HEADER } from './setup.js';

/**
 * The tenants of {@link createAdapterTestStore}: `acme` (100 requests and
 * 100 tokens a minute), `globex` (no quota) and `initech` (suspended).
 */
export const ADAPTER_TEST_TENANTS: readonly TenantInput[] = [
  { id: 'acme', quota: { requests: { limit: 100, windowMs: 60_000 }, tokens: { limit: 100, windowMs: 60_000 } } },
  { id: 'globex' },
  { id: 'initech', status: 'suspended' },
];

/**
 * A fresh in-memory store of {@link ADAPTER_TEST_TENANTS}, for an adapter's
 * own tests (beside the conformance suite): one a test, so that quotas
 * start full.
 *
 * @example
 * ```ts
 * const base = await servers.listen(createServer(myAdapter({ store: createAdapterTestStore() }, route)));
 * ```
 */
export function createAdapterTestStore(): MemoryTenantStore {
  return createMemoryTenantStore({ tenants: ADAPTER_TEST_TENANTS });
}

/** What {@link closeAfterEach} returns. */
export interface ServerTracker {
  /** Listens on `127.0.0.1` and a free port (see {@link listen}), closes the server after the test, and returns its URL. */
  listen(server: Server): Promise<string>;
  /** Calls `close` after the test, for a server that listens by itself (such as fastify's `app.close`). */
  add(close: () => Promise<unknown>): void;
}

/**
 * Registers a vitest `afterEach` that closes every server the test started
 * through the returned tracker (keep-alive connections included). Call it
 * once, at the top of a test file.
 *
 * @example
 * ```ts
 * const servers = closeAfterEach();
 *
 * it('answers', async () => {
 *   const base = await servers.listen(app.listen()); // express, koa: any node:http server
 * });
 * ```
 */
export function closeAfterEach(): ServerTracker {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  return {
    async listen(server) {
      const started = await listen(server);
      closers.push(started.close);
      return started.url;
    },
    add(close) {
      closers.push(close);
    },
  };
}

/** The refusals {@link assertRefusals} checks: tenant (the `x-tenant-id` header), status and problem code. */
export const ADAPTER_TEST_REFUSALS: readonly { readonly tenant: string | undefined; readonly status: number; readonly code: TenantErrorCode }[] = [
  { tenant: 'initech', status: 403, code: 'tenant_suspended' },
  { tenant: 'nobody', status: 404, code: 'tenant_not_found' },
  { tenant: 'Bad Id!', status: 400, code: 'tenant_invalid' },
  { tenant: undefined, status: 400, code: 'tenant_missing' },
];

/**
 * Asserts that a server with an adapter over {@link createAdapterTestStore}
 * (resolving the `x-tenant-id` header) refuses a suspended, an unknown, an
 * invalid and a missing tenant on `GET path`: the status,
 * `application/problem+json`, `cache-control: no-store`, and a body with
 * `status` and `code`. That the route never ran is the caller's to check.
 */
export async function assertRefusals(baseUrl: string, path = '/'): Promise<void> {
  for (const { tenant, status, code } of ADAPTER_TEST_REFUSALS) {
    const res = await sendRequest(baseUrl, { path, headers: tenant === undefined ? {} : { 'x-tenant-id': tenant } });
    const what = `GET ${path} as ${tenant ?? 'no tenant'}`;
    assert.equal(res.status, status, `${what}: status (${res.text().slice(0, 200)})`);
    assert.equal(res.headers['content-type'], 'application/problem+json', `${what}: content-type`);
    assert.equal(res.headers['cache-control'], 'no-store', `${what}: cache-control`);
    const body = res.json<{ status?: unknown; code?: unknown }>();
    assert.equal(body.code, code, `${what}: problem code`);
    assert.equal(body.status, status, `${what}: problem status`);
  }
}

/**
 * The tenant context (`currentTenantId()`) now, after an `await`, in a
 * timer, and in each `data` event of a stream: five entries, each the same
 * tenant id inside an adapter's route (`undefined` outside any context).
 */
export async function traceContext(): Promise<(string | undefined)[]> {
  const seen = [currentTenantId()];
  await sleep(2);
  seen.push(currentTenantId());
  await new Promise<void>((resolve) => setTimeout(() => (seen.push(currentTenantId()), resolve()), 1));
  await new Promise<void>((resolve, reject) => {
    Readable.from(['a', 'b'])
      .on('data', () => seen.push(currentTenantId()))
      .on('end', resolve)
      .on('error', reject);
  });
  return seen;
}

/**
 * Asserts that concurrent requests of two tenants stay apart: sends 12 at
 * once, `acme` and `globex` in turn, to `pathFor(delayMs)` (delays 12 down
 * to 1 ms, so that they finish out of order). The route must wait
 * `delayMs`, then answer JSON `{ header, current }`: the `x-tenant-id` it
 * got, and `currentTenantId()`. Each `current` must be its own `header`.
 */
export async function assertTenantsApart(baseUrl: string, pathFor: (delayMs: number) => string): Promise<void> {
  const calls = Array.from({ length: 12 }, (_, i) => ({ tenant: i % 2 === 0 ? 'acme' : 'globex', delayMs: 12 - i }));
  const answers = await Promise.all(calls.map(({ tenant, delayMs }) => sendRequest(baseUrl, { path: pathFor(delayMs), headers: { 'x-tenant-id': tenant } })));
  answers.forEach((res, i) => {
    const { tenant, delayMs } = calls[i]!;
    assert.equal(res.status, 200, `${pathFor(delayMs)} as ${tenant}: status (${res.text().slice(0, 200)})`);
    assert.deepEqual(res.json(), { header: tenant, current: tenant }, `${pathFor(delayMs)} as ${tenant}: the answer`);
  });
}

/**
 * The `cost` of a quota check with {@link assertQuotaEnforced}: one request
 * and 60 tokens, of acme's 100 tokens a minute, so the second request is
 * refused.
 */
export const quotaTestCost = (): { requests: number; tokens: number } => ({ requests: 1, tokens: 60 });

/**
 * Asserts the quota on `GET path` as `acme`, for an adapter over
 * {@link createAdapterTestStore} with `cost: quotaTestCost`: the first
 * request is served with a `RateLimit` header, the second is a 429 with
 * `Retry-After` and the `quota_exceeded` problem.
 */
export async function assertQuotaEnforced(baseUrl: string, path = '/'): Promise<void> {
  const headers = { 'x-tenant-id': 'acme' };
  const first = await sendRequest(baseUrl, { path, headers });
  assert.equal(first.status, 200, `first GET ${path}: status (${first.text().slice(0, 200)})`);
  assert.match(String(first.headers['ratelimit']), /remaining=|r=/, `first GET ${path}: RateLimit header`);
  const second = await sendRequest(baseUrl, { path, headers });
  assert.equal(second.status, 429, `second GET ${path}: status`);
  assert.match(String(second.headers['retry-after']), /^[0-9]+$/, `second GET ${path}: Retry-After`);
  assert.equal(second.json<{ code?: unknown }>().code, 'quota_exceeded', `second GET ${path}: problem code`);
}

/** What {@link createSettleProbe} returns. */
export interface SettleProbe {
  /** Spread into the adapter's options: a 50-token estimate, the actual cost read from {@link ACTUAL_TOKENS_HEADER}, and an `onSettle` hook that records it. */
  readonly options: Required<Pick<TenancyOptions, 'cost' | 'hooks'>> & Required<Pick<AdapterExtras, 'actualCost'>>;
  /** The tokens of each settle so far. */
  readonly settled: readonly number[];
  /**
   * Sends three `GET path` as `acme`, whose route must set the
   * {@link ACTUAL_TOKENS_HEADER} response header to `10`, and asserts that
   * each was served and settled at 10 tokens (settling may finish after the
   * response).
   */
  assertSettled(baseUrl: string, path?: string): Promise<void>;
}

/**
 * Checks that an adapter settles the actual cost read from its response.
 *
 * @example
 * ```ts
 * const probe = createSettleProbe();
 * app.use(tenancy({ store: createAdapterTestStore(), ...probe.options }));
 * app.get('/x', (_req, res) => void res.set(ACTUAL_TOKENS_HEADER, '10').send('ok'));
 * await probe.assertSettled(await servers.listen(createServer(app)), '/x');
 * ```
 */
export function createSettleProbe(): SettleProbe {
  const settled: number[] = [];
  return {
    options: {
      cost: () => ({ tokens: 50 }),
      hooks: { onSettle: (event) => void settled.push(event.actual.tokens ?? Number.NaN) },
      actualCost: (_request, response) => ({ tokens: Number(response.getHeader(ACTUAL_TOKENS_HEADER) ?? 50) }),
    },
    settled,
    async assertSettled(baseUrl, path = '/') {
      const before = settled.length;
      for (let i = 0; i < 3; i += 1) {
        const res = await sendRequest(baseUrl, { path, headers: { 'x-tenant-id': 'acme' } });
        assert.equal(res.status, 200, `GET ${path}: status (${res.text().slice(0, 200)})`);
      }
      // settling runs when the response finishes, which may be after the client read it
      for (let waited = 0; settled.length < before + 3 && waited < 2_000; waited += 10) await sleep(10);
      assert.deepEqual(settled.slice(before), [10, 10, 10], 'tokens settled for the three requests');
    },
  };
}
