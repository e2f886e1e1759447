// No value import of @tenant/core here: the bare server's process must never
// load it (nor AsyncLocalStorage), so the tenancy server imports it itself.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterOptions } from '@tenant/core';

/**
 * Which server a benchmark child runs:
 * - `bare`: the framework and the hello route, nothing else;
 * - `minimal`: bare plus the least a user would write for a tenant context
 *   by hand: read the `x-tenant-id` header, look the tenant up in a `Map`,
 *   answer 404 if it is not there, and run the rest of the request in
 *   `AsyncLocalStorage.run()`;
 * - `peer`: the stack a user would otherwise assemble from the framework's
 *   ecosystem: `minimal`'s lookup, the ecosystem's request context and a
 *   maintained rate limiter keyed by tenant, in memory;
 * - `tenant`: your adapter with the full pipeline (header resolution,
 *   in-memory store, policy, in-memory quota, context).
 */
export type BenchmarkKind = 'bare' | 'minimal' | 'peer' | 'tenant';

/** A tenant of the `minimal` and `peer` servers' own lookup table. */
export interface BenchmarkTenant {
  readonly id: string;
  /** Requests a minute its rate limiter allows (so high that no run reaches it, as in the `tenant` server's quota). */
  readonly requestsPerMinute: number;
}

/** What {@link BenchmarkAdapterOptions.serve} gets in each server's process. */
export interface BenchmarkServerSetup {
  /** Which server to start; only `bare` and `tenant` unless {@link BenchmarkAdapterOptions.kinds} asks for more. */
  readonly kind: BenchmarkKind;
  /**
   * The options to mount your adapter with, as they are: the full pipeline
   * (header resolution, in-memory store, policy, in-memory quota). Defined
   * for the `tenant` server only; the others must not load your adapter.
   */
  readonly options: AdapterOptions | undefined;
  /**
   * What `GET /hello` answers: `hello <tenant id>`. In the `tenant` server it
   * reads the tenant context (`currentTenantId()`) and takes no argument; in
   * `minimal` and `peer`, pass it the id your own context holds; in `bare` it
   * answers `hello acme` without any context.
   */
  readonly hello: (tenantId?: string) => string;
  /**
   * The `minimal` and `peer` servers' tenants by id (the value of the
   * `x-tenant-id` header); an unknown id must be answered with a 4xx
   * status. Undefined for `bare` and `tenant`.
   */
  readonly tenants: ReadonlyMap<string, BenchmarkTenant> | undefined;
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
   * answers `hello()` with status 200 (see {@link BenchmarkServerSetup} for
   * each kind); listens on `127.0.0.1` and a free port, and returns the port.
   */
  serve(setup: BenchmarkServerSetup): Promise<number>;
  /**
   * The servers to compare, side by side in one run: `bare` and `tenant`
   * always, and `minimal` and `peer` if listed. Default `['bare', 'tenant']`.
   */
  readonly kinds?: readonly BenchmarkKind[];
  /** Measured rounds, each one run of each server, in alternating order: `BENCH_ROUNDS`, else 6. */
  readonly rounds?: number;
  /** Seconds a measured run lasts: `BENCH_DURATION`, else 3. */
  readonly duration?: number;
  /** Concurrent connections: `BENCH_CONNECTIONS`, else 10. */
  readonly connections?: number;
  /** Seconds of warm-up for each server before the first round: `BENCH_WARMUP`, else 3. */
  readonly warmup?: number;
  /**
   * Count instructions instead of timing (`BENCH_INSTRUCTIONS=1`): each
   * server runs under valgrind's callgrind, which counts the user-space
   * instructions it executes for a fixed number of requests after a warm-up
   * (`BENCH_INSTRUCTIONS_WARMUP`, else 15,000; `BENCH_INSTRUCTIONS_REQUESTS`,
   * else 5,000), with V8 made predictable (`--predictable`, fixed hash and
   * random seeds: the compiler and the garbage collector run on the main
   * thread, at points that do not depend on timing). The counts do not
   * depend on what else the machine is doing (repeated runs agree within
   * about 0.1%), where CPU time per request on a shared machine moves by 10%
   * or more;
   * they leave out the kernel's work (the socket writes and reads, the same
   * per request for every server). Needs `valgrind` and `callgrind_control`
   * on the `PATH`; a server runs about 50 times slower under it, so a run
   * takes a minute or two per server.
   */
  readonly instructions?: boolean;
}

/** What {@link benchmarkAdapter} counted in instruction mode ({@link BenchmarkAdapterOptions.instructions}). */
export interface BenchmarkInstructions {
  readonly name: string;
  /** User-space instructions per request, by server. */
  readonly perRequest: Partial<Record<BenchmarkKind, number>>;
  /** Other server's instructions / the tenant server's (above 1: the tenant server executes fewer). */
  readonly versus: Partial<Record<'bare' | 'minimal' | 'peer', number>>;
}

/** One server's figures in one round. */
export interface BenchmarkRun {
  /** Mean requests per second. */
  readonly rps: number;
  /** The server process's CPU time (user + system) per request, in microseconds. */
  readonly usPerRequest: number;
}

/** One server's figures over the rounds. */
export interface BenchmarkRow {
  /** Mean req/s over the rounds. */
  readonly rps: number;
  /** Median CPU time per request over the rounds, in microseconds. */
  readonly usPerRequest: number;
}

/** How the `tenant` server compares with another one, as medians of the paired rounds. */
export interface BenchmarkComparison {
  /** Median of each round's tenant/other req/s ratio. */
  readonly rpsRatio: number;
  /** Median of each round's other/tenant CPU time per request (1 = the same CPU; above 1 = tenant is cheaper). */
  readonly cpuRatio: number;
}

/** One round: a run of each server it compared. */
export type BenchmarkRound = { readonly bare: BenchmarkRun; readonly tenant: BenchmarkRun } & Partial<Record<'minimal' | 'peer', BenchmarkRun>>;

/** What {@link benchmarkAdapter} measured, as it prints it. */
export interface BenchmarkResult {
  readonly name: string;
  readonly rounds: readonly BenchmarkRound[];
  /** Each server's figures over the rounds. */
  readonly rows: Partial<Record<BenchmarkKind, BenchmarkRow>>;
  /** The `tenant` server against `minimal` and `peer`, when they ran. */
  readonly versus: Partial<Record<'minimal' | 'peer', BenchmarkComparison>>;
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
const KINDS: readonly BenchmarkKind[] = ['bare', 'minimal', 'peer', 'tenant'];
type Kind = BenchmarkKind;
/** The tenant every request of a run asks for, and the limit no run reaches. */
const TENANT_ID = 'acme';
const LIMIT = 1e12;

/**
 * Benchmarks an adapter over real HTTP on `127.0.0.1`: requests per second
 * and CPU time per request on a hello route, bare framework vs framework
 * with the full tenant pipeline (and, if asked, vs a hand-written minimal
 * context and vs the peer stack of the framework's ecosystem), driven by
 * autocannon in alternating rounds, with the ratios.
 *
 * Each server runs in its own child process (the script, started again), so
 * the bare one never pays for AsyncLocalStorage; autocannon runs in this
 * one. Besides req/s, each child's CPU time per request is measured
 * (`process.cpuUsage()` over the run / requests): on a busy machine it is
 * steadier than req/s. It prints a line per round and a summary, and
 * resolves with the figures; in a server's process it serves, and resolves
 * with `undefined` once listening.
 *
 * Before measuring, each server must answer `GET /hello` for the tenant
 * `acme` with `hello acme`, and every server but `bare` must refuse an
 * unknown tenant with a 4xx status. Needs `autocannon` (an optional peer
 * dependency) in the driving process. Any non-2xx answer or connection
 * error, warm-up included, fails the run.
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
export async function benchmarkAdapter(options: BenchmarkAdapterOptions & { readonly instructions: true }): Promise<BenchmarkInstructions | undefined>;
export async function benchmarkAdapter(options: BenchmarkAdapterOptions): Promise<BenchmarkResult | BenchmarkInstructions | undefined>;
export async function benchmarkAdapter(options: BenchmarkAdapterOptions): Promise<BenchmarkResult | BenchmarkInstructions | undefined> {
  const kind = process.env[SERVE_ENV];
  if (kind !== undefined) {
    if (!isKind(kind)) throw new TypeError(`[@tenant/adapter-testkit] ${SERVE_ENV} must be one of ${KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
    await serveChild(options, kind);
    return undefined;
  }
  const instructions = options.instructions ?? ['1', 'true'].includes(process.env['BENCH_INSTRUCTIONS']?.trim().toLowerCase() ?? '');
  return instructions ? countInstructions(options) : drive(options);
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
        tenants: [{ id: TENANT_ID, policy: { models: ['small', 'large'] }, quota: { requests: { limit: LIMIT, windowMs: 60_000 } } }],
      }),
      policyRequest: () => ({ model: 'small' }),
      skipPaths: ['/health'],
    };
    setup = { kind, options: tenancy, hello: () => `hello ${currentTenantId()}`, tenants: undefined };
  } else if (kind === 'bare') {
    // the bare route answers the same text, without a tenant context
    setup = { kind, options: undefined, hello: () => `hello ${TENANT_ID}`, tenants: undefined };
  } else {
    setup = { kind, options: undefined, hello: (id) => `hello ${String(id)}`, tenants: new Map([[TENANT_ID, { id: TENANT_ID, requestsPerMinute: LIMIT }]]) };
  }
  const port = await options.serve(setup);
  if (!Number.isInteger(port) || port <= 0) throw new TypeError(`[@tenant/adapter-testkit] serve() must resolve with the port it listens on, not ${String(port)}`);
  // a server never outlives its driver (killed, or crashed): the IPC channel closes with it
  process.once('disconnect', () => process.exit(0));
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
type Autocannon = (options: { url: string; connections: number; duration?: number; amount?: number; headers: Record<string, string> }) => Promise<AutocannonResult>;

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

/**
 * V8 flags of a server counted under callgrind: `--predictable` runs the
 * compiler and the garbage collector on the main thread at points that do
 * not depend on timing, and fixed seeds fix the hash tables' layout; without
 * them, counts of one server moved by up to 25% between runs, with them by
 * about 0.1%.
 */
const PREDICTABLE = ['--predictable', '--hash-seed=1', '--random-seed=1'];

/** How a child runs under valgrind: the tool's command and the options before node's path. */
interface UnderValgrind {
  readonly execPath: string;
  readonly execArgv: readonly string[];
}

function startChild(script: string | URL, kind: Kind, valgrind?: UnderValgrind): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = fork(script instanceof URL ? script : new URL(script), [], {
      stdio: 'inherit',
      env: { ...process.env, [SERVE_ENV]: kind },
      ...(valgrind === undefined ? {} : { execPath: valgrind.execPath, execArgv: [...valgrind.execArgv, process.execPath, ...PREDICTABLE] }),
    });
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

/** The kinds to run, in a fixed order: `bare` and `tenant` always, `minimal` and `peer` if asked. */
function chosenKinds(kinds: readonly BenchmarkKind[] | undefined): Kind[] {
  const asked = new Set<string>(kinds ?? []);
  for (const kind of asked) {
    if (!isKind(kind)) throw new RangeError(`[@tenant/adapter-testkit] benchmarkAdapter(): kinds must be among ${KINDS.join(', ')}, not ${JSON.stringify(kind)}`);
  }
  return KINDS.filter((kind) => kind === 'bare' || kind === 'tenant' || asked.has(kind));
}

/** Checks what a server answers before it is measured: the hello text, and a refusal of an unknown tenant. */
async function checkServer(kind: Kind, port: number): Promise<void> {
  const url = `http://127.0.0.1:${port}/hello`;
  const known = await fetch(url, { headers: { 'x-tenant-id': TENANT_ID } });
  const text = await known.text();
  if (known.status !== 200 || text !== `hello ${TENANT_ID}`) {
    throw new Error(`[@tenant/adapter-testkit] the ${kind} server answered ${known.status} ${JSON.stringify(text.slice(0, 80))} to GET /hello for tenant ${TENANT_ID}, not 200 "hello ${TENANT_ID}"`);
  }
  if (kind === 'bare') return;
  const unknown = await fetch(url, { headers: { 'x-tenant-id': 'no-such-tenant' } });
  await unknown.arrayBuffer();
  if (unknown.status < 400 || unknown.status >= 500) {
    throw new Error(`[@tenant/adapter-testkit] the ${kind} server answered ${unknown.status} to GET /hello for an unknown tenant, not a 4xx refusal`);
  }
}

const fixed = (value: number, digits: number, width: number) => value.toFixed(digits).padStart(width);

/** The targets of the tenant server against the other rows (other / tenant, by CPU or instructions). */
const TARGETS: Readonly<Partial<Record<Kind, number>>> = { peer: 1, minimal: 0.9 };

/** Drives one server with `x-tenant-id: acme` for a time or a number of requests; any non-2xx answer or error fails the run. */
async function load(autocannon: Autocannon, kind: Kind, port: number, connections: number, size: { duration: number } | { amount: number }): Promise<AutocannonResult> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/hello`, connections, ...size, headers: { 'x-tenant-id': TENANT_ID } });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

async function drive(options: BenchmarkAdapterOptions): Promise<BenchmarkResult> {
  const kinds = chosenKinds(options.kinds);
  const ROUNDS = Math.round(setting(options.rounds, 'rounds', 'BENCH_ROUNDS', 6));
  const DURATION = setting(options.duration, 'duration', 'BENCH_DURATION', 3);
  const CONNECTIONS = Math.round(setting(options.connections, 'connections', 'BENCH_CONNECTIONS', 10));
  const WARMUP = setting(options.warmup, 'warmup', 'BENCH_WARMUP', 3);
  const autocannon = await loadAutocannon();

  const servers: Partial<Record<Kind, Child>> = {};
  try {
    for (const kind of kinds) servers[kind] = await startChild(options.script, kind);
    const server = (kind: Kind) => servers[kind]!;
    const cpu = (kind: Kind) =>
      new Promise<number>((resolve) => {
        server(kind).process.once('message', (micros) => resolve(micros as number));
        server(kind).process.send('cpu');
      });
    const run = (kind: Kind, duration: number) => load(autocannon, kind, server(kind).port, CONNECTIONS, { duration });

    for (const kind of kinds) await checkServer(kind, server(kind).port);
    // JIT and caches warm for all before anything is measured
    for (const kind of kinds) await run(kind, WARMUP);
    const rounds: BenchmarkRound[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const measured: Partial<Record<Kind, BenchmarkRun>> = {};
      for (const kind of round % 2 === 1 ? kinds : [...kinds].reverse()) {
        await run(kind, 1); // warm-up
        const before = await cpu(kind);
        const result = await run(kind, DURATION);
        const usPerRequest = ((await cpu(kind)) - before) / result.requests.total;
        measured[kind] = { rps: result.requests.average, usPerRequest };
        console.log(`round ${round} ${kind.padEnd(7)} ${fixed(result.requests.average, 0, 6)} req/s  ${fixed(usPerRequest, 1, 6)} µs CPU/request`);
      }
      rounds.push(measured as BenchmarkRound);
    }

    const rows: Partial<Record<Kind, BenchmarkRow>> = {};
    for (const kind of kinds) {
      rows[kind] = { rps: mean(rounds.map((r) => r[kind]!.rps)), usPerRequest: median(rounds.map((r) => r[kind]!.usPerRequest)) };
    }
    const compare = (other: Kind): BenchmarkComparison => ({
      rpsRatio: median(rounds.map((r) => r.tenant.rps / r[other]!.rps)),
      cpuRatio: median(rounds.map((r) => r[other]!.usPerRequest / r.tenant.usPerRequest)),
    });
    const versus: Partial<Record<'minimal' | 'peer', BenchmarkComparison>> = {};
    for (const other of ['minimal', 'peer'] as const) if (kinds.includes(other)) versus[other] = compare(other);

    const bare = rows.bare!.rps;
    const tenant = rows.tenant!.rps;
    const { rpsRatio: medianRatio, cpuRatio } = compare('bare');
    console.log(
      `\n${options.name} (node ${process.versions.node}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s): ` +
        `bare ${bare.toFixed(0)} req/s, with tenancy ${tenant.toFixed(0)} req/s, ratio ${(tenant / bare).toFixed(3)}; ` +
        `median ratio of paired rounds ${medianRatio.toFixed(3)}; CPU-time ratio (bare/tenant per request, median) ${cpuRatio.toFixed(3)} (target >= 0.90)`,
    );
    if (kinds.length > 2) {
      console.log(`\n${'server'.padEnd(8)} ${'req/s'.padStart(8)} ${'µs CPU/req'.padStart(11)}   tenant vs this: ${'req/s'.padStart(6)} ${'CPU'.padStart(6)}`);
      for (const kind of kinds) {
        const row = rows[kind]!;
        const c = kind === 'tenant' ? undefined : compare(kind);
        const vs = c === undefined ? '' : `${fixed(c.rpsRatio, 3, 6)} ${fixed(c.cpuRatio, 3, 6)}`;
        console.log(`${kind.padEnd(8)} ${fixed(row.rps, 0, 8)} ${fixed(row.usPerRequest, 1, 11)}   ${' '.repeat(16)}${vs}`);
      }
      const target = (other: 'minimal' | 'peer') => {
        const comparison = versus[other];
        const at = TARGETS[other]!;
        if (!comparison) return '';
        const met = comparison.cpuRatio >= at ? 'met' : 'MISSED';
        return `@tenant vs ${other}: CPU ${comparison.cpuRatio.toFixed(3)}, req/s ${comparison.rpsRatio.toFixed(3)} (target >= ${at.toFixed(2)} by CPU: ${met})`;
      };
      console.log(['', target('peer'), target('minimal')].filter((line, i) => i === 0 || line !== '').join('\n'));
    }
    return { name: options.name, rounds, rows, versus, bare, tenant, ratio: tenant / bare, medianRatio, cpuRatio };
  } finally {
    for (const child of Object.values(servers)) child.process.kill();
  }
}

/** Runs `command` with `args`; rejects with its output when it fails. */
function execute(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`[@tenant/adapter-testkit] ${command} ${args.join(' ')} failed: ${stderr || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

/** Instruction mode: each server under callgrind, counted over a fixed number of requests after a warm-up. */
async function countInstructions(options: BenchmarkAdapterOptions): Promise<BenchmarkInstructions> {
  const kinds = chosenKinds(options.kinds);
  const WARMUP = Math.round(setting(undefined, 'instructions warm-up', 'BENCH_INSTRUCTIONS_WARMUP', 15_000));
  const REQUESTS = Math.round(setting(undefined, 'instructions requests', 'BENCH_INSTRUCTIONS_REQUESTS', 5_000));
  const CONNECTIONS = 4;
  await execute('valgrind', ['--version']).catch((error: unknown) => {
    throw new Error('[@tenant/adapter-testkit] benchmarkAdapter() in instruction mode runs each server under valgrind: install it (Debian: apt-get install valgrind)', { cause: error });
  });
  const autocannon = await loadAutocannon();
  const dir = await mkdtemp(join(tmpdir(), 'tenant-bench-'));
  const perRequest: Partial<Record<Kind, number>> = {};
  try {
    for (const kind of kinds) {
      const out = join(dir, `${kind}.callgrind`);
      // --instr-atstart=no: nothing is counted until callgrind_control turns it on, after the warm-up;
      // --smc-check=all: V8 writes the code it runs.
      const child = await startChild(options.script, kind, { execPath: 'valgrind', execArgv: ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all', `--callgrind-out-file=${out}`, '-q'] });
      try {
        await checkServer(kind, child.port);
        const fire = async (amount: number) => (await load(autocannon, kind, child.port, CONNECTIONS, { amount })).requests.total;
        await fire(WARMUP);
        await execute('callgrind_control', ['--instr=on', String(child.process.pid)]);
        const served = await fire(REQUESTS);
        await execute('callgrind_control', ['--dump', String(child.process.pid)]);
        // the dump of the measured part is the file's first part, `<out>.1`
        const dump = await readFile(`${out}.1`, 'utf8');
        const total = /^(?:summary|totals): (\d+)/m.exec(dump)?.[1];
        if (total === undefined) throw new Error(`[@tenant/adapter-testkit] no instruction total in ${out}.1`);
        perRequest[kind] = Number(total) / served;
        console.log(`${kind.padEnd(8)} ${fixed(Number(total) / served, 0, 9)} instructions/request (${served} requests after ${WARMUP} of warm-up)`);
      } finally {
        child.process.kill();
        await new Promise((resolve) => (child.process.exitCode !== null ? resolve(undefined) : child.process.once('exit', resolve)));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const tenant = perRequest.tenant!;
  const versus: Partial<Record<'bare' | 'minimal' | 'peer', number>> = {};
  for (const other of ['bare', 'minimal', 'peer'] as const) if (perRequest[other] !== undefined) versus[other] = perRequest[other] / tenant;
  console.log(`\n${options.name} (node ${process.versions.node}), user-space instructions per request under callgrind; other / @tenant (above 1: @tenant executes fewer):`);
  for (const other of ['bare', 'minimal', 'peer'] as const) {
    if (versus[other] === undefined) continue;
    const at = TARGETS[other];
    const target = at === undefined ? '' : ` (target >= ${at.toFixed(2)})`;
    console.log(`  @tenant vs ${other.padEnd(7)} ${fixed(versus[other], 3, 6)}${target}`);
  }
  return { name: options.name, perRequest, versus };
}
