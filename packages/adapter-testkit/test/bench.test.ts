import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { benchmarkAdapter, type BenchmarkInstructions, type BenchmarkResult } from '../src/bench.js';

const fixture = fileURLToPath(new URL('./fixtures/bench-node-http.mjs', import.meta.url));
const run = (env: Record<string, string> = {}) => promisify(execFile)(process.execPath, [fixture], { env: { ...process.env, ...env }, timeout: 60_000 });

describe('benchmarkAdapter', () => {
  it('drives a bare and a tenancy server in child processes and prints and returns the figures', async () => {
    const { stdout } = await run();
    expect(stdout).toMatch(/^round 1 bare +[0-9]+ req\/s +[0-9.]+ µs CPU\/request$/m);
    expect(stdout).toMatch(/^round 1 tenant +[0-9]+ req\/s +[0-9.]+ µs CPU\/request$/m);
    expect(stdout).toMatch(/^node:http fixture \(node [0-9.]+, 2 connections, 1 rounds of 1 s\): bare [0-9]+ req\/s, with tenancy [0-9]+ req\/s, ratio [0-9.]+; median ratio of paired rounds [0-9.]+; CPU-time ratio/m);
    const result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)![1]!) as BenchmarkResult;
    expect(result.rounds).toHaveLength(1);
    expect(result.bare).toBeGreaterThan(0);
    expect(result.tenant).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.tenant / result.bare, 10);
    expect(result.rounds[0]!.tenant.usPerRequest).toBeGreaterThan(0);
    expect(result.rounds[0]!.minimal).toBeUndefined();
    expect(result.versus).toEqual({});
  }, 60_000);

  it('stops its servers when the driving process dies', async () => {
    const driver = spawn(process.execPath, [fixture], { env: { ...process.env, BENCH_KINDS: 'minimal' }, stdio: 'ignore' });
    const childrenOf = async (pid: number) => {
      const found: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
        // the parent pid is the second field after the command name
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
      }
      return found;
    };
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    let servers: number[] = [];
    await vi.waitFor(async () => {
      servers = await childrenOf(driver.pid!);
      expect(servers).toHaveLength(3); // bare, minimal, tenant
    }, { timeout: 20_000, interval: 100 });
    driver.kill('SIGKILL');
    await vi.waitFor(() => expect(servers.filter(alive)).toEqual([]), { timeout: 20_000, interval: 100 });
  }, 60_000);

  it('fails the run when a server answers anything but 2xx', async () => {
    // the tenancy server answers 500 once checked: its later requests count as non-2xx
    await expect(run({ BENCH_FIXTURE: 'fail' })).rejects.toMatchObject({ stderr: expect.stringMatching(/tenant: [1-9][0-9]* non-2xx answers/) as unknown });
  }, 60_000);

  it('puts all four servers side by side, with the ratios of tenant to minimal and to peer', async () => {
    const { stdout } = await run({ BENCH_KINDS: 'peer,minimal' });
    for (const kind of ['bare', 'minimal', 'peer', 'tenant']) expect(stdout).toMatch(new RegExp(`^round 1 ${kind} +[0-9]+ req/s +[0-9.]+ µs CPU/request$`, 'm'));
    expect(stdout).toMatch(/^peer +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$/m);
    expect(stdout).toMatch(/^@tenant vs peer: CPU [0-9.]+, req\/s [0-9.]+ \(target >= 1\.00 by CPU: (met|MISSED)\)$/m);
    expect(stdout).toMatch(/^@tenant vs minimal: CPU [0-9.]+, req\/s [0-9.]+ \(target >= 0\.90 by CPU: (met|MISSED)\)$/m);
    const result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)![1]!) as BenchmarkResult;
    const round = result.rounds[0]!;
    expect(Object.keys(result.rows).sort()).toEqual(['bare', 'minimal', 'peer', 'tenant']);
    expect(result.versus.peer!.cpuRatio).toBeCloseTo(round.peer!.usPerRequest / round.tenant.usPerRequest, 10);
    expect(result.versus.minimal!.rpsRatio).toBeCloseTo(round.tenant.rps / round.minimal!.rps, 10);
  }, 60_000);

  it('counts instructions per request under callgrind in instruction mode, with the ratios', async () => {
    const { stdout } = await run({ BENCH_INSTRUCTIONS: '1', BENCH_INSTRUCTIONS_WARMUP: '100', BENCH_INSTRUCTIONS_REQUESTS: '100', BENCH_KINDS: 'minimal' });
    for (const kind of ['bare', 'minimal', 'tenant']) expect(stdout).toMatch(new RegExp(`^${kind} +[0-9]+ instructions/request \\(100 requests after 100 of warm-up\\)$`, 'm'));
    expect(stdout).toMatch(/^ {2}@tenant vs minimal +[0-9.]+ \(target >= 0\.90\)$/m);
    const result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)![1]!) as BenchmarkInstructions;
    expect(Object.keys(result.perRequest).sort()).toEqual(['bare', 'minimal', 'tenant']);
    // a node:http server runs some thousands of instructions per request (after 100 requests the
    // code is still cold, so the rows are not compared with each other here)
    for (const kind of ['bare', 'minimal', 'tenant'] as const) expect(result.perRequest[kind]).toBeGreaterThan(1_000);
    expect(result.versus.bare).toBeCloseTo(result.perRequest.bare! / result.perRequest.tenant!, 10);
    expect(result.versus.minimal).toBeCloseTo(result.perRequest.minimal! / result.perRequest.tenant!, 10);
  }, 180_000);

  it('says what to install when valgrind is missing in instruction mode', async () => {
    // a PATH with node only
    const bin = await mkdtemp(join(tmpdir(), 'bench-path-'));
    await symlink(process.execPath, join(bin, 'node'));
    try {
      await expect(run({ BENCH_INSTRUCTIONS: '1', PATH: bin })).rejects.toMatchObject({ stderr: expect.stringMatching(/instruction mode runs each server under valgrind: install it/) as unknown });
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  }, 60_000);

  it('checks each server before measuring it: the hello text, and a refusal of an unknown tenant', async () => {
    await expect(run({ BENCH_FIXTURE: 'wrong' })).rejects.toMatchObject({ stderr: expect.stringMatching(/the tenant server answered 200 "hello" to GET \/hello for tenant acme/) as unknown });
    await expect(run({ BENCH_FIXTURE: 'open', BENCH_KINDS: 'minimal' })).rejects.toMatchObject({
      stderr: expect.stringMatching(/the minimal server answered 200 to GET \/hello for an unknown tenant, not a 4xx refusal/) as unknown,
    });
  }, 60_000);

  it('refuses settings that are not positive numbers, before starting anything', async () => {
    const serve = () => Promise.reject(new Error('must not start'));
    await expect(benchmarkAdapter({ name: 'x', script: import.meta.url, serve, rounds: 0 })).rejects.toThrow(/rounds \(BENCH_ROUNDS\) must be a positive number, not rounds: 0/);
    process.env['BENCH_DURATION'] = 'soon';
    try {
      await expect(benchmarkAdapter({ name: 'x', script: import.meta.url, serve })).rejects.toThrow(/duration \(BENCH_DURATION\) must be a positive number, not BENCH_DURATION=soon/);
    } finally {
      delete process.env['BENCH_DURATION'];
    }
    await expect(benchmarkAdapter({ name: 'x', script: import.meta.url, serve, kinds: ['bare', 'fancy' as 'peer'] })).rejects.toThrow(/kinds must be among bare, minimal, peer, tenant, not "fancy"/);
  });
});
