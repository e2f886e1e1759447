import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createMemoryTenantStore, TenantError, type MemoryTenantStoreOptions, type TenantStore } from '@tenant/core';

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/**
 * The real in-memory store, with a switch that makes reads fail as a database
 * that is down would, and counters of the reads that reached it.
 */
export function observedStore(options: MemoryTenantStoreOptions = {}) {
  const inner = createMemoryTenantStore(options);
  const state = { down: false, gets: 0, domainGets: 0, lists: 0 };
  const refuse = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
  const store: TenantStore = {
    ...inner,
    get(id) {
      state.gets += 1;
      return state.down ? refuse() : inner.get(id);
    },
    getByDomain(domain) {
      state.domainGets += 1;
      return state.down ? refuse() : inner.getByDomain(domain);
    },
    list(query) {
      state.lists += 1;
      return state.down ? refuse() : inner.list(query);
    },
  };
  return { store, inner, state };
}

export const isStoreUnavailable = (error: unknown) => TenantError.is(error, 'store_unavailable') && error.status === 503;

/** A unique prefix per test run, for keys on the shared Redis. */
export const runPrefix = (name: string) => `test:${name}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A fail-fast ioredis client (the settings the README recommends). */
export function fastRedis(url: string = REDIS_URL): Redis {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: () => 50 });
  // Connection errors surface as failed commands; the event itself is noise here.
  client.on('error', () => undefined);
  return client;
}

/** A connection for pub/sub: it queues while reconnecting, so it re-subscribes by itself. */
export function subscriberRedis(url: string = REDIS_URL): Redis {
  const client = new Redis(url, { retryStrategy: () => 50 });
  client.on('error', () => undefined);
  return client;
}

/** Resolves once the client is ready; fails the test if it can not connect. */
export async function connected(client: Redis): Promise<Redis> {
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

/** Deletes every key under `prefix` (our own keys only, never a flush). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Every redis-server we started and that still runs: killed when this test
// process exits, however it exits.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** A redis-server of our own on a free port, for outage tests: stop(), start(), pause() and resume() it at will. */
export async function ownRedis() {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tenant-cache-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    child = started;
    live.add(started);
    started.once('exit', () => live.delete(started));
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    probe.disconnect();
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    running.kill('SIGCONT'); // a frozen process dies at once either way
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
    pause: () => void child?.kill('SIGSTOP'),
    /** Thaws it (SIGCONT). */
    resume: () => void child?.kill('SIGCONT'),
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` passes (polling), or fails after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
