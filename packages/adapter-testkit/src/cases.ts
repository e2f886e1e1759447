import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertContexts, assertProblem, assertServed, type HandlerAnswer, type SentResponse } from './assertions.js';
import { sendFetchRequest } from './fetch-transport.js';
import { sendMany, sendRequest, type SendManyOptions, type TestRequest, type TestResponse } from './http-client.js';
import { pathVariants, type PathVariant } from './path-variants.js';
import {
  CLAIM_HEADER,
  ESTIMATE_HEADER,
  GUARDED_ROUTES,
  MODEL_HEADER,
  QUOTA_LIMIT,
  QUOTA_WINDOW_MS,
  REQUEST_ID_HEADER,
  TOKEN_LIMIT,
  type ConformanceFixture,
} from './setup.js';
import type { ConformanceMode, FetchFunction } from './types.js';

/** A request as the cases describe it: a test request plus the tenant to name by header. */
export interface CaseRequest extends TestRequest {
  /** Sent as `x-tenant-id`. */
  readonly tenant?: string;
}

/**
 * How the cases reach the adapter: a real HTTP server (a base URL), or a
 * fetch function in this process.
 */
export type ConformanceTarget = string | { readonly fetch: FetchFunction };

/** What a case runs against. */
export interface ConformanceContext {
  /** The server's base URL (`http://127.0.0.1` for a fetch function in process). */
  readonly url: string;
  /** Whether requests go over real HTTP or to a fetch function in this process. */
  readonly transport: 'http' | 'in-process';
  readonly fixture: ConformanceFixture<unknown>;
  /** The options in force, with defaults filled in. */
  readonly concurrency: number;
  readonly largeBodyBytes: number;
  /** Sends one request with a fresh `x-request-id`. */
  send(request?: CaseRequest): Promise<SentResponse>;
  /** Builds a request (with a fresh `x-request-id`) for {@link ConformanceContext.sendMany}. */
  prepare(request?: CaseRequest): TestRequest & { readonly requestId: string };
  /** Sends prepared requests all at once (over `sockets` keep-alive sockets over HTTP); responses in order. */
  sendMany(requests: readonly TestRequest[], options?: SendManyOptions): Promise<TestResponse[]>;
}

/** One conformance case: data, so that a test can run any case on its own and assert that it fails. */
export interface ConformanceCase {
  /** A stable id, such as `status-suspended`. */
  readonly id: string;
  /** What the case checks, as a test title. */
  readonly title: string;
  /**
   * The kinds of adapter the case applies to; every kind when left out (a
   * case added to the list runs in both modes unless it says otherwise).
   */
  readonly modes?: readonly ConformanceMode[];
  /** Rejects with an assertion error when the adapter does not conform. */
  run(context: ConformanceContext): Promise<void>;
}


/** Parses one item of a `RateLimit` header, such as `"requests";r=2;t=10`. */
export function parseRateLimit(header: string | string[] | undefined, name: string): { r: number; t: number } | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (value === undefined) return undefined;
  const item = value.split(',').map((part) => part.trim()).find((part) => part.startsWith(`"${name}";`));
  if (item === undefined) return undefined;
  const params = new Map(item.split(';').slice(1).map((param) => param.split('=') as [string, string]));
  return { r: Number(params.get('r')), t: Number(params.get('t')) };
}

/** What a sent request was, for failure messages: `<id> (GET /path)`. */
export function describeRequest(res: SentResponse): string {
  return `${res.requestId} (${res.request ?? 'request'})`;
}

/**
 * The `RateLimit` item `name` of a response; fails naming the request and
 * what is missing (the header itself, or the item) rather than a number.
 */
export function requireRateLimit(res: SentResponse, name: string, what: string): { r: number; t: number } {
  const header = res.headers['ratelimit'];
  assert.ok(
    header !== undefined,
    `${what}: ${describeRequest(res)} answered ${res.status} without a RateLimit header: the adapter must copy decision.headers (RateLimit, RateLimit-Policy) onto admitted responses and keep a rejection's headers (headers: ${Object.keys(res.headers).join(', ')})`,
  );
  const item = parseRateLimit(header, name);
  assert.ok(item !== undefined, `${what}: ${describeRequest(res)} has RateLimit ${JSON.stringify(header)}, with no "${name}" item`);
  return item;
}

function assertSource(context: ConformanceContext, res: SentResponse, tenantId: string, source: string): void {
  assertServed(context.fixture, res, tenantId);
  const record = context.fixture.hookLog.record(res.requestId);
  assert.equal(record.counts.onResolve, 1, `onResolve calls for ${res.requestId}`);
  assert.equal(record.tenantId, tenantId, `onResolve tenant for ${res.requestId}`);
  assert.equal(record.source, source, `resolver that found ${tenantId}`);
}

async function eventually(what: string | (() => string), check: () => Promise<boolean>, attempts = 50): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await sleep(20);
  }
  assert.fail(`${typeof what === 'function' ? what() : what}: still not true after ${attempts} attempts`);
}

/** Whether a response came from the handler mounted on `route` (not the catch-all, not a refusal). */
function reached(res: SentResponse, route: string): boolean {
  if (res.status !== 200 || !String(res.headers['content-type']).startsWith('application/json')) return false;
  return res.json<HandlerAnswer>().matched === route;
}

const problemCode = (res: SentResponse): unknown => (String(res.headers['content-type']).startsWith('application/problem+json') ? res.json<{ code?: unknown }>().code : undefined);

/** Runs `work` over `items`, `width` at a time. */
async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

const rejections: readonly [id: string, title: string, status: number, code: Parameters<typeof assertProblem>[3], request: (c: ConformanceContext) => CaseRequest][] = [
  ['missing', 'no tenant: 400 tenant_missing', 400, 'tenant_missing', () => ({ path: '/whoami' })],
  ['invalid', 'malformed tenant id: 400 tenant_invalid', 400, 'tenant_invalid', () => ({ path: '/whoami', tenant: 'Not A Valid/Id' })],
  ['unknown', 'unknown tenant: 404 tenant_not_found', 404, 'tenant_not_found', (c) => ({ path: '/whoami', tenant: c.fixture.tenants.unknown })],
  ['unknown-subdomain', 'unknown subdomain: 404 tenant_not_found', 404, 'tenant_not_found', (c) => ({ path: '/whoami', headers: { host: c.fixture.hosts.subdomain(c.fixture.tenants.unknown) } })],
  ['suspended', 'suspended tenant: 403 tenant_suspended', 403, 'tenant_suspended', (c) => ({ path: '/whoami', tenant: c.fixture.tenants.suspended })],
  ['inactive', 'inactive tenant: 403 tenant_inactive', 403, 'tenant_inactive', (c) => ({ path: '/whoami', tenant: c.fixture.tenants.inactive })],
  ['deleted', 'deleted tenant: 410 tenant_deleted', 410, 'tenant_deleted', (c) => ({ path: '/whoami', tenant: c.fixture.tenants.deleted })],
];

/**
 * Every case of the suite, in order. {@link runAdapterConformance} registers
 * them all; run one yourself with {@link runConformanceCases} and `only`.
 */
export const conformanceCases: readonly ConformanceCase[] = Object.freeze([
  ...rejections.map(
    ([id, title, status, code, request]): ConformanceCase => ({
      id,
      title,
      async run(c) {
        const body = assertProblem(c.fixture, await c.send(request(c)), status, code);
        assert.ok(body.detail === undefined || typeof body.detail === 'string', 'problem detail is a string');
      },
    }),
  ),
  {
    id: 'resolve-header',
    title: 'resolves the tenant from the x-tenant-id header',
    async run(c) {
      assertSource(c, await c.send({ path: '/whoami', tenant: c.fixture.tenants.b }), c.fixture.tenants.b, 'header');
    },
  },
  {
    id: 'resolve-subdomain',
    title: 'resolves the tenant from a subdomain of example.test',
    async run(c) {
      const { b } = c.fixture.tenants;
      assertSource(c, await c.send({ path: '/whoami', headers: { host: c.fixture.hosts.subdomain(b) } }), b, 'subdomain');
    },
  },
  {
    id: 'resolve-host',
    title: 'resolves the tenant from a custom domain (host)',
    async run(c) {
      assertSource(c, await c.send({ path: '/whoami', headers: { host: `${c.fixture.hosts.shop}:8080` } }), c.fixture.tenants.shop, 'host');
    },
  },
  {
    id: 'resolve-path',
    title: 'resolves the tenant from the path prefix /t/<id>',
    async run(c) {
      const { b } = c.fixture.tenants;
      assertSource(c, await c.send({ path: `/t/${b}/whoami` }), b, 'path');
    },
  },
  {
    id: 'resolve-claim',
    title: 'resolves the tenant from the principal (claim), passing options.principal through',
    async run(c) {
      const { b } = c.fixture.tenants;
      assertSource(c, await c.send({ path: '/whoami', headers: { [CLAIM_HEADER]: b } }), b, 'claim');
    },
  },
  {
    id: 'resolve-priority',
    title: 'resolver priority: claim > header > subdomain > host > path',
    async run(c) {
      const { a, b, shop } = c.fixture.tenants;
      const { hosts } = c.fixture;
      assertSource(c, await c.send({ path: `/t/${b}/whoami`, tenant: b, headers: { [CLAIM_HEADER]: a, host: hosts.subdomain(b) } }), a, 'claim');
      assertSource(c, await c.send({ path: `/t/${b}/whoami`, tenant: a, headers: { host: hosts.subdomain(b) } }), a, 'header');
      // The shadow host is a's subdomain and also one of shop's custom domains.
      assertSource(c, await c.send({ path: `/t/${b}/whoami`, headers: { host: hosts.shadow } }), a, 'subdomain');
      assertSource(c, await c.send({ path: `/t/${b}/whoami`, headers: { host: hosts.shop } }), shop, 'host');
    },
  },
  {
    id: 'policy',
    title: 'policy: an allowed model passes, another is refused with 403 policy_denied',
    async run(c) {
      const { a } = c.fixture.tenants;
      assertServed(c.fixture, await c.send({ path: '/whoami', tenant: a, headers: { [MODEL_HEADER]: 'small' } }), a);
      const body = assertProblem(c.fixture, await c.send({ path: '/whoami', tenant: a, headers: { [MODEL_HEADER]: 'large' } }), 403, 'policy_denied');
      assert.equal(body['dimension'], 'models', 'the refusing dimension');
    },
  },
  {
    id: 'quota',
    title: 'quota: RateLimit-Policy and RateLimit on admitted responses, then 429 quota_exceeded with Retry-After',
    async run(c) {
      const { quota } = c.fixture.tenants;
      const windowSeconds = QUOTA_WINDOW_MS / 1000;
      for (let i = 1; i <= QUOTA_LIMIT; i += 1) {
        const res = await c.send({ path: '/whoami', tenant: quota });
        assertServed(c.fixture, res, quota);
        assert.equal(requireRateLimit(res, 'requests', `admitted request ${i}`).r, QUOTA_LIMIT - i, `RateLimit remaining after request ${i}, ${describeRequest(res)}`);
        assert.equal(res.headers['ratelimit-policy'], `"requests";q=${QUOTA_LIMIT};w=${windowSeconds}`, `RateLimit-Policy of admitted request ${i}, ${describeRequest(res)}`);
      }
      const res = await c.send({ path: '/whoami', tenant: quota });
      const body = assertProblem(c.fixture, res, 429, 'quota_exceeded');
      assert.deepEqual(body['exceeded'], ['requests'], 'exceeded dimensions');
      const limit = requireRateLimit(res, 'requests', 'the 429');
      assert.equal(res.headers['ratelimit-policy'], `"requests";q=${QUOTA_LIMIT};w=${windowSeconds}`, `RateLimit-Policy on the 429, ${describeRequest(res)}`);
      assert.equal(limit.r, 0, `RateLimit remaining on the 429, ${describeRequest(res)}`);
      const retryAfter = Number(res.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowSeconds, `Retry-After of ${describeRequest(res)} is whole seconds within the window: ${String(res.headers['retry-after'])}`);
      assert.equal(retryAfter, limit.t, `Retry-After equals the RateLimit reset, ${describeRequest(res)}`);
      assert.equal(c.fixture.hookLog.record(res.requestId).counts.onQuota, 1, 'onQuota for the refused request');
    },
  },
  {
    id: 'settle',
    title: 'settle: the actual cost read from the response replaces the estimate',
    async run(c) {
      const { tokens } = c.fixture.tenants;
      const first = await c.send({ path: '/settle?tokens=400', tenant: tokens, headers: { [ESTIMATE_HEADER]: '10' } });
      assertServed(c.fixture, first, tokens);
      assert.equal(requireRateLimit(first, 'tokens', 'the request to settle').r, TOKEN_LIMIT - 10, `the estimate is charged up front, ${describeRequest(first)}`);
      // The adapter settles once the response is finished: look until it shows.
      let remaining: number | undefined;
      await eventually(
        () =>
          `settle of ${describeRequest(first)}: tokens remaining should be ${TOKEN_LIMIT - 400} once x-actual-tokens: 400 is settled, last seen ${String(remaining)} (${remaining === TOKEN_LIMIT - 10 ? 'the estimate stands: actualCost was never settled; settle after the response, with options.actualCost' : 'unexpected'})`,
        async () => {
          const probe = await c.send({ path: '/whoami', tenant: tokens, headers: { [ESTIMATE_HEADER]: '0' } });
          assertServed(c.fixture, probe, tokens);
          remaining = requireRateLimit(probe, 'tokens', 'a probe of the token budget').r;
          return remaining === TOKEN_LIMIT - 400;
        },
      );
      // An estimate above what is left is refused: the budget really is spent.
      const over = await c.send({ path: '/whoami', tenant: tokens, headers: { [ESTIMATE_HEADER]: String(TOKEN_LIMIT - 400 + 1) } });
      assertProblem(c.fixture, over, 429, 'quota_exceeded');
      assert.ok(over.headers['retry-after'] !== undefined, 'Retry-After on the 429');
      // No actual cost: the estimate stands.
      const plain = await c.send({ path: '/settle', tenant: tokens, headers: { [ESTIMATE_HEADER]: '100' } });
      assertServed(c.fixture, plain, tokens);
      await sleep(20);
      const after = await c.send({ path: '/whoami', tenant: tokens, headers: { [ESTIMATE_HEADER]: '0' } });
      assert.equal(requireRateLimit(after, 'tokens', 'a probe of the token budget').r, TOKEN_LIMIT - 400 - 100, `the estimate stands without an actual cost, ${describeRequest(plain)}`);
      assert.equal(c.fixture.hookLog.record(plain.requestId).counts.onSettle, 0, 'no settle without an actual cost');
    },
  },
  {
    id: 'hooks-once',
    title: 'each hook fires exactly once per request',
    async run(c) {
      const { metered } = c.fixture.tenants;
      const { hookLog } = c.fixture;
      const admitted = await c.send({ path: '/settle?tokens=7', tenant: metered, headers: { [MODEL_HEADER]: 'small', [ESTIMATE_HEADER]: '5' } });
      assertServed(c.fixture, admitted, metered);
      await eventually(`onSettle for ${describeRequest(admitted)} (settle after the response, with options.actualCost)`, async () => hookLog.record(admitted.requestId).counts.onSettle > 0);
      await sleep(20); // room for a second, wrong call to show
      assert.deepEqual(hookLog.record(admitted.requestId).counts, { onResolve: 1, onPolicy: 1, onQuota: 1, onSettle: 1, onReject: 0 }, 'hooks of an admitted request');

      const denied = await c.send({ path: '/whoami', tenant: metered, headers: { [MODEL_HEADER]: 'large' } });
      assertProblem(c.fixture, denied, 403, 'policy_denied');
      assert.deepEqual(hookLog.record(denied.requestId).counts, { onResolve: 1, onPolicy: 1, onQuota: 0, onSettle: 0, onReject: 1 }, 'hooks of a policy denial');

      const missing = await c.send({ path: '/whoami' });
      assertProblem(c.fixture, missing, 400, 'tenant_missing');
      assert.deepEqual(hookLog.record(missing.requestId).counts, { onResolve: 0, onPolicy: 0, onQuota: 0, onSettle: 0, onReject: 1 }, 'hooks of a missing tenant');

      const skipped = await c.send({ path: '/health', tenant: metered });
      assertServed(c.fixture, skipped, null);
      assert.deepEqual(hookLog.record(skipped.requestId).counts, { onResolve: 0, onPolicy: 0, onQuota: 0, onSettle: 0, onReject: 0 }, 'hooks of a skipped path');
      assert.deepEqual([...hookLog.unmatched], [], 'hook calls without a request id, and onError calls');
    },
  },
  {
    id: 'skip-paths',
    title: 'skip paths pass with no tenant; near misses do not',
    async run(c) {
      const { a } = c.fixture.tenants;
      assertServed(c.fixture, await c.send({ path: '/health' }), null);
      assertServed(c.fixture, await c.send({ path: '/health/live' }), null);
      assertServed(c.fixture, await c.send({ path: '/health', tenant: a }), null);
      assertProblem(c.fixture, await c.send({ path: '/healthz' }), 400, 'tenant_missing');
      assertServed(c.fixture, await c.send({ path: '/healthz', tenant: a }), a);
    },
  },
  {
    id: 'context-await',
    title: 'context holds across await, setTimeout and setImmediate in the handler',
    async run(c) {
      const { a, b } = c.fixture.tenants;
      for (const tenant of [a, b]) {
        const body = assertServed(c.fixture, await c.send({ path: '/delay?ms=5', tenant }), tenant);
        assertContexts(body.contexts, tenant, `/delay for ${tenant}`);
      }
    },
  },
  {
    id: 'context-callbacks',
    title: 'context holds in setTimeout, setImmediate, nextTick, queueMicrotask and emitter callbacks',
    async run(c) {
      const { a } = c.fixture.tenants;
      const body = assertServed(c.fixture, await c.send({ path: '/timer', tenant: a }), a);
      assertContexts(body.contexts, a, '/timer');
      assert.equal(body.contexts?.length, 5, 'callbacks recorded');
    },
  },
  {
    id: 'context-stream',
    title: 'context holds while a streamed request body is read and a response is streamed',
    async run(c) {
      const { b } = c.fixture.tenants;
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 8; i += 1) {
          await sleep(3);
          yield Buffer.alloc(16 * 1024, i);
        }
      }
      const res = await c.send({ method: 'POST', path: '/stream', tenant: b, headers: { 'content-type': 'application/octet-stream' }, body: chunks() });
      assert.equal(res.status, 200, `expected 200, got ${res.status} ${res.text().slice(0, 300)}`);
      const lines = res.text().trim().split('\n').map((line) => JSON.parse(line) as HandlerAnswer & { done?: boolean; bytes?: number; requestContexts?: (string | null)[] });
      assert.equal(lines.length, 6, 'streamed lines');
      lines.forEach((line, i) => assert.equal(line.context, b, `context when writing streamed line ${i}`));
      const last = lines[5] as (typeof lines)[number];
      assert.equal(last.done, true);
      assert.equal(last.tenant, b, 'tenant exposed by the framework');
      assert.equal(last.bytes, 8 * 16 * 1024, 'request bytes received');
      assertContexts(last.requestContexts, b, 'request body chunks');
      assert.equal(c.fixture.handlerCalls(res.requestId), 1, 'handler calls');
    },
  },
  {
    id: 'context-readable-stream',
    title: 'context holds inside a ReadableStream response body that is pulled after the handler returned',
    modes: ['fetch'],
    async run(c) {
      const { b } = c.fixture.tenants;
      const res = await c.send({ path: '/readable', tenant: b });
      assert.equal(res.status, 200, `expected 200, got ${describeRequest(res)}: ${res.status} ${res.text().slice(0, 300)}`);
      const lines = res.text().trim().split('\n').map((line) => JSON.parse(line) as HandlerAnswer & { done?: boolean });
      assert.equal(lines.length, 5, `lines of ${describeRequest(res)}`);
      lines.forEach((line, i) =>
        assert.equal(line.context, b, `${describeRequest(res)}: currentTenant() in pull() of line ${i}: the server reads the body after the handler returned; read it in the tenant context (finishResponse of @tenant/core/fetch does)`),
      );
      const last = lines[4] as (typeof lines)[number];
      assert.equal(last.done, true);
      assert.equal(last.tenant, b, 'tenant exposed by the framework');
      assert.equal(c.fixture.handlerCalls(res.requestId), 1, 'handler calls');
    },
  },
  {
    id: 'large-body',
    title: 'a large request body arrives whole, in the tenant context',
    async run(c) {
      const { a } = c.fixture.tenants;
      const body = randomBytes(c.largeBodyBytes);
      const sha256 = createHash('sha256').update(body).digest('hex');
      const res = await c.send({ method: 'POST', path: '/echo', tenant: a, headers: { 'content-type': 'application/octet-stream' }, body, timeoutMs: 30_000 });
      const answer = assertServed(c.fixture, res, a);
      assert.equal(answer['bytes'], body.length, 'bytes received');
      assert.equal(answer['sha256'], sha256, 'sha256 of the body received');
    },
  },
  {
    id: 'concurrency',
    title: 'concurrent requests of interleaved tenants never cross contexts',
    async run(c) {
      const { a, b } = c.fixture.tenants;
      const plan = Array.from({ length: c.concurrency }, (_, i) => {
        const tenant = i % 3 === 0 ? a : i % 3 === 1 ? b : null;
        // Tenant-less requests go to the skipped path; every third one by path resolution.
        const path = tenant === null ? `/health/delay?ms=${i % 4}` : i % 9 === 0 ? `/t/${tenant}/delay?ms=${i % 4}` : `/delay?ms=${i % 4}`;
        return { tenant, request: c.prepare({ path, ...(tenant === null || path.startsWith('/t/') ? {} : { tenant }) }) };
      });
      const responses = await c.sendMany(plan.map((p) => p.request), { sockets: 64, timeoutMs: 60_000 });
      const crossed: string[] = [];
      responses.forEach((res, i) => {
        const { tenant, request } = plan[i] as (typeof plan)[number];
        if (res.status !== 200) {
          crossed.push(`${request.requestId}: status ${res.status}`);
          return;
        }
        const answer = res.json<HandlerAnswer>();
        const seen = [answer.tenant, answer.context, ...(answer.contexts ?? [])];
        if (seen.some((id) => id !== tenant)) crossed.push(`${request.requestId}: expected ${String(tenant)}, saw ${seen.map(String).join(',')}`);
        if (c.fixture.handlerCalls(request.requestId) !== 1) crossed.push(`${request.requestId}: handler ran ${c.fixture.handlerCalls(request.requestId)} times`);
        const resolved = c.fixture.hookLog.record(request.requestId).counts.onResolve;
        if (resolved !== (tenant === null ? 0 : 1)) crossed.push(`${request.requestId}: onResolve fired ${resolved} times`);
      });
      assert.deepEqual(crossed.slice(0, 10), [], `${crossed.length} of ${responses.length} requests went wrong`);
    },
  },
  {
    id: 'throw-no-leak',
    title: 'a handler that throws gets a 5xx and does not leak its tenant into the next requests',
    async run(c) {
      const { a, b } = c.fixture.tenants;
      // One keep-alive socket: the next requests arrive on the connection that saw the throw.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let round = 0; round < 3; round += 1) {
          const thrown = await c.send({ path: '/throw', tenant: a, agent });
          assert.ok(thrown.status >= 500 && thrown.status <= 599, `/throw answered ${thrown.status}, expected 5xx`);
          assert.equal(c.fixture.handlerCalls(thrown.requestId), 1, 'handler calls for /throw');
          assertServed(c.fixture, await c.send({ path: '/whoami', tenant: b, agent }), b);
          assertServed(c.fixture, await c.send({ path: '/health', agent }), null);
        }
      } finally {
        agent.destroy();
      }
    },
  },
  {
    id: 'path-variants',
    title: 'path variants of a guarded route (encoding, case, slashes, dot segments, matrix, encoded slash) never reach it without its policy and cost',
    async run(c) {
      const { b, unfeatured, budget } = c.fixture.tenants;
      const guards = [
        { tenant: unfeatured, what: 'policy', status: 403, code: 'policy_denied' },
        { tenant: budget, what: 'cost', status: 429, code: 'quota_exceeded' },
      ] as const;
      const failures: string[] = [];
      let routedVariants = 0;
      for (const [n, route] of GUARDED_ROUTES.entries()) {
        const method = route.method;
        const canonical = route.path.replace(/:[a-z]+/g, '42');
        // The canonical spelling: the route is mounted, and guarded by policy and by cost.
        const open = await c.send({ method, path: canonical, tenant: b });
        assert.ok(reached(open, route.path), `${method} ${canonical} did not reach the handler mounted on ${route.path} (mount setup.routes with the framework's router, calling the handler with route): ${open.status} ${open.text().slice(0, 200)}`);
        for (const guard of guards) {
          const res = await c.send({ method, path: canonical, tenant: guard.tenant });
          assertProblem(c.fixture, res, guard.status, guard.code);
        }
        const variants = pathVariants(canonical, { seed: 1 + n }).slice(1);
        await inBatches(variants, 16, async (variant: PathVariant) => {
          const where = `${method} ${variant.path} (${variant.kind})`;
          // Does the framework route it to the guarded handler? (b has no policy and no quota)
          const probe = await c.send({ method, path: variant.path, tenant: b });
          const routed = reached(probe, route.path);
          if (routed) routedVariants += 1;
          for (const guard of guards) {
            const res = await c.send({ method, path: variant.path, tenant: guard.tenant });
            if (reached(res, route.path)) {
              failures.push(`${where}: reached ${route.path} without its ${guard.what}`);
            } else if (routed && !(res.status === guard.status && problemCode(res) === guard.code) && !(res.status === 400 && problemCode(res) === 'path_invalid')) {
              failures.push(`${where}: routed to ${route.path}, but answered ${res.status} ${String(problemCode(res) ?? '')} instead of ${guard.status} ${guard.code} (its ${guard.what})`);
            }
          }
        });
      }
      assert.deepEqual(failures.slice(0, 15), [], `${failures.length} path variants escaped the guarded routes' policy or cost (${routedVariants} variants were routed to them)`);
    },
  },
]);

/** Builds the context the cases run against: over HTTP to a base URL, or to a fetch function in this process. */
export function createConformanceContext(
  target: ConformanceTarget,
  fixture: ConformanceFixture<unknown>,
  options: { concurrency?: number; largeBodyBytes?: number } = {},
): ConformanceContext {
  const concurrency = options.concurrency ?? 1000;
  const largeBodyBytes = options.largeBodyBytes ?? 4 * 1024 * 1024;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('[@tenant/adapter-testkit] concurrency must be a positive integer');
  if (!Number.isSafeInteger(largeBodyBytes) || largeBodyBytes < 1) throw new RangeError('[@tenant/adapter-testkit] largeBodyBytes must be a positive integer');
  const prepare = (request: CaseRequest = {}): TestRequest & { readonly requestId: string } => {
    const requestId = fixture.nextRequestId();
    const { tenant, ...rest } = request;
    return {
      ...rest,
      requestId,
      headers: { ...request.headers, [REQUEST_ID_HEADER]: requestId, ...(tenant === undefined ? {} : { 'x-tenant-id': tenant }) },
    };
  };
  const inProcess = typeof target !== 'string';
  const url = inProcess ? 'http://127.0.0.1' : target;
  const sendOne = (request: TestRequest): Promise<TestResponse> => (inProcess ? sendFetchRequest(target.fetch, request) : sendRequest(url, request));
  return {
    url,
    transport: inProcess ? 'in-process' : 'http',
    fixture,
    concurrency,
    largeBodyBytes,
    prepare,
    async send(request) {
      const prepared = prepare(request);
      const res = await sendOne(prepared);
      return { ...res, requestId: prepared.requestId, request: `${prepared.method ?? 'GET'} ${prepared.path ?? '/'}` };
    },
    sendMany(requests, manyOptions = {}) {
      if (!inProcess) return sendMany(url, requests, manyOptions);
      return Promise.all(requests.map((request) => sendOne({ ...request, timeoutMs: request.timeoutMs ?? manyOptions.timeoutMs ?? 10_000 })));
    },
  };
}
