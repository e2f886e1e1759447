// No value import of @tenant/core here: the bare server's process must never
// load it (nor AsyncLocalStorage), so the tenancy server imports it itself.
import { fork, type ChildProcess } from 'node:child_process';
import type { AdapterOptions } from '@tenant/core';

/** What {@link BenchmarkAdapterOptions.serve} gets in each server's process. */
export interface BenchmarkServerSetup {
  /**
   * The options to mount your adapter with, as they are: the full pipeline
   * (header resolution, in-memory store, policy, in-memory quota). Undefined
   * for the bare server, which mounts nothing (and must not load your
   * adapter).
   */
  readonly options: AdapterOptions | undefined;
  /**
   * What `GET /hello` answers: `hello <tenant id>`, read from the tenant
   * context (`currentTenantId()`) in the tenancy server, and the same text
   * without it in the bare one.
   */
  readonly hello: () => string;
}

/** How {@link benchmarkAdapter} runs; every number also has an environment variable, and a default. */
export interface BenchmarkAdapterOptions {
  /** The name printed with the summary, such as `express`. */
  readonly name: string;
  /**
   * The benchmark script's own URL (`import.meta.url`): it is started again
   * once per server, in a child process, where `benchmarkAdapter()` calls
   * {@link serve} instead of driving.
   */
  readonly script: string | URL;
  /**
   * Starts one server, in its own process: your framework, your adapter with
   * `options` unless they are undefined, and a `GET /hello` route that
   * answers `hello()` with status 200; listens on `127.0.0.1` and a free
   * port, and returns the port.
   */
  serve(setup: BenchmarkServerSetup): Promise<number>;
  /** Measured rounds, each one run of each server, in alternating order: `BENCH_ROUNDS`, else 6. */
  readonly rounds?: number;
  /** Seconds a measured run lasts: `BENCH_DURATION`, else 3. */
  readonly duration?: number;
  /** Concurrent connections: `BENCH_CONNECTIONS`, else 10. */
  readonly connections?: number;
  /** Seconds of warm-up for each server before the first round: `BENCH_WARMUP`, else 3. */
  readonly warmup?: number;
}

/** One server's figures in one round. */
export interface BenchmarkRun {
  /** Mean requests per second. */
  readonly rps: number;
  /** The server process's CPU time (user + system) per request, in microseconds. */
  readonly usPerRequest: number;
}

/** What {@link benchmarkAdapter} measured, as it prints it. */
export interface BenchmarkResult {
  readonly name: string;
  readonly rounds: readonly { readonly bare: BenchmarkRun; readonly tenant: BenchmarkRun }[];
  /** Mean req/s of the bare server over the rounds. */
  readonly bare: number;
  /** Mean req/s of the server with tenancy over the rounds. */
  readonly tenant: number;
  /** `tenant / bare`. */
  readonly ratio: number;
  /** The median of each round's tenant/bare req/s ratio. */
  readonly medianRatio: number;
  /** The median of each round's bare/tenant CPU time per request (1 = tenancy costs no CPU). */
  readonly cpuRatio: number;
}

/** The environment variable that tells a forked child which server to run. */
const SERVE_ENV = 'TENANT_BENCH_SERVE';
const KINDS = ['bare', 'tenant'] as const;
type Kind = (typeof KINDS)[number];

/**
 * Benchmarks an adapter over real HTTP on `127.0.0.1`: requests per second
 * on a hello route, bare framework vs framework with the full tenant
 * pipeline, driven by autocannon in alternating rounds, and the ratio.
 *
 * Each server runs in its own child process (the script, started again), so
 * the bare one never pays for AsyncLocalStorage; autocannon runs in this
 * one. Besides req/s, each child's CPU time per request is measured: on a
 * busy machine it is steadier than req/s. It prints a line per round and a
 * summary, and resolves with the figures; in a server's process it serves,
 * and resolves with `undefined` once listening.
 *
 * Needs `autocannon` (an optional peer dependency) in the driving process.
 * Any non-2xx answer or connection error, warm-up included, fails the run.
 *
 * @example
 * ```js
 * // bench/http.bench.mjs, run with `node bench/http.bench.mjs` after a build
 * import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';
 *
 * await benchmarkAdapter({
 *   name: 'express',
 *   script: import.meta.url,
 *   async serve({ options, hello }) {
 *     const { default: express } = await import('express');
 *     const app = express();
 *     if (options) app.use((await import('../dist/index.js')).tenancy(options));
 *     app.get('/hello', (_req, res) => void res.send(hello()));
 *     return new Promise((resolve) => {
 *       const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port));
 *     });
 *   },
 * });
 * ```
 */
export async function benchmarkAdapter(options: BenchmarkAdapterOptions): Promise<BenchmarkResult | undefined> {
  const kind = process.env[SERVE_ENV];
  if (kind !== undefined) {
    if (!isKind(kind)) throw new TypeError(`[@tenant/adapter-testkit] ${SERVE_ENV} must be bare or tenant, not ${JSON.stringify(kind)}`);
    await serveChild(options, kind);
    return undefined;
  }
  return drive(options);
}

const isKind = (value: string): value is Kind => (KINDS as readonly string[]).includes(value);

async function serveChild(options: BenchmarkAdapterOptions, kind: Kind): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error(`[@tenant/adapter-testkit] ${SERVE_ENV} is set, but this process was not started by benchmarkAdapter()`);
  let setup: BenchmarkServerSetup;
  if (kind === 'tenant') {
    const { createMemoryTenantStore, currentTenantId } = await import('@tenant/core');
    const tenancy: AdapterOptions = {
      store: createMemoryTenantStore({
        tenants: [{ id: 'acme', policy: { models: ['small', 'large'] }, quota: { requests: { limit: 1e12, windowMs: 60_000 } } }],
      }),
      policyRequest: () => ({ model: 'small' }),
      skipPaths: ['/health'],
    };
    setup = { options: tenancy, hello: () => `hello ${currentTenantId()}` };
  } else {
    // the bare route answers the same text, without a tenant context
    setup = { options: undefined, hello: () => 'hello acme' };
  }
  const port = await options.serve(setup);
  if (!Number.isInteger(port) || port <= 0) throw new TypeError(`[@tenant/adapter-testkit] serve() must resolve with the port it listens on, not ${String(port)}`);
  // any message asks for the CPU time used so far, in microseconds
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    send(user + system);
  });
  send(port);
}

/** An option, else its environment variable, else the default; a positive number, or a clear error. */
function setting(value: number | undefined, option: string, variable: string, fallback: number): number {
  const raw = process.env[variable];
  const chosen = value ?? (raw === undefined || raw.trim() === '' ? fallback : Number(raw));
  if (!Number.isFinite(chosen) || chosen <= 0) {
    const source = value === undefined ? `${variable}=${String(raw)}` : `${option}: ${String(value)}`;
    throw new RangeError(`[@tenant/adapter-testkit] benchmarkAdapter(): ${option} (${variable}) must be a positive number, not ${source}`);
  }
  return chosen;
}

interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; headers: Record<string, string> }) => Promise<AutocannonResult>;

async function loadAutocannon(): Promise<Autocannon> {
  try {
    return (await import('autocannon')).default as Autocannon;
  } catch (error) {
    throw new Error('[@tenant/adapter-testkit] benchmarkAdapter() drives the servers with autocannon: install it (npm install --save-dev autocannon)', { cause: error });
  }
}

interface Child {
  readonly process: ChildProcess;
  readonly port: number;
}

function startChild(script: string | URL, kind: Kind): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = fork(script instanceof URL ? script : new URL(script), [], { stdio: 'inherit', env: { ...process.env, [SERVE_ENV]: kind } });
    const onExit = (code: number | null) => reject(new Error(`[@tenant/adapter-testkit] the ${kind} server exited (code ${String(code)}) before listening`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (port) => {
      child.off('exit', onExit);
      resolve({ process: child, port: port as number });
    });
  });
}

const mean = (xs: readonly number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function drive(options: BenchmarkAdapterOptions): Promise<BenchmarkResult> {
  const ROUNDS = Math.round(setting(options.rounds, 'rounds', 'BENCH_ROUNDS', 6));
  const DURATION = setting(options.duration, 'duration', 'BENCH_DURATION', 3);
  const CONNECTIONS = Math.round(setting(options.connections, 'connections', 'BENCH_CONNECTIONS', 10));
  const WARMUP = setting(options.warmup, 'warmup', 'BENCH_WARMUP', 3);
  const autocannon = await loadAutocannon();

  const servers: Partial<Record<Kind, Child>> = {};
  try {
    for (const kind of KINDS) servers[kind] = await startChild(options.script, kind);
    const server = (kind: Kind) => servers[kind]!;
    const cpu = (kind: Kind) =>
      new Promise<number>((resolve) => {
        server(kind).process.once('message', (micros) => resolve(micros as number));
        server(kind).process.send('cpu');
      });
    const run = async (kind: Kind, duration: number) => {
      const result = await autocannon({ url: `http://127.0.0.1:${server(kind).port}/hello`, connections: CONNECTIONS, duration, headers: { 'x-tenant-id': 'acme' } });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      return result;
    };

    // JIT and caches warm for both before anything is measured
    for (const kind of KINDS) await run(kind, WARMUP);
    const rounds: { bare: BenchmarkRun; tenant: BenchmarkRun }[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const measured: Partial<Record<Kind, BenchmarkRun>> = {};
      for (const kind of round % 2 === 1 ? KINDS : ([...KINDS].reverse() as Kind[])) {
        await run(kind, 1); // warm-up
        const before = await cpu(kind);
        const result = await run(kind, DURATION);
        const usPerRequest = ((await cpu(kind)) - before) / result.requests.total;
        measured[kind] = { rps: result.requests.average, usPerRequest };
        console.log(`round ${round} ${kind.padEnd(6)} ${result.requests.average.toFixed(0).padStart(6)} req/s  ${usPerRequest.toFixed(1).padStart(6)} µs CPU/request`);
      }
      rounds.push({ bare: measured.bare!, tenant: measured.tenant! });
    }

    const bare = mean(rounds.map((r) => r.bare.rps));
    const tenant = mean(rounds.map((r) => r.tenant.rps));
    const medianRatio = median(rounds.map((r) => r.tenant.rps / r.bare.rps));
    const cpuRatio = median(rounds.map((r) => r.bare.usPerRequest / r.tenant.usPerRequest));
    console.log(
      `\n${options.name} (node ${process.versions.node}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s): ` +
        `bare ${bare.toFixed(0)} req/s, with tenancy ${tenant.toFixed(0)} req/s, ratio ${(tenant / bare).toFixed(3)}; ` +
        `median ratio of paired rounds ${medianRatio.toFixed(3)}; CPU-time ratio (bare/tenant per request, median) ${cpuRatio.toFixed(3)} (target >= 0.90)`,
    );
    return { name: options.name, rounds, bare, tenant, ratio: tenant / bare, medianRatio, cpuRatio };
  } finally {
    for (const child of Object.values(servers)) child.process.kill();
  }
}
