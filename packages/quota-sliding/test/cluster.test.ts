// A local 3-node Redis Cluster of our own: every check is one script on one
// slot (the tenant's hash tag), for many tenants spread over all nodes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { createRedisFixedWindowQuota, createRedisSlidingQuota, type RedisQuota } from '../src/index.js';
import { startCluster, type OwnCluster } from './helpers/redis-server.js';

let cluster: OwnCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startCluster(3);
  client = new Cluster(
    cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    { enableOfflineQueue: false, enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 } },
  );
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.destroy();
});

it('runs every algorithm on a 3-node Cluster with no CROSSSLOT, exactly', async () => {
  const errors: unknown[] = [];
  const hooks = { onError: (e: { error: unknown }) => void errors.push(e.error) };
  const managers: RedisQuota[] = [
    createRedisSlidingQuota({ client, hooks, timeoutMs: 2_000 }),
    createRedisSlidingQuota({ client, hooks, algorithm: 'log', timeoutMs: 2_000 }),
    createRedisFixedWindowQuota({ client, hooks, timeoutMs: 2_000 }),
  ];
  const limits = { requests: { limit: 10, windowMs: 3_600_000 }, tokens: { limit: 100, windowMs: 3_600_000 } };
  const tenants = Array.from({ length: 30 }, (_, i) => `tenant-${i}`);
  for (const quota of managers) {
    const results = await Promise.all(tenants.flatMap((tenant) => Array.from({ length: 15 }, () => quota.consume(tenant, { requests: 1, tokens: 5 }, limits))));
    expect(results.filter((r) => r.reason === 'backend_unavailable')).toEqual([]);
    for (const tenant of tenants) {
      const admitted = results.filter((r) => r.ticket?.tenantId === tenant);
      expect(admitted).toHaveLength(10);
    }
    const ticket = results.find((r) => r.ticket)!.ticket!;
    await quota.settle(ticket, { requests: 1, tokens: 0 });
    expect((await quota.consume(ticket.tenantId, { tokens: 0 }, limits)).dimensions.tokens?.remaining).toBe(100 - 50 + 5);
  }
  // One limited dimension: the window counters' one-dimension script, as exact.
  const one = { tokens: { limit: 50, windowMs: 3_600_000 } };
  for (const algorithm of ['counter', 'log', 'fixed'] as const) {
    const quota = algorithm === 'fixed' ? createRedisFixedWindowQuota({ client, hooks, prefix: 'one:', timeoutMs: 2_000 }) : createRedisSlidingQuota({ client, hooks, algorithm, prefix: 'one:', timeoutMs: 2_000 });
    const results = await Promise.all(tenants.flatMap((tenant) => Array.from({ length: 15 }, () => quota.consume(tenant, { requests: 1, tokens: 5 }, one))));
    expect(results.filter((r) => r.reason === 'backend_unavailable')).toEqual([]);
    for (const tenant of tenants) expect(results.filter((r) => r.ticket?.tenantId === tenant)).toHaveLength(10);
  }
  expect(errors).toEqual([]);
  // The tenants really spread over the nodes.
  const nodesWithKeys = await Promise.all(client.nodes('master').map(async (node) => (await node.dbsize()) > 0));
  expect(nodesWithKeys.filter(Boolean).length).toBe(3);
}, 60_000);
