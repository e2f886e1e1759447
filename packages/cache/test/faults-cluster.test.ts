// Fault: the layered store on a 3-master Redis Cluster of our own, one master
// killed (`cluster-require-full-coverage no`) and started again. There is no
// switch for the whole Redis layer: every command succeeds or fails on its
// own, so only the keys of the dead master fall through to the store, the
// others are still served from Redis, invalidations still reach every
// instance, and the master's keys are used again once it is back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import type { TenantStore } from '@tenant/core';
import { createLayeredTenantStore, type LayeredTenantStore } from '../src/index.js';
import { keySlot } from '../src/keys.js';
import { eventually, observedStore } from './helpers.js';
import { startCluster, type OwnCluster } from '../../quota-sliding/test/helpers/redis-server.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let cluster: OwnCluster;
const clients: (Cluster | Redis)[] = [];
const stores: LayeredTenantStore[] = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  cluster = await startCluster(3, ['--cluster-require-full-coverage', 'no']);
}, 60_000);

afterAll(async () => {
  for (const store of stores) await store.close();
  for (const client of clients) client.disconnect();
  await cluster?.destroy();
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

async function commands(): Promise<Cluster> {
  const client = new Cluster(
    cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    // A command timeout well above what a busy CI machine needs for a healthy node.
    { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1_500 }, clusterRetryStrategy: () => 100 },
  );
  client.on('error', () => undefined);
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
  return client;
}

// A plain connection to the first node: PUBLISH on a Cluster reaches every node's subscribers.
async function subscriber(): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port: cluster.nodes[0]!.port, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

it('one dead master: only its keys fall through to the store, invalidations still spread, and it recovers', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => `tenant-${i}`);
  const { store, state } = observedStore({ tenants: ids.map((id) => ({ id, plan: 'free' })) });
  const loaded: string[] = [];
  const source: TenantStore = {
    ...store,
    get: (id) => {
      loaded.push(id);
      return store.get(id);
    },
  };
  const prefix = 'lc:';
  const redisOfA = await commands();
  const make = async (from: TenantStore, redis: Cluster) => {
    const layered = createLayeredTenantStore(from, { redis, subscriber: await subscriber(), prefix, memory: { ttlMs: 60_000, timeoutMs: 5_000 } });
    stores.push(layered);
    await layered.ready();
    return layered;
  };
  const a = await make(source, redisOfA);
  // b is another process: it does not see a's change feed, only Redis pub/sub.
  const b = await make({ ...source, subscribe: () => () => undefined }, await commands());

  const victim = cluster.nodes[1]!;
  const victimKey = `127.0.0.1:${victim.port}`;
  const onVictim = new Set<string>();
  for (const id of ids) {
    const slot = Number(await redisOfA.call('CLUSTER', 'KEYSLOT', `${prefix}id:${id}`));
    expect(keySlot(`${prefix}id:${id}`)).toBe(slot);
    if (redisOfA.slots[slot]![0] === victimKey) onVictim.add(id);
  }
  expect(onVictim.size).toBeGreaterThan(3);
  expect(onVictim.size).toBeLessThan(ids.length - 3);

  // a loads every tenant (into Redis); b then finds them all in Redis.
  for (const id of ids) await a.get(id);
  loaded.length = 0;
  for (const id of ids) expect((await b.get(id))?.id).toBe(id);
  expect(loaded).toEqual([]);

  await victim.stop();
  const before = b.stats().redis;
  for (const id of ids) {
    b.invalidate(id); // this process only: the next lookup asks Redis
    expect((await b.get(id))?.id).toBe(id);
  }
  // Only the dead master's tenants went to the store; the others came from Redis.
  expect(new Set(loaded)).toEqual(onVictim);
  const after = b.stats().redis;
  expect(after.hits - before.hits).toBe(ids.length - onVictim.size);
  // The dead master was asked, failed, and then skipped for a while rather than asked for every key.
  expect(after.errors - before.errors + (after.skips - before.skips)).toBe(onVictim.size);
  expect(after.skips - before.skips).toBeGreaterThan(0);

  // A change to a tenant whose key lives on the dead master still reaches b.
  const [changed] = [...onVictim];
  await a.update(changed!, { plan: 'pro' });
  await eventually(() => b.peek(changed!) === undefined);
  expect((await b.get(changed!))?.plan).toBe('pro');
  // And one on a healthy master, as always.
  const healthy = ids.find((id) => !onVictim.has(id))!;
  await a.update(healthy, { plan: 'pro' });
  await eventually(() => b.peek(healthy) === undefined);
  expect((await b.get(healthy))?.plan).toBe('pro');

  // The master comes back (empty: no persistence). Its keys are used again.
  await victim.start();
  await eventually(async () => {
    b.invalidate(changed!);
    const hits = b.stats().redis.hits;
    await b.get(changed!);
    return b.stats().redis.hits > hits;
  }, 20_000);
  expect(state.gets).toBeGreaterThan(0);
  expect(unhandled).toEqual([]);
}, 60_000);
