import { checkQuotaCost, createHookRunner, type QuotaCost, type QuotaResult, type QuotaTicket, type TenantQuota } from '@tenant/core';
import { createMemorySlidingQuota } from '../memory/memory-quota.js';
import { checkLimits, createSettledSet, isUnlimited, toResult, ticketNumber, UNLIMITED, type Checks, type DimensionCheck } from '../result.js';
import type { FailurePolicy, RedisQuota, RedisQuotaClient, RedisQuotaOptions, RedisSlidingQuotaOptions, SlidingAlgorithm } from '../types.js';
import { createGuard, type Guard } from './guard.js';
import { keySlot, logKey, tenantStem } from './keys.js';
import { LOG_CHECK, LOG_SETTLE, WINDOW_CHECK, WINDOW_CHECK_ONE, WINDOW_SETTLE } from './scripts.js';

type Command = (...args: (string | number)[]) => Promise<unknown>;
type Algorithm = SlidingAlgorithm | 'fixed';

/** Script command names on the client: versioned, so two releases never share a name with different scripts. */
const COMMANDS = {
  windowCheck: 'tenantQuotaWindowCheckV2',
  windowCheckOne: 'tenantQuotaWindowCheckOneV1',
  windowSettle: 'tenantQuotaWindowSettleV1',
  logCheck: 'tenantQuotaLogCheckV1',
  logSettle: 'tenantQuotaLogSettleV1',
} as const;

const FAILURE_POLICIES: readonly FailurePolicy[] = ['closed', 'open', 'fallback'];
const VIA_FALLBACK = 'fallback';
const CLOSED: QuotaResult = Object.freeze({ allowed: false, reason: 'backend_unavailable', retryAfterMs: undefined, dimensions: Object.freeze({}) });
const OPEN: QuotaResult = Object.freeze({ allowed: true, degraded: 'fail_open', retryAfterMs: 0, dimensions: Object.freeze({}) });

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  // Node fires a timer longer than 2^31 - 1 ms at once.
  if (typeof value !== 'number' || !(value > 0) || !(value <= 2_147_483_647)) throw new RangeError(`[@tenant/quota-sliding] ${name} must be a positive number of milliseconds, at most 2147483647`);
  return value;
}

function command(client: RedisQuotaClient, name: string): Command {
  const fn = (client as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new TypeError(`[@tenant/quota-sliding] The Redis client did not define the ${name} command (is it an ioredis client?)`);
  return (...args) => (fn as Command).apply(client, args);
}

/**
 * The node that serves a key: `host:port` of the slot's master as the
 * ioredis `Cluster` last mapped it (`slot:<n>` before it knows), or `''` for
 * a single Redis (one node: one health state).
 */
function nodeOf(client: RedisQuotaClient, key: string): string {
  const { slots, options } = client as { slots?: unknown; options?: { keyPrefix?: unknown } };
  if (!Array.isArray(slots)) return '';
  // The client puts its keyPrefix before every key: Redis hashes the whole key.
  const slot = keySlot(typeof options?.keyPrefix === 'string' ? options.keyPrefix + key : key);
  const owner = (slots[slot] as unknown[] | undefined)?.[0];
  return typeof owner === 'string' ? owner : `slot:${slot}`;
}

const dimension = (reply: readonly unknown[], at: number, limit: TenantQuota['requests'], want: number): DimensionCheck | undefined =>
  limit === undefined
    ? undefined
    : {
        limit,
        want,
        wait: Number(reply[at]),
        remainingBefore: Number(reply[at + 1]),
        remainingAfter: Number(reply[at + 2]),
        resetAt: Number(reply[at + 3]),
        data: typeof reply[at + 4] === 'string' ? (reply[at + 4] as string) : Number(reply[at + 4]),
      };

function createRedisQuota(options: RedisQuotaOptions, algorithm: Algorithm): RedisQuota {
  if (typeof options !== 'object' || options === null || typeof options.client?.defineCommand !== 'function') {
    throw new TypeError('[@tenant/quota-sliding] A Redis quota needs an ioredis client: { client: new Redis(url) }');
  }
  const { client } = options;
  const prefix = options.prefix ?? 'tq:';
  if (typeof prefix !== 'string') throw new TypeError('[@tenant/quota-sliding] prefix must be a string');
  const policy = options.onFailure ?? 'closed';
  if (!FAILURE_POLICIES.includes(policy)) throw new TypeError(`[@tenant/quota-sliding] onFailure must be one of ${FAILURE_POLICIES.join(', ')}`);
  const fallback = policy === 'fallback' ? (options.fallback ?? createMemorySlidingQuota()) : undefined;
  if (fallback !== undefined && typeof fallback.consumeSync !== 'function') throw new TypeError('[@tenant/quota-sliding] fallback must be an in-process manager with consumeSync');
  const hooks = createHookRunner(options.hooks);
  const timeoutMs = positive(options.timeoutMs, 250, 'timeoutMs');
  const retryIntervalMs = positive(options.retryIntervalMs, 1_000, 'retryIntervalMs');
  const { onStateChange } = options;

  // One health state per Redis node: on a Cluster, a node that fails sends
  // only the tenants whose slots it serves to the failure policy.
  const guards = new Map<string, Guard>();
  const guardOf = (key: string): Guard => {
    const node = nodeOf(client, key);
    let guard = guards.get(node);
    if (guard === undefined) {
      guard = createGuard({
        node,
        timeoutMs,
        retryIntervalMs,
        report: (error, phase, tenantId) => hooks.error({ phase, error, tenantId }),
        onStateChange: onStateChange === undefined ? undefined : (state, error) => onStateChange(state, error, node),
      });
      guards.set(node, guard);
    }
    return guard;
  };

  // A node that serves no slot any more (a failover promoted its replica, the
  // Cluster was resharded) is forgotten, so it cannot keep the manager `down`.
  const forgetGoneNodes = () => {
    const { slots } = client as { slots?: unknown };
    if (!Array.isArray(slots)) return;
    const owners = new Set<unknown>();
    for (const nodes of slots as (unknown[] | undefined)[]) owners.add(nodes?.[0]);
    for (const node of guards.keys()) {
      const gone = node.startsWith('slot:') ? typeof (slots[Number(node.slice(5))] as unknown[] | undefined)?.[0] === 'string' : !owners.has(node);
      if (gone) guards.delete(node);
    }
  };

  const isLog = algorithm === 'log';
  const kind = algorithm === 'fixed' ? 'fw' : algorithm === 'counter' ? 'sw' : 'sl';
  const sliding = algorithm === 'counter' ? 1 : 0;
  if (isLog) {
    client.defineCommand(COMMANDS.logCheck, { numberOfKeys: 3, lua: LOG_CHECK });
    client.defineCommand(COMMANDS.logSettle, { numberOfKeys: 3, lua: LOG_SETTLE });
  } else {
    client.defineCommand(COMMANDS.windowCheck, { numberOfKeys: 1, lua: WINDOW_CHECK });
    client.defineCommand(COMMANDS.windowSettle, { numberOfKeys: 1, lua: WINDOW_SETTLE });
    client.defineCommand(COMMANDS.windowCheckOne, { numberOfKeys: 1, lua: WINDOW_CHECK_ONE });
  }
  // The one-dimension script, called directly: (key, sliding, 'r' | 't', limit, windowMs, want).
  const checkOne = isLog ? undefined : command(client, COMMANDS.windowCheckOne);
  const check = command(client, isLog ? COMMANDS.logCheck : COMMANDS.windowCheck);
  const settleCommand = command(client, isLog ? COMMANDS.logSettle : COMMANDS.windowSettle);

  const keysOf = (tenantId: string, limits: TenantQuota): string[] => {
    const stem = `${tenantStem(prefix, tenantId)}:${kind}`;
    return isLog ? [stem, logKey(stem, 'requests', limits), logKey(stem, 'tokens', limits)] : [stem];
  };

  const degraded = (tenantId: string, cost: QuotaCost, limits: TenantQuota): QuotaResult => {
    if (fallback === undefined) return policy === 'open' ? OPEN : CLOSED;
    const result = fallback.consumeSync(tenantId, cost, limits);
    const { ticket } = result;
    return ticket === undefined ? { ...result, degraded: 'fallback' } : { ...result, degraded: 'fallback', ticket: { ...ticket, data: { ...ticket.data, via: VIA_FALLBACK } } };
  };

  const consumeOne = async (tenantId: string, cost: QuotaCost, limits: TenantQuota, d: 'r' | 't'): Promise<QuotaResult> => {
    const key = `${tenantStem(prefix, tenantId)}:${kind}`;
    const guard = guardOf(key);
    if (guard.skip()) return degraded(tenantId, cost, limits);
    const limit = (d === 'r' ? limits.requests : limits.tokens)!;
    const want = (d === 'r' ? cost.requests : cost.tokens) ?? 0;
    const answer = await guard.run(() => checkOne!(key, sliding, d, limit.limit, limit.windowMs, want), 'quota', tenantId);
    if (!answer.ok) return degraded(tenantId, cost, limits);
    const reply = answer.value as readonly number[];
    const now = Number(reply[0]);
    const wait = Number(reply[1]);
    const start = now - (now % limit.windowMs);
    const check: DimensionCheck = { limit, want, wait, remainingBefore: Number(reply[2]), remainingAfter: Number(reply[3]), resetAt: start + limit.windowMs, data: start };
    const checks: Checks = d === 'r' ? { requests: check, tokens: undefined } : { requests: undefined, tokens: check };
    return toResult(tenantId, cost, limits, now, checks, wait === 0);
  };

  const consume = async (tenantId: string, cost: QuotaCost, limits: TenantQuota): Promise<QuotaResult> => {
    if (typeof tenantId !== 'string' || tenantId === '') throw new TypeError('[@tenant/quota-sliding] tenantId must be a non-empty string');
    checkQuotaCost(cost);
    checkLimits(limits);
    if (isUnlimited(limits)) return UNLIMITED;
    const { requests: r, tokens: t } = limits;
    // One limited dimension on a window counter: the smaller script, one round trip, as atomic.
    if (checkOne !== undefined && (r === undefined || t === undefined)) return consumeOne(tenantId, cost, limits, r === undefined ? 't' : 'r');
    const args: (string | number)[] = keysOf(tenantId, limits);
    const guard = guardOf(args[0] as string);
    if (guard.skip()) return degraded(tenantId, cost, limits);
    if (!isLog) args.push(sliding);
    args.push(r?.limit ?? -1, r?.windowMs ?? 0, cost.requests ?? 0, t?.limit ?? -1, t?.windowMs ?? 0, cost.tokens ?? 0);
    const answer = await guard.run(() => check(...args), 'quota', tenantId);
    if (!answer.ok) return degraded(tenantId, cost, limits);
    const reply = answer.value as readonly unknown[];
    const checks: Checks = { requests: dimension(reply, 2, r, cost.requests ?? 0), tokens: dimension(reply, 7, t, cost.tokens ?? 0) };
    return toResult(tenantId, cost, limits, Number(reply[0]), checks, Number(reply[1]) === 1);
  };

  const firstSettle = createSettledSet();
  const settle = async (ticket: QuotaTicket, actual: QuotaCost): Promise<void> => {
    if (typeof ticket !== 'object' || ticket === null || typeof ticket.tenantId !== 'string') throw new TypeError('[@tenant/quota-sliding] settle needs the ticket of an admitted result');
    checkQuotaCost(actual, 'actual cost');
    if (!firstSettle(ticket)) return;
    if (ticket.data?.['via'] === VIA_FALLBACK) {
      if (fallback !== undefined) await fallback.settle(ticket, actual);
      return;
    }
    const args: (string | number)[] = keysOf(ticket.tenantId, ticket.limits);
    if (!isLog) args.push(sliding);
    let any = false;
    for (const d of ['requests', 'tokens'] as const) {
      const limit = ticket.limits[d];
      const real = actual[d];
      const delta = limit === undefined || real === undefined ? 0 : real - (ticket.cost[d] ?? 0);
      if (delta !== 0) any = true;
      const data = ticket.data?.[d];
      args.push(isLog ? (typeof data === 'string' ? data : '') : (ticketNumber(ticket, d) ?? -1), limit?.windowMs ?? 0, delta);
    }
    if (!any) return;
    // A settlement Redis cannot take is reported through the hooks and dropped:
    // it must never fail the response it follows.
    const guard = guardOf(args[0] as string);
    if (guard.skip()) return;
    await guard.run(() => settleCommand(...args), 'settle', ticket.tenantId);
  };

  return Object.freeze({
    algorithm,
    prefix,
    get state() {
      forgetGoneNodes();
      for (const guard of guards.values()) if (guard.state === 'down') return 'down';
      return 'up';
    },
    get nodes() {
      forgetGoneNodes();
      return new Map([...guards].map(([node, guard]) => [node, guard.state]));
    },
    consume,
    settle,
  });
}

/**
 * Creates a sliding-window quota manager on Redis, shared by every process
 * that uses the same Redis and prefix. Each check is one Lua script in one
 * round trip (EVALSHA, EVAL after a NOSCRIPT), timed by Redis `TIME`; all of
 * a tenant's keys share one `{tenant}` hash tag, so it works on Redis
 * Cluster. Semantics are core's: requests and tokens checked together, all
 * or nothing; a rejected request consumes nothing; `retryAfterMs` for this
 * request's cost; limits passed per call.
 *
 * When Redis fails or is slower than `timeoutMs`, `onFailure` decides:
 * `closed` (default, `reason: 'backend_unavailable'`), `open`
 * (`degraded: 'fail_open'`) or `fallback` to an in-memory limiter
 * (`degraded: 'fallback'`). Failures go to the hooks' `onError`; the manager
 * recovers by itself when Redis answers again. Health is kept per node: on
 * a Cluster, only the tenants whose slots a failed master serves get the
 * failure policy; the others are counted in Redis as usual.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createTenancy, createMemoryTenantStore } from '@tenant/core';
 * import { createRedisSlidingQuota } from '@tenant/quota-sliding';
 *
 * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true });
 * const quota = createRedisSlidingQuota({ client, onFailure: 'fallback' });
 * const tenancy = createTenancy({ store: createMemoryTenantStore(), quota });
 * ```
 */
export function createRedisSlidingQuota(options: RedisSlidingQuotaOptions): RedisQuota {
  const algorithm = options?.algorithm ?? 'counter';
  if (algorithm !== 'counter' && algorithm !== 'log') throw new TypeError(`[@tenant/quota-sliding] algorithm must be 'counter' or 'log', not ${String(algorithm)}`);
  return createRedisQuota(options, algorithm);
}

/**
 * Creates a fixed-window quota manager on Redis: core's fixed window
 * (windows aligned to epoch multiples of their length, the same result
 * shape), shared by many processes, with the same scripts, Cluster layout
 * and failure policy as {@link createRedisSlidingQuota}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisFixedWindowQuota } from '@tenant/quota-sliding';
 *
 * const quota = createRedisFixedWindowQuota({ client: new Redis(process.env.REDIS_URL, { enableOfflineQueue: false }) });
 * await quota.consume('acme', { requests: 1 }, { requests: { limit: 100, windowMs: 60_000 } });
 * ```
 */
export function createRedisFixedWindowQuota(options: RedisQuotaOptions): RedisQuota {
  return createRedisQuota(options, 'fixed');
}
