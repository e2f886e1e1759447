/**
 * Smoke runs of @tenant/hono and the generic fetch wrapper of
 * @tenant/core/fetch on Bun, Deno and workerd (through miniflare, with
 * nodejs_compat), each installed from the npm registry (`bun`, `deno`,
 * `miniflare` packages) into <repo>/.runtimes on first use. The checks
 * (test/runtimes/app.mjs): resolve, reject with problem+json, quota headers
 * then 429, the context across awaits and in a pulled response body; in
 * process and over the runtime's own HTTP server. A runtime that cannot be
 * installed fails its test: nothing here is skipped.
 *
 * Runs once per CI run (`test`), not again on Node 22/24 (`test:compat`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const runtimesDir = here('../../../.runtimes');
const bin = (name: string) => `${runtimesDir}/node_modules/.bin/${name}`;
/** Majors under test; npm picks the newest of each. */
const RUNTIMES = ['bun@1', 'deno@2', 'miniflare@4'];
const CHECKS = ['resolve', 'reject-problem-json', 'quota-headers', 'context-across-awaits', 'context-in-pulled-body'];

interface Result {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

beforeAll(async () => {
  if (!existsSync(here('../dist/index.js'))) throw new Error('packages/hono/dist is missing: run pnpm --filter @tenant/hono build first');
  if (existsSync(bin('bun')) && existsSync(bin('deno')) && existsSync(`${runtimesDir}/node_modules/miniflare/package.json`)) return;
  // From the npm registry only: the packages carry their binaries (optional platform packages).
  await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', runtimesDir, ...RUNTIMES], { timeout: 540_000, maxBuffer: 16 * 1024 * 1024 });
}, 600_000);

async function smoke(command: string, args: readonly string[]): Promise<{ runtime: string; results: Result[] }> {
  const { stdout, stderr } = await run(command, [...args], { cwd: here('..'), timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  const line = /^RESULT (.*)$/m.exec(stdout);
  if (line === null) throw new Error(`${command} printed no RESULT line:\n${stdout}\n${stderr}`);
  return JSON.parse(line[1] as string) as { runtime: string; results: Result[] };
}

function expectAllPassed(results: readonly Result[], prefixes: readonly string[]): void {
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(results.map((r) => r.name).sort()).toEqual(prefixes.flatMap((prefix) => CHECKS.map((check) => `${prefix}: ${check}`)).sort());
}

/** What the test uses of miniflare (installed in .runtimes, not a dependency of this package). */
type MiniflareClass = new (options: { modules: boolean; script: string; compatibilityDate: string; compatibilityFlags: string[] }) => {
  dispatchFetch(url: string, init?: { headers?: Record<string, string> }): Promise<Response>;
  dispose(): Promise<void>;
};

const FOUR_WAYS = ['hono in process', 'hono over HTTP', 'wrapper in process', 'wrapper over HTTP'];

describe('Web-standard runtimes, installed from npm', () => {
  it('Bun: @tenant/hono and withTenancy, in process and on Bun.serve', async () => {
    const { runtime, results } = await smoke(bin('bun'), ['test/runtimes/smoke.mjs']);
    expect(runtime).toMatch(/^bun 1\./);
    expectAllPassed(results, FOUR_WAYS);
  }, 180_000);

  it('Deno: @tenant/hono and withTenancy, in process and on Deno.serve', async () => {
    const { runtime, results } = await smoke(bin('deno'), ['run', '--allow-all', '--no-prompt', 'test/runtimes/smoke.mjs']);
    expect(runtime).toMatch(/^deno 2\./);
    expectAllPassed(results, FOUR_WAYS);
  }, 180_000);

  it('workerd (miniflare, nodejs_compat): @tenant/hono and withTenancy, in the worker and through dispatchFetch', async () => {
    const bundled = await build({
      entryPoints: [here('./runtimes/worker.mjs')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      conditions: ['workerd', 'worker', 'import'],
      external: ['node:*'],
    });
    const script = bundled.outputFiles[0]?.text ?? '';
    const requireFromRuntimes = createRequire(`${runtimesDir}/package.json`);
    const { Miniflare } = (await import(pathToFileURL(requireFromRuntimes.resolve('miniflare')).href)) as { Miniflare: MiniflareClass };
    const mf = new Miniflare({ modules: true, script, compatibilityDate: '2025-09-01', compatibilityFlags: ['nodejs_compat'] });
    try {
      const inWorker = (await (await mf.dispatchFetch('http://app.test/__smoke')).json()) as Result[];
      expectAllPassed(inWorker, ['hono in the worker', 'wrapper in the worker']);
      const { smoke: smokeChecks } = (await import(pathToFileURL(here('./runtimes/app.mjs')).href)) as {
        smoke: (send: (path: string, headers: Record<string, string>) => Promise<Response>, options?: { cors?: boolean }) => Promise<Result[]>;
      };
      const hono = await smokeChecks((path, headers) => mf.dispatchFetch(`http://app.test${path}`, { headers }), { cors: true });
      const wrapper = await smokeChecks((path, headers) => mf.dispatchFetch(`http://app.test${path}`, { headers: { ...headers, 'x-app': 'wrapper' } }));
      expectAllPassed(
        [...hono.map((r) => ({ ...r, name: `hono through workerd: ${r.name}` })), ...wrapper.map((r) => ({ ...r, name: `wrapper through workerd: ${r.name}` }))],
        ['hono through workerd', 'wrapper through workerd'],
      );
    } finally {
      await mf.dispose();
    }
  }, 180_000);
});
