import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSaasApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe('start-up', () => {
  it('keeps tenants and their data in the SQLite file across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'saas-'));
    dirs.push(dir);
    const env = { DATABASE_URL: `sqlite:${join(dir, 'nested', 'saas.sqlite')}` };
    const headers = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };

    const first = await createSaasApp(loadConfig(env));
    const firstBase = await first.app.listen({ port: 0, host: '127.0.0.1' });
    expect((await fetch(`${firstBase}/admin/tenants`, { method: 'POST', headers, body: JSON.stringify({ id: 'keep' }) })).status).toBe(201);
    expect((await fetch(`${firstBase}/projects`, { method: 'POST', headers: { 'x-tenant-id': 'keep', 'content-type': 'application/json' }, body: '{"name":"kept"}' })).status).toBe(201);
    await first.close();
    await first.close(); // a second close does nothing

    const second = await createSaasApp(loadConfig(env)); // migrations run again: idempotent
    try {
      const base = await second.app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${base}/projects`, { headers: { 'x-tenant-id': 'keep' } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: { name: string }[] }).items.map((p) => p.name)).toEqual(['kept']);
    } finally {
      await second.close();
    }
  });

  it('stops with a clear error when Redis does not answer', async () => {
    // port 1 on the loopback: nothing listens there
    await expect(createSaasApp(loadConfig({ DATABASE_URL: ':memory:', REDIS_URL: 'redis://127.0.0.1:1' }))).rejects.toThrow(/cannot connect to Redis/);
  });
});
