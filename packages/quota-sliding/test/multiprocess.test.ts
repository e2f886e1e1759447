// Exactness under concurrency from several OS processes: 4 workers × 2,000
// checks against limit L admit exactly L in the window, for every algorithm.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { REDIS_URL, connect, deletePrefix, ready, redisNow, safeWindow, uniquePrefix } from './helpers/shared.js';

const WORKER = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const WORKERS = 4;
const PER_WORKER = 2_000;
const prefix = uniquePrefix('multiprocess');
let client: Redis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  client = await ready(connect());
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill();
  await deletePrefix(client, prefix);
  client.disconnect();
});

const message = <T>(child: ChildProcess, pick: (m: unknown) => T | undefined) =>
  new Promise<T>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const value = pick(m);
      if (value !== undefined) {
        child.off('message', onMessage);
        resolve(value);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });

it(`${WORKERS} processes × ${PER_WORKER} checks admit exactly the limit (fixed, counter, log)`, async () => {
  const w = safeWindow(await redisNow(client));
  const runs = [
    { algorithm: 'fixed', tenant: 'fixed', limits: { requests: { limit: 1_000, windowMs: w } }, requests: PER_WORKER, cost: { requests: 1 } },
    { algorithm: 'counter', tenant: 'counter', limits: { requests: { limit: 1_000, windowMs: w } }, requests: PER_WORKER, cost: { requests: 1 } },
    { algorithm: 'log', tenant: 'log', limits: { requests: { limit: 1_000, windowMs: w } }, requests: PER_WORKER, cost: { requests: 1 } },
    // Two dimensions at once: tokens (3 each) bind first, at 2,400 / 3 = 800 requests.
    { algorithm: 'counter', tenant: 'both', limits: { requests: { limit: 1_000, windowMs: w }, tokens: { limit: 2_400, windowMs: w } }, requests: PER_WORKER, cost: { requests: 1, tokens: 3 } },
  ];
  for (let i = 0; i < WORKERS; i++) children.push(fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const readyAll = children.map((child) => message(child, (m) => ((m as { ready?: boolean }).ready ? true : undefined)));
  for (const child of children) child.send({ url: REDIS_URL, prefix, runs });
  await Promise.all(readyAll);
  const results = children.map((child) => message(child, (m) => (m as { admitted?: { algorithm: string; admitted: number; failed: number }[] }).admitted));
  for (const child of children) child.send('go');
  const all = await Promise.all(results);

  const total = (index: number) => all.reduce((sum, worker) => sum + worker[index]!.admitted, 0);
  for (const worker of all) for (const run of worker) expect(run.failed).toBe(0);
  expect(total(0)).toBe(1_000);
  expect(total(1)).toBe(1_000);
  expect(total(2)).toBe(1_000);
  expect(total(3)).toBe(800);
  // Several processes got a share: the checks really interleaved.
  expect(all.filter((worker) => worker[0]!.admitted > 0).length).toBeGreaterThan(1);
}, 60_000);
