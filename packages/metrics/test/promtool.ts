import { spawnSync } from 'node:child_process';

/** Whether promtool is on the PATH. */
export const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * In CI (`CI=true`) a missing promtool must fail the suite, never skip it;
 * locally, without promtool, the promtool tests are skipped.
 */
export const runPromtool = hasPromtool || process.env['CI'] === 'true';

/** Runs `promtool check metrics` on `exposition`; returns its exit status and output. */
export function promtoolCheck(exposition: string): { status: number | null; output: string; error: Error | undefined } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, error: result.error };
}
