import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** What one run of the binary gave. */
export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/bin.js ...args` and collects its output. TENANT_* variables of the caller are not inherited. */
export function tenant(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string; bin?: string } = {}): Promise<Result> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TENANT_') && v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [options.bin ?? BIN, ...args], { cwd: options.cwd ?? process.cwd(), env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses stdout as JSON, failing with the output when it is not. */
export function json<T = any>(result: Result): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${String(result.code)}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** A failure must be exactly one line on stderr, without a stack trace. */
export function oneLine(result: Result): string {
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || /\n\s+at /.test(result.stderr)) throw new Error(`expected one line on stderr, got:\n${result.stderr}`);
  return lines[0] as string;
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tenant-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A name unique to this run, for tables, schemas and keys on the shared servers. */
export const unique = (tag: string) => `cli${process.pid}_${randomBytes(3).toString('hex')}_${tag}`;
