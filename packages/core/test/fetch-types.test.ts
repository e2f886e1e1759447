/**
 * `@tenant/core/fetch` typechecks in a project without `@types/node` (a
 * Workers, Deno or browser-typed project): the fixture in fixtures-fetch/ is
 * compiled by tsc with `"types": []`, the DOM lib and `skipLibCheck: false`,
 * against the built declarations. The main entry, whose types name
 * `node:http`, does not: proof that the check would see a leak.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const fixture = (file: string) => fileURLToPath(new URL(`./fixtures-fetch/${file}`, import.meta.url));

async function compile(project: string): Promise<{ code: number; output: string; files: string[] }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', fixture(project), '--listFiles'], { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout, files: stdout.split('\n').filter((line) => line.endsWith('.ts')) };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    return { code, output: stdout, files: stdout.split('\n').filter((line) => line.endsWith('.ts')) };
  }
}

beforeAll(() => {
  for (const file of ['fetch.d.ts', 'index.d.ts']) {
    if (!existsSync(fileURLToPath(new URL(`../dist/${file}`, import.meta.url)))) throw new Error(`packages/core/dist/${file} is missing: run pnpm --filter @tenant/core build first`);
  }
});

describe('@tenant/core/fetch without @types/node', () => {
  it('compiles a Workers-style module with types: [] and no @types/node in the program', async () => {
    const result = await compile('tsconfig.json');
    expect(result.output.split('\n').filter((line) => line.includes('error TS'))).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.files.some((file) => file.includes('/dist/fetch.d.ts'))).toBe(true);
    expect(result.files.filter((file) => file.includes('@types/node'))).toEqual([]);
  }, 60_000);

  it('the main entry, which names node:http, does not compile there', async () => {
    const result = await compile('tsconfig.main.json');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/node:http/);
  }, 60_000);
});
