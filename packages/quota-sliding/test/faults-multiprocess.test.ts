// The over-admission bound of docs/quotas.md, measured across real OS
// processes: P replicas share a Redis of our own with `onFailure: 'fallback'`.
// Redis admits L in all; killed, each replica's fallback admits L; restarted
// without persistence, Redis admits L again: (P + 2) × L for one restart.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedis, type OwnRedis } from './helpers/redis-server.js';

const WORKER = fileURLToPath(new URL('./fixtures/outage-worker.mjs', import.meta.url));
const P = 4;
const L = 25;
let server: OwnRedis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await server?.destroy();
});

const next = <T>(child: ChildProcess, pick: (m: Record<string, unknown>) => T | undefined) =>
  new Promise<T>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const value = pick(m as Record<string, unknown>);
      if (value !== undefined) {
        child.off('message', onMessage);
        resolve(value);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });

async function phase(name: 'redis' | 'fallback' | 'redis-again'): Promise<number[]> {
  const replies = children.map((child) => next(child, (m) => (m['phase'] === name ? (m as { admitted: number }) : undefined)));
  for (const child of children) child.send({ phase: name });
  return (await Promise.all(replies)).map((r) => r.admitted);
}

it(`${P} processes, limit ${L}: ${L} in Redis, ${P} × ${L} in the fallbacks while it is down, ${L} again after a restart without persistence`, async () => {
  const limits = { requests: { limit: L, windowMs: 3_600_000 } };
  for (let i = 0; i < P; i++) children.push(fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ready = children.map((child) => next(child, (m) => (m['ready'] === true ? true : undefined)));
  for (const child of children) child.send({ url: server.url, prefix: 'mp:', limits });
  await Promise.all(ready);

  const inRedis = await phase('redis');
  await server.stop();
  const inFallbacks = await phase('fallback');
  await server.start(); // empty: no persistence
  const afterRestart = await phase('redis-again');
  for (const child of children) child.send({ phase: 'exit' });

  const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
  // Redis is exact across processes, before and after the restart.
  expect(sum(inRedis)).toBe(L);
  expect(sum(afterRestart)).toBe(L);
  // Each fallback starts from zero and knows nothing of the others.
  expect(inFallbacks).toEqual(Array.from({ length: P }, () => L));
  expect(sum(inRedis) + sum(inFallbacks) + sum(afterRestart)).toBe((P + 2) * L);
}, 60_000);
