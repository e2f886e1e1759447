import type { CliError } from './errors.js';

/** A stream the CLI writes to (a `process.stdout`-like object). */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Human or `--json` output: results on stdout, errors and progress on stderr. */
export interface Output {
  readonly json: boolean;
  /** Prints a result: `human` lines, or `data` as one JSON document with `--json`. */
  result(human: string | readonly string[], data: unknown): void;
  /** Writes raw text to stdout (exported data). */
  raw(text: string): void;
  /** A note for humans on stderr (never in `--json` mode). */
  note(line: string): void;
  /** Reports an error: one line (`tenant: …`), or one JSON line `{"error":{…}}` with `--json`. */
  error(error: CliError, stack?: string): void;
  /** A progress bar on a TTY stderr, plain lines otherwise (none with `--json`). */
  progress(total: number, what: string): Progress;
}

/** Progress of a long command, see {@link Output.progress}. */
export interface Progress {
  /** One item done: `index` is 1-based. */
  tick(index: number, label: string, failed?: string): void;
  /** Clears the bar. */
  done(): void;
}

const BAR = 24;

export function createOutput(stdout: OutputStream, stderr: OutputStream, json: boolean): Output {
  return {
    json,
    result(human, data) {
      if (json) stdout.write(`${JSON.stringify(data)}\n`);
      else {
        const lines = typeof human === 'string' ? [human] : human;
        if (lines.length > 0) stdout.write(`${lines.join('\n')}\n`);
      }
    },
    raw(text) {
      stdout.write(text);
    },
    note(line) {
      if (!json) stderr.write(`${line}\n`);
    },
    error(error, stack) {
      if (json) {
        const body: Record<string, unknown> = { code: error.code, message: error.message, exitCode: error.exitCode };
        if (error.details !== undefined) body['details'] = error.details;
        stderr.write(`${JSON.stringify({ error: body })}\n`);
        return;
      }
      for (const line of error.lines) stderr.write(`${line}\n`);
      stderr.write(`tenant: ${error.message}\n`);
      if (stack !== undefined) stderr.write(`${stack}\n`);
    },
    progress(total, what) {
      const tty = stderr.isTTY === true;
      let shown = false;
      return {
        tick(index, label, failed) {
          if (tty) {
            const filled = total === 0 ? BAR : Math.round((index / total) * BAR);
            const width = Math.max(20, (stderr.columns ?? 80) - BAR - 20);
            const name = label.length > width ? `${label.slice(0, width - 1)}…` : label;
            stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${index}/${total} ${what} ${name}`);
            shown = true;
            if (failed !== undefined) stderr.write(`\r\x1b[2K${label}: ${failed}\n`);
          } else if (!json) {
            stderr.write(`${index}/${total} ${label} ${failed === undefined ? 'ok' : `failed: ${failed}`}\n`);
          }
        },
        done() {
          if (shown) stderr.write('\r\x1b[2K');
        },
      };
    },
  };
}

/** Formats rows as aligned columns, header first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
