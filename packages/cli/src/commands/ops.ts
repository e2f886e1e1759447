import { createLayeredTenantStore, type CacheErrorEvent } from '@tenant/cache';
import { CliError, EXIT_CODES, isUnreachable, messageOf, toCliError, usageError } from '../errors.js';
import { table } from '../output.js';
import { choice, intOption, str, type Command } from '../command.js';
import { redactUrl } from '../target.js';
import { storeMigrations } from './migrate.js';

const warm: Command = {
  name: 'cache warm',
  summary: "copy tenant configs into the Redis layer of @tenant/cache's layered store",
  args: '[options]',
  positionals: [0, 0],
  options: { status: { type: 'string' }, 'redis-prefix': { type: 'string' }, 'redis-ttl': { type: 'string' } },
  optionHelp: [
    ['--status active|all', 'which tenants: active ones (default) or all, deleted included'],
    ['--redis-prefix <prefix>', "the layered store's key prefix (its `prefix` option; default tenant:)"],
    ['--redis-ttl <ms>', "how long the copies live (its `redisTtlMs`; default 300000)"],
  ],
  notes: [
    'Needs --redis or TENANT_REDIS_URL. Use the prefix and TTL your services give createLayeredTenantStore,',
    'so that their first lookups are answered from Redis. Redis failures exit 3.',
  ],
  examples: ['tenant cache warm --redis redis://127.0.0.1:6379', 'TENANT_REDIS_URL=redis://cache:6379 tenant cache warm --status all --redis-prefix myapp:tenant:'],
  async run(ctx) {
    if (ctx.redisUrl === undefined) throw usageError('cache warm needs Redis: give --redis <url> or set TENANT_REDIS_URL');
    const tenants = choice(ctx, 'status', ['active', 'all'], 'active');
    const prefix = str(ctx, 'redis-prefix') ?? 'tenant:';
    const redisTtlMs = intOption(ctx, 'redis-ttl', 300_000) as number;
    const store = await ctx.store();
    const [redis, subscriber] = [await ctx.redis(), await ctx.redis()];
    const failures: CacheErrorEvent[] = [];
    let layered: ReturnType<typeof createLayeredTenantStore>;
    try {
      layered = createLayeredTenantStore(store, { redis, subscriber, prefix, redisTtlMs, onError: (event) => failures.push(event) });
    } catch (error) {
      throw usageError(messageOf(error));
    }
    let count: number;
    try {
      await layered.ready();
      count = await layered.warm({ tenants });
    } finally {
      await layered.close();
    }
    const failure = failures[0];
    if (failure !== undefined) {
      throw new CliError('unreachable', `Redis failed during the warm-up (${failures.length} errors): ${messageOf(failure.error)}`, EXIT_CODES.unreachable, { cause: failure.error });
    }
    ctx.out.result(`warmed ${count} tenants into ${redactUrl(ctx.redisUrl)} (prefix ${prefix}, ttl ${redisTtlMs} ms)`, { warmed: count, prefix, redisTtlMs });
  },
};

interface Check {
  readonly name: 'store' | 'redis';
  readonly target: string;
  readonly ok: boolean;
  readonly reachable: boolean;
  readonly latencyMs: number;
  readonly detail: string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function check(name: Check['name'], target: string, ms: number, probe: () => Promise<{ ok: boolean; detail: string }>): Promise<Check> {
  const started = performance.now();
  try {
    const { ok, detail } = await withTimeout(probe(), ms, name);
    return { name, target, ok, reachable: true, latencyMs: Math.round(performance.now() - started), detail };
  } catch (error) {
    const reachable = !isUnreachable(error) && !(error instanceof CliError && error.exitCode === EXIT_CODES.unreachable);
    // Down: the reason alone (the target is in its own column); up but failing: the whole explanation.
    const message = reachable ? toCliError(error).message : messageOf(error instanceof CliError && error.cause !== undefined ? error.cause : error);
    return { name, target, ok: false, reachable, latencyMs: Math.round(performance.now() - started), detail: message };
  }
}

const health: Command = {
  name: 'health',
  summary: 'check the configured backends: the store (and its migrations) and Redis',
  args: '[options]',
  positionals: [0, 0],
  notes: [
    'Redis is checked when --redis or TENANT_REDIS_URL is set.',
    'Exit 0: every check passed; 3: a backend cannot be reached (or refused the login); 1: reachable but not',
    'healthy (store tables missing or migrations pending). Each check is bounded by --timeout.',
  ],
  examples: ['tenant health', 'tenant health --url postgres://app@db/app --redis redis://cache:6379 --json'],
  async run(ctx) {
    const checks: Check[] = [];
    checks.push(
      await check('store', ctx.target.label, ctx.timeoutMs, async () => {
        const db = await ctx.db();
        const { sql } = await import('kysely');
        await sql`select 1`.execute(db);
        const migrations = await storeMigrations(db, ctx.tablePrefix);
        const pending = migrations.filter((m) => m.executedAt === null).length;
        if (pending === migrations.length) return { ok: false, detail: 'reachable, but the tenant tables do not exist: run `tenant migrate up`' };
        if (pending > 0) return { ok: false, detail: `reachable, but ${pending} store migrations are pending: run \`tenant migrate up\`` };
        return { ok: true, detail: `${migrations.length} migration${migrations.length === 1 ? '' : 's'} applied` };
      }),
    );
    if (ctx.redisUrl !== undefined) {
      const url = ctx.redisUrl;
      checks.push(
        await check('redis', redactUrl(url), ctx.timeoutMs, async () => {
          const redis = await ctx.redis();
          const pong = await redis.ping();
          return { ok: pong === 'PONG', detail: pong === 'PONG' ? 'PONG' : `unexpected PING answer ${pong}` };
        }),
      );
    }
    const ok = checks.every((c) => c.ok);
    ctx.out.result(
      table(['CHECK', 'STATUS', 'TARGET', 'MS', 'DETAIL'], checks.map((c) => [c.name, c.ok ? 'ok' : c.reachable ? 'FAIL' : 'DOWN', c.target, String(c.latencyMs), c.detail])),
      { ok, checks },
    );
    const down = checks.find((c) => !c.reachable);
    if (down !== undefined) throw new CliError('unreachable', `${down.name} unreachable: ${down.detail}`, EXIT_CODES.unreachable);
    const failed = checks.find((c) => !c.ok);
    if (failed !== undefined) throw new CliError('unhealthy', `${failed.name}: ${failed.detail}`, EXIT_CODES.failure);
  },
};

export const opsCommands: readonly Command[] = [warm, health];
