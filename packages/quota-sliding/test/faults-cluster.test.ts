// Fault: one master of a 3-master Redis Cluster of our own is killed under
// load (`cluster-require-full-coverage no`, so the others keep serving their
// slots), then started again. Health is per node: only the tenants of the
// dead master get the failure policy, the others are counted in Redis as if
// nothing happened, no state flaps, and everything recovers by itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { createRedisSlidingQuota, type BackendState, type FailurePolicy, type RedisQuota } from '../src/index.js';
import { keySlot, tenantStem } from '../src/redis/keys.js';
import { startCluster, type OwnCluster } from './helpers/redis-server.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let cluster: OwnCluster;
let client: Cluster;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  cluster = await startCluster(3, ['--cluster-require-full-coverage', 'no']);
  client = new Cluster(
    cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    { enableOfflineQueue: false, enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 1 }, clusterRetryStrategy: () => 100 },
  );
  client.on('error', () => undefined); // node errors reach us through the managers
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  client?.disconnect();
  await cluster?.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('computes the slot of every key as Redis does', async () => {
  const keys = ['plain', '{}', 'a{}b{c}', '{x}', 'tq:{acme}:sw', 'é{ü}ñ', ''];
  for (let i = 0; i < 200; i++) keys.push(tenantStem(`p${i % 3 === 0 ? '{' : ''}:`, `tenant-${i}-${'{}%'.charAt(i % 4)}`));
  for (const key of keys) expect(keySlot(key), key).toBe(Number(await client.call('CLUSTER', 'KEYSLOT', key)));
});

it('one dead master: only its tenants get the failure policy, without flapping, and it recovers', async () => {
  const policies: readonly FailurePolicy[] = ['closed', 'open', 'fallback'];
  const changes = new Map<FailurePolicy, [BackendState, string][]>();
  const reported = new Map<FailurePolicy, number>();
  const managers = new Map<FailurePolicy, RedisQuota>();
  for (const policy of policies) {
    changes.set(policy, []);
    reported.set(policy, 0);
    managers.set(
      policy,
      createRedisSlidingQuota({
        client,
        prefix: `f${policy}:`,
        onFailure: policy,
        // Well above what a busy CI machine needs for a healthy node: a check that
        // times out there would (rightly) count as a failure of that node.
        timeoutMs: 1_000,
        retryIntervalMs: 200,
        hooks: { onError: () => void reported.set(policy, reported.get(policy)! + 1) },
        onStateChange: (state, _error, node) => void changes.get(policy)!.push([state, node]),
      }),
    );
  }
  const limits = { requests: { limit: 1_000_000, windowMs: 3_600_000 } };
  const tenants = Array.from({ length: 90 }, (_, i) => `tenant-${i}`);
  const nodeOfTenant = (policy: FailurePolicy, tenant: string) => client.slots[keySlot(tenantStem(`f${policy}:`, tenant))]![0]!;

  // Warm: every tenant admitted, counted in Redis, on every node.
  for (const quota of managers.values()) {
    const results = await Promise.all(tenants.map((t) => quota.consume(t, { requests: 1 }, limits)));
    expect(results.every((r) => r.allowed && r.degraded === undefined)).toBe(true);
  }
  const victim = cluster.nodes[1]!;
  const victimKey = `127.0.0.1:${victim.port}`;
  const onVictim = (policy: FailurePolicy) => tenants.filter((t) => nodeOfTenant(policy, t) === victimKey);
  for (const policy of policies) expect(onVictim(policy).length).toBeGreaterThan(5);

  await victim.stop();
  type Outcome = { policy: FailurePolicy; tenant: string; victim: boolean; allowed: boolean; reason?: string | undefined; degraded?: string | undefined };
  const outcomes: Outcome[] = [];
  // Load for ~3 s: past the cluster's node timeout (2 s), when the others mark the master failed.
  const until = Date.now() + 3_000;
  while (Date.now() < until) {
    await Promise.all(
      policies.flatMap((policy) =>
        tenants.map(async (tenant) => {
          const r = await managers.get(policy)!.consume(tenant, { requests: 1 }, limits);
          outcomes.push({ policy, tenant, victim: nodeOfTenant(policy, tenant) === victimKey, allowed: r.allowed, reason: r.reason, degraded: r.degraded });
        }),
      ),
    );
    await sleep(20);
  }
  for (const policy of policies) {
    const mine = outcomes.filter((o) => o.policy === policy);
    const healthy = mine.filter((o) => !o.victim);
    const hit = mine.filter((o) => o.victim);
    expect(healthy.length).toBeGreaterThan(100);
    expect(hit.length).toBeGreaterThan(20);
    // Tenants of healthy masters: counted in Redis, exactly as before.
    expect(healthy.filter((o) => !o.allowed || o.degraded !== undefined)).toEqual([]);
    // Tenants of the dead master: the policy, every time.
    if (policy === 'closed') expect(hit.every((o) => !o.allowed && o.reason === 'backend_unavailable')).toBe(true);
    if (policy === 'open') expect(hit.every((o) => o.allowed && o.degraded === 'fail_open')).toBe(true);
    if (policy === 'fallback') expect(hit.every((o) => o.allowed && o.degraded === 'fallback')).toBe(true);
    // One transition, for the dead master only: no flapping.
    expect(changes.get(policy)).toEqual([['down', victimKey]]);
    const quota = managers.get(policy)!;
    expect(quota.state).toBe('down');
    expect(quota.nodes.get(victimKey)).toBe('down');
    expect([...quota.nodes].filter(([node, state]) => node !== victimKey && state !== 'up')).toEqual([]);
    expect(reported.get(policy)).toBeGreaterThanOrEqual(1);
  }

  // The master comes back (with its slots, from nodes.conf; its counters are gone: no persistence).
  await victim.start();
  const back = async () => {
    for (let attempt = 0; attempt < 150; attempt++) {
      const results = await Promise.all(
        policies.flatMap((policy) => onVictim(policy).map((t) => managers.get(policy)!.consume(t, { requests: 1 }, limits))),
      );
      if (results.every((r) => r.allowed && r.degraded === undefined)) return true;
      await sleep(100);
    }
    return false;
  };
  expect(await back()).toBe(true);
  for (const policy of policies) {
    expect(changes.get(policy)).toEqual([
      ['down', victimKey],
      ['up', victimKey],
    ]);
    expect(managers.get(policy)!.state).toBe('up');
  }
  expect(unhandled).toEqual([]);
}, 60_000);

it('finds the node of a key as the client sends it, keyPrefix included', async () => {
  const prefixed = new Cluster(
    cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    { keyPrefix: '{one-slot}:', enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } },
  );
  prefixed.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      prefixed.once('ready', () => resolve());
      prefixed.once('error', reject);
    });
    const quota = createRedisSlidingQuota({ client: prefixed, prefix: 'kp:', timeoutMs: 2_000 });
    const limits = { requests: { limit: 5, windowMs: 3_600_000 } };
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => quota.consume(`tenant-${i}`, { requests: 1 }, limits)));
    expect(results.every((r) => r.allowed && r.degraded === undefined)).toBe(true);
    // Every key hashes on the prefix's tag: one slot, one node, the one that really holds the keys.
    const owner = prefixed.slots[keySlot('{one-slot}:')]![0]!;
    expect([...quota.nodes.keys()]).toEqual([owner]);
    const holders = await Promise.all(client.nodes('master').map(async (node) => [`${node.options.host}:${node.options.port}`, (await node.keys('{one-slot}:kp:*')).length] as const));
    expect(holders.filter(([, size]) => size > 0).map(([node]) => node)).toEqual([owner]);
  } finally {
    prefixed.disconnect();
  }
});

it('forgets a node that serves no slot any more (a failover), so the manager does not stay down', async () => {
  // The client as the manager sees it, with a slot map this test can move (as
  // ioredis does after a failover: the replica's address replaces the master's).
  const slots = client.slots.map((nodes) => [...nodes]);
  const moved = new Proxy(client, { get: (target, prop) => (prop === 'slots' ? slots : Reflect.get(target, prop, target)) });
  const states: [BackendState, string][] = [];
  const quota = createRedisSlidingQuota({ client: moved, prefix: 'fo:', timeoutMs: 200, retryIntervalMs: 100, onStateChange: (state, _e, node) => void states.push([state, node]) });
  const limits = { requests: { limit: 100, windowMs: 3_600_000 } };
  const frozen = cluster.nodes[2]!;
  const frozenKey = `127.0.0.1:${frozen.port}`;
  const tenants = Array.from({ length: 30 }, (_, i) => `tenant-${i}`).filter((t) => slots[keySlot(tenantStem('fo:', t))]![0] === frozenKey);
  expect(tenants.length).toBeGreaterThan(0);
  frozen.pause();
  try {
    const results = await Promise.all(tenants.map((t) => quota.consume(t, { requests: 1 }, limits)));
    expect(results.every((r) => r.reason === 'backend_unavailable')).toBe(true);
    expect(quota.state).toBe('down');
  } finally {
    frozen.resume();
  }
  // Its slots now belong to another node: the old one is forgotten, the manager is up again.
  const heir = `127.0.0.1:${cluster.nodes[0]!.port}`;
  for (const nodes of slots) if (nodes?.[0] === frozenKey) nodes[0] = heir;
  expect(quota.state).toBe('up');
  expect(quota.nodes.has(frozenKey)).toBe(false);
  expect(states).toEqual([['down', frozenKey]]);
});
