import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceCases, createConformanceContext, type ConformanceCase, type ConformanceContext } from './cases.js';
import { listenFetch } from './fetch-transport.js';
import { createConformanceFixture, createFetchConformanceFixture } from './setup.js';
import type { ConformanceMode, ConformanceOptions, FetchConformanceOptions, FetchFunction, FetchTransport, StartedServer, StartFetchAdapter, StartServer } from './types.js';

/** The outcome of one case in {@link runConformanceCases}. */
export interface ConformanceResult {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  /** The failure, when `ok` is false. */
  readonly error?: unknown;
}

/** The cases of one mode (every case that names no modes, or names this one), narrowed by `only`. */
function selectCases(options: ConformanceOptions, mode: ConformanceMode): readonly ConformanceCase[] {
  const known = new Set(conformanceCases.map((c) => c.id));
  const unknown = (options.only ?? []).filter((id) => !known.has(id));
  if (unknown.length > 0) throw new RangeError(`[@tenant/adapter-testkit] Unknown case id(s): ${unknown.join(', ')}`);
  return conformanceCases.filter((c) => (c.modes === undefined || c.modes.includes(mode)) && (options.only === undefined || options.only.includes(c.id)));
}

async function withTimeout(run: () => Promise<void>, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`[@tenant/adapter-testkit] ${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs each case in turn, each bounded by `caseTimeoutMs`; a failure is recorded, not thrown. */
async function runEach(cases: readonly ConformanceCase[], context: ConformanceContext, options: { readonly caseTimeoutMs?: number }): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const c of cases) {
    try {
      await withTimeout(() => c.run(context), options.caseTimeoutMs ?? 30_000, `case ${c.id}`);
      results.push({ id: c.id, title: c.title, ok: true });
    } catch (error) {
      results.push({ id: c.id, title: c.title, ok: false, error });
    }
  }
  return results;
}

async function startChecked(start: StartServer, setup: Parameters<StartServer>[0]): Promise<StartedServer> {
  const server = await start(setup);
  if (typeof server?.url !== 'string' || !/^https?:\/\/[^/]+$/.test(server.url) || typeof server.close !== 'function') {
    throw new TypeError('[@tenant/adapter-testkit] start() must resolve to { url: "http://127.0.0.1:<port>", close() } (no trailing slash)');
  }
  return server;
}

/**
 * Runs the cases outside any test runner: starts one server, runs each case
 * in order, closes the server, and reports each case's outcome. For
 * assertions on the suite itself (a broken adapter must fail), or for test
 * runners other than vitest.
 *
 * @example
 * ```ts
 * import { runConformanceCases } from '@tenant/adapter-testkit';
 *
 * const results = await runConformanceCases(start, { only: ['context-await'] });
 * results[0]?.ok; // false for an adapter that runs the handler outside the tenant context
 * ```
 */
export async function runConformanceCases(start: StartServer, options: ConformanceOptions = {}): Promise<ConformanceResult[]> {
  const cases = selectCases(options, 'node');
  const fixture = await createConformanceFixture();
  const server = await startChecked(start, fixture.setup);
  try {
    return await runEach(cases, createConformanceContext(server.url, fixture, options), options);
  } finally {
    await server.close();
  }
}

/**
 * Registers the conformance suite with vitest: one `describe` named after
 * the adapter, one test per case, all against one real server that `start`
 * launches before the cases and closes after them. Call it at the top level
 * of a test file, as many times as you like (each run has its own tenants).
 *
 * @param name - The adapter's name, for the `describe` title.
 * @param start - Starts a server with the adapter, given the options and handler.
 *
 * @example
 * ```ts
 * import { once } from 'node:events';
 * import type { AddressInfo } from 'node:net';
 * import express from 'express';
 * import { runAdapterConformance } from '@tenant/adapter-testkit';
 * import { tenancy } from '@tenant/express';
 *
 * runAdapterConformance('express 5', async ({ options, handler }) => {
 *   const app = express();
 *   app.use(tenancy(options));
 *   app.all('/{*path}', (req, res, next) => {
 *     handler({ req, res, tenant: req.tenant }).catch(next);
 *   });
 *   const server = app.listen(0, '127.0.0.1');
 *   await once(server, 'listening');
 *   return {
 *     url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
 *     close: () => new Promise((resolve) => server.close(() => resolve())),
 *   };
 * });
 * ```
 */
export function runAdapterConformance(name: string, start: StartServer, options: ConformanceOptions = {}): void {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('[@tenant/adapter-testkit] runAdapterConformance needs a name');
  if (typeof start !== 'function') throw new TypeError('[@tenant/adapter-testkit] runAdapterConformance needs a start(setup) function');
  const cases = selectCases(options, 'node');
  describe(`adapter conformance: ${name}`, () => {
    let server: StartedServer | undefined;
    let context: ConformanceContext | undefined;
    beforeAll(async () => {
      const fixture = await createConformanceFixture();
      server = await startChecked(start, fixture.setup);
      context = createConformanceContext(server.url, fixture, options);
    }, 30_000);
    afterAll(async () => {
      await server?.close();
    }, 30_000);
    for (const c of cases) {
      it(`${c.id}: ${c.title}`, async () => {
        if (context === undefined) throw new Error('[@tenant/adapter-testkit] The server did not start');
        await c.run(context);
      }, options.caseTimeoutMs ?? 30_000);
    }
  });
}

async function startFetchChecked(start: StartFetchAdapter, setup: Parameters<StartFetchAdapter>[0]): Promise<FetchFunction> {
  const fetch = await start(setup);
  if (typeof fetch !== 'function') throw new TypeError('[@tenant/adapter-testkit] start() must return (or resolve to) a fetch function: (request: Request) => Response | Promise<Response>');
  return fetch;
}

/** Starts one fetch-mode run: the fixture, the fetch function, and how the cases reach it. */
async function startFetchRun(start: StartFetchAdapter, transport: FetchTransport, options: FetchConformanceOptions) {
  const fixture = await createFetchConformanceFixture();
  const fetch = await startFetchChecked(start, fixture.setup);
  if (transport === 'in-process') return { fixture, target: { fetch }, close: async () => undefined };
  const server = await (options.serve ?? listenFetch)(fetch);
  if (typeof server?.url !== 'string' || !/^https?:\/\/[^/]+$/.test(server.url) || typeof server.close !== 'function') {
    throw new TypeError('[@tenant/adapter-testkit] serve() must resolve to { url: "http://127.0.0.1:<port>", close() } (no trailing slash)');
  }
  return { fixture, target: server.url, close: () => server.close() };
}

function checkTransport(transport: unknown): FetchTransport {
  if (transport !== 'in-process' && transport !== 'http') throw new RangeError(`[@tenant/adapter-testkit] Unknown transport: ${String(transport)} (in-process or http)`);
  return transport;
}

/**
 * Runs the fetch-mode cases outside any test runner, over one transport:
 * `in-process` (the default) calls the fetch function directly; `http`
 * serves it over real HTTP (`options.serve`, or `listenFetch`).
 *
 * @example
 * ```ts
 * import { runFetchConformanceCases } from '@tenant/adapter-testkit';
 *
 * const results = await runFetchConformanceCases(({ options, handler }) => myFetchAdapter(options, handler));
 * results.filter((r) => !r.ok); // []
 * ```
 */
export async function runFetchConformanceCases(start: StartFetchAdapter, options: FetchConformanceOptions & { readonly transport?: FetchTransport } = {}): Promise<ConformanceResult[]> {
  const cases = selectCases(options, 'fetch');
  const run = await startFetchRun(start, checkTransport(options.transport ?? 'in-process'), options);
  try {
    return await runEach(cases, createConformanceContext(run.target, run.fixture, options), options);
  } finally {
    await run.close();
  }
}

/**
 * Registers the fetch-mode suite with vitest, for adapters whose handlers
 * take a Web `Request` and return a `Response` (Hono, a `withTenancy`
 * wrapped handler, h3, Elysia): the same cases as
 * {@link runAdapterConformance}, plus `context-readable-stream`, run twice:
 * against the fetch function in this process, and over real HTTP.
 *
 * @param name - The adapter's name, for the `describe` titles.
 * @param start - Builds the fetch function: your framework, your adapter
 *   with `options` as they are, then `handler` for every method and path.
 * @param options - Suite options; `serve` to serve over HTTP with your own
 *   server (default: `listenFetch`, node:http with a Request/Response bridge).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { runFetchAdapterConformance } from '@tenant/adapter-testkit';
 * import { tenancy } from '@tenant/hono';
 *
 * runFetchAdapterConformance('hono', ({ options, handler }) => {
 *   const app = new Hono();
 *   app.use(tenancy(options));
 *   app.all('*', (c) => handler({ request: c.req.raw, tenant: c.get('tenant') }));
 *   return app.fetch;
 * });
 * ```
 */
export function runFetchAdapterConformance(name: string, start: StartFetchAdapter, options: FetchConformanceOptions & { readonly transports?: readonly FetchTransport[] } = {}): void {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('[@tenant/adapter-testkit] runFetchAdapterConformance needs a name');
  if (typeof start !== 'function') throw new TypeError('[@tenant/adapter-testkit] runFetchAdapterConformance needs a start(setup) function');
  const cases = selectCases(options, 'fetch');
  const transports = (options.transports ?? ['in-process', 'http']).map(checkTransport);
  for (const transport of transports) {
    describe(`adapter conformance (fetch, ${transport === 'http' ? 'over HTTP' : 'in process'}): ${name}`, () => {
      let run: Awaited<ReturnType<typeof startFetchRun>> | undefined;
      let context: ConformanceContext | undefined;
      beforeAll(async () => {
        run = await startFetchRun(start, transport, options);
        context = createConformanceContext(run.target, run.fixture, options);
      }, 30_000);
      afterAll(async () => {
        await run?.close();
      }, 30_000);
      for (const c of cases) {
        it(`${c.id}: ${c.title}`, async () => {
          if (context === undefined) throw new Error('[@tenant/adapter-testkit] The fetch adapter did not start');
          await c.run(context);
        }, options.caseTimeoutMs ?? 30_000);
      }
    });
  }
}
