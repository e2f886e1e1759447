// Requests per second on a hello route: bare Fastify vs Fastify with the full
// tenant middleware (header resolution, in-memory store, policy, in-memory
// quota, context), driven by autocannon in the same run, in alternating
// rounds, with the ratio printed. Run with `pnpm bench` (after a build).
//
// Each server runs in its own child process (so the bare one never pays for
// AsyncLocalStorage), autocannon in this one. Besides req/s, each child's CPU
// time per request is measured: on a busy machine it is steadier than req/s.
// Environment: BENCH_ROUNDS (6), BENCH_DURATION (3 s), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s).
import { fork } from 'node:child_process';
import autocannon from 'autocannon';

const NAME = 'fastify';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

/** The full middleware: header resolution (the default), in-memory store, policy, in-memory quota. */
async function tenancyOptions() {
  const { createMemoryTenantStore } = await import('@tenant/core');
  return {
    store: createMemoryTenantStore({
      tenants: [{ id: 'acme', policy: { models: ['small', 'large'] }, quota: { requests: { limit: 1e12, windowMs: 60_000 } } }],
    }),
    policyRequest: () => ({ model: 'small' }),
    skipPaths: ['/health'],
  };
}

async function serve(kind) {
  const tenant = kind === 'tenant';
  // the context: the tenant route reads currentTenantId(); the bare one answers the same text
  const { currentTenantId } = tenant ? await import('@tenant/core') : { currentTenantId: () => 'acme' };
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (tenant) await app.register((await import('../dist/index.js')).fastifyTenancy, await tenancyOptions());
  app.get('/hello', async () => `hello ${currentTenantId()}`);
  const port = new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port;
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send(user + system);
  });
  process.send(port);
}

async function drive() {
  const start = (kind) =>
    new Promise((resolve) => {
      const child = fork(new URL(import.meta.url), ['serve', kind], { stdio: 'inherit' });
      child.once('message', (port) => resolve({ child, port }));
    });
  const servers = { bare: await start('bare'), tenant: await start('tenant') };
  const cpu = (kind) => new Promise((resolve) => (servers[kind].child.once('message', resolve), servers[kind].child.send('cpu')));
  const run = (kind, duration) =>
    autocannon({ url: `http://127.0.0.1:${servers[kind].port}/hello`, connections: CONNECTIONS, duration, headers: { 'x-tenant-id': 'acme' } });
  // JIT and caches warm for both before anything is measured
  for (const kind of ['bare', 'tenant']) await run(kind, WARMUP);
  const results = { bare: [], tenant: [] };
  const ratios = [];
  const cpuRatios = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const measured = {};
    for (const kind of round % 2 === 1 ? ['bare', 'tenant'] : ['tenant', 'bare']) {
      await run(kind, 1); // warm-up
      const before = await cpu(kind);
      const result = await run(kind, DURATION);
      const usPerRequest = ((await cpu(kind)) - before) / result.requests.total;
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      results[kind].push(result.requests.average);
      measured[kind] = { rps: result.requests.average, usPerRequest };
      console.log(`round ${round} ${kind.padEnd(6)} ${result.requests.average.toFixed(0).padStart(6)} req/s  ${usPerRequest.toFixed(1).padStart(6)} µs CPU/request`);
    }
    ratios.push(measured.tenant.rps / measured.bare.rps);
    cpuRatios.push(measured.bare.usPerRequest / measured.tenant.usPerRequest);
  }
  for (const { child } of Object.values(servers)) child.kill();
  const mean = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const median = (xs) => {
    const sorted = [...xs].sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const bare = mean(results.bare);
  const withTenancy = mean(results.tenant);
  console.log(
    `\n${NAME} (node ${process.versions.node}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s): ` +
      `bare ${bare.toFixed(0)} req/s, with tenancy ${withTenancy.toFixed(0)} req/s, ratio ${(withTenancy / bare).toFixed(3)}; ` +
      `median ratio of paired rounds ${median(ratios).toFixed(3)}; CPU-time ratio (bare/tenant per request, median) ${median(cpuRatios).toFixed(3)} (target >= 0.90)`,
  );
}

if (process.argv[2] === 'serve') await serve(process.argv[3]);
else await drive();
