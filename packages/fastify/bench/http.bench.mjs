// Requests per second on a hello route: bare Fastify vs Fastify with the full
// tenant middleware (header resolution, in-memory store, policy, in-memory
// quota, context), in the same run, alternating rounds. Run with `pnpm bench`
// (after a build): the servers run in a child process, autocannon in this one.
import { fork } from 'node:child_process';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

async function serve() {
  const { default: Fastify } = await import('fastify');
  const { createMemoryTenantStore, currentTenantId } = await import('@tenant/core');
  const { fastifyTenancy } = await import('../dist/index.js');
  const hello = async () => `hello ${currentTenantId() ?? 'world'}`;
  const bare = Fastify();
  bare.get('/hello', hello);
  const tenant = Fastify();
  await tenant.register(fastifyTenancy, {
    store: createMemoryTenantStore({
      tenants: [{ id: 'acme', policy: { models: ['small', 'large'] }, quota: { requests: { limit: 1e12, windowMs: 60_000 } } }],
    }),
    policyRequest: () => ({ model: 'small' }),
    skipPaths: ['/health'],
  });
  tenant.get('/hello', hello);
  const listen = async (app) => new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port;
  process.send({ bare: await listen(bare), tenant: await listen(tenant) });
}

async function drive() {
  const child = fork(new URL(import.meta.url), ['serve'], { stdio: 'inherit' });
  const ports = await new Promise((resolve) => child.once('message', resolve));
  const run = (port, duration) =>
    autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: CONNECTIONS, duration, headers: { 'x-tenant-id': 'acme' } });
  // JIT and caches warm for both before anything is measured
  for (const kind of ['bare', 'tenant']) await run(ports[kind], WARMUP);
  const results = { bare: [], tenant: [] };
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const kind of round % 2 === 1 ? ['bare', 'tenant'] : ['tenant', 'bare']) {
      await run(ports[kind], 1); // warm-up
      const result = await run(ports[kind], DURATION);
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      results[kind].push(result.requests.average);
      console.log(`round ${round} ${kind.padEnd(6)} ${result.requests.average.toFixed(0)} req/s`);
    }
  }
  child.kill();
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const bare = mean(results.bare);
  const tenant = mean(results.tenant);
  const spread = (xs) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
  console.log(`\nrounds: bare ${spread(results.bare)} req/s, with tenancy ${spread(results.tenant)} req/s`);
  console.log(`fastify (node ${process.versions.node}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s): bare ${bare.toFixed(0)} req/s, with tenancy ${tenant.toFixed(0)} req/s, ratio ${(tenant / bare).toFixed(3)} (target >= 0.90)`);
}

if (process.argv[2] === 'serve') await serve();
else await drive();
