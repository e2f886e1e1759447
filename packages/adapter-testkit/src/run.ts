import { afterAll, beforeAll, describe, it } from 'vitest';
import { conformanceCases, createConformanceContext, type ConformanceCase, type ConformanceContext } from './cases.js';
import { createConformanceFixture } from './setup.js';
import type { ConformanceOptions, StartedServer, StartServer } from './types.js';

/** The outcome of one case in {@link runConformanceCases}. */
export interface ConformanceResult {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  /** The failure, when `ok` is false. */
  readonly error?: unknown;
}

function selectCases(options: ConformanceOptions): readonly ConformanceCase[] {
  if (options.only === undefined) return conformanceCases;
  const known = new Set(conformanceCases.map((c) => c.id));
  const unknown = options.only.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new RangeError(`[@tenant/adapter-testkit] Unknown case id(s): ${unknown.join(', ')}`);
  return conformanceCases.filter((c) => options.only?.includes(c.id));
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
  const cases = selectCases(options);
  const fixture = await createConformanceFixture();
  const server = await startChecked(start, fixture.setup);
  const results: ConformanceResult[] = [];
  try {
    const context = createConformanceContext(server.url, fixture, options);
    for (const c of cases) {
      try {
        await withTimeout(() => c.run(context), options.caseTimeoutMs ?? 30_000, `case ${c.id}`);
        results.push({ id: c.id, title: c.title, ok: true });
      } catch (error) {
        results.push({ id: c.id, title: c.title, ok: false, error });
      }
    }
  } finally {
    await server.close();
  }
  return results;
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
  const cases = selectCases(options);
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
