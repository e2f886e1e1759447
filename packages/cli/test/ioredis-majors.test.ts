// The Redis commands of the binary (`cache warm`, `health --redis`) on both
// majors of the ioredis peer range: 6 (the `ioredis` dev dependency) and 5
// (the `ioredis5` npm alias, loaded through a resolve hook as if the user had
// installed ioredis 5 next to @tenant/cli).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, oneLine, REDIS_URL, tempDir, tenant, unique } from './helpers.js';

const HOOK = pathToFileURL(fileURLToPath(new URL('./fixtures/ioredis5-hook.mjs', import.meta.url))).href;

let dir: string;
let remove: () => Promise<void>;
let redis: Redis;
const prefixes: string[] = [];
beforeAll(async () => {
  ({ dir, remove } = await tempDir());
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
  await remove();
});

describe.each([
  { major: 6, hook: false },
  { major: 5, hook: true },
])('on ioredis $major', ({ major, hook }) => {
  const log = () => join(dir, `ioredis-${major}.log`);
  const env = (): Record<string, string> => (hook ? { NODE_OPTIONS: `--import=${HOOK}`, IOREDIS_HOOK_LOG: log() } : {});

  it('warms the cache and checks health, with the major it was given', async () => {
    const prefix = `${unique(`io${major}`)}:`;
    prefixes.push(prefix);
    const db = join(dir, `io${major}.db`);
    const run = (...args: string[]) => tenant([...args, '--url', db], { cwd: dir, env: { TENANT_REDIS_URL: REDIS_URL, ...env() } });
    expect((await run('migrate', 'up')).code).toBe(0);
    expect((await run('create', 'acme', '--domain', 'acme.example.com')).code).toBe(0);
    const warmed = await run('cache', 'warm', '--redis-prefix', prefix, '--json');
    expect(warmed.code, warmed.stderr).toBe(0);
    expect(json(warmed)).toMatchObject({ warmed: 1, prefix });
    expect(JSON.parse((await redis.get(`${prefix}id:acme`)) ?? 'null')).toMatchObject({ id: 'acme', domains: ['acme.example.com'] });
    expect(await redis.get(`${prefix}domain:acme.example.com`)).toBe('"acme"');
    const health = await run('health', '--json');
    expect(health.code, health.stderr).toBe(0);
    expect(json(health).checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['store', true],
      ['redis', true],
    ]);
    if (hook) {
      // The Redis commands loaded ioredis 5, from the ioredis5 alias, and nothing else.
      const loaded = (await readFile(log(), 'utf8')).trim().split('\n');
      expect(loaded.length).toBeGreaterThanOrEqual(2);
      for (const url of loaded) expect(url).toMatch(/\/ioredis@5\.[^/]+\/node_modules\/ioredis\//);
    }
  });

  it('reports an unreachable Redis with exit 3 and one line', async () => {
    const db = join(dir, `io${major}-down.db`);
    expect((await tenant(['migrate', 'up', '--url', db])).code).toBe(0);
    const warm = await tenant(['cache', 'warm', '--url', db, '--redis', 'redis://127.0.0.1:1'], { env: env() });
    expect(warm.code, warm.stderr).toBe(3);
    expect(oneLine(warm)).toMatch(/^tenant: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    const health = await tenant(['health', '--url', db, '--redis', 'redis://127.0.0.1:1', '--json'], { env: env() });
    expect(health.code).toBe(3);
    expect(json(health)).toMatchObject({ ok: false, checks: [{ name: 'store', reachable: true }, { name: 'redis', reachable: false }] });
  });
});
