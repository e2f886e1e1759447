import { TenantError } from '@tenant/core';

/**
 * The exit codes of the `tenant` binary: `0` success, `1` the operation
 * failed (not found, conflict, invalid data, an unhealthy check), `2` the
 * command line is wrong (unknown command or option, a missing or malformed
 * argument), `3` a backend (the database or Redis) cannot be reached.
 *
 * @example
 * ```ts
 * import { EXIT_CODES, run } from '@tenant/cli';
 *
 * if ((await run(['health'])) === EXIT_CODES.unreachable) console.error('a backend is down');
 * ```
 */
export const EXIT_CODES = Object.freeze({ ok: 0, failure: 1, usage: 2, unreachable: 3 } as const);

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/**
 * An error the CLI reports as one line, with its exit code. Commands throw
 * it; `run` prints it and resolves to its `exitCode`.
 *
 * @example
 * ```ts
 * import { CliError, EXIT_CODES } from '@tenant/cli';
 *
 * throw new CliError('tenant_not_found', 'no tenant acme', EXIT_CODES.failure);
 * ```
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** A stable, machine-readable code (`usage`, `unreachable`, a TenantError code, …). */
  readonly code: string;
  readonly exitCode: ExitCode;
  /** Extra data for `--json` output (row errors of an import, for instance). */
  readonly details: unknown;
  /** Lines printed before the error line in human output (one per bad row of an import). */
  readonly lines: readonly string[];

  constructor(code: string, message: string, exitCode: ExitCode, options: { cause?: unknown; details?: unknown; lines?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = exitCode;
    this.details = options.details;
    this.lines = options.lines ?? [];
  }
}

/** A usage error (exit 2). */
export const usageError = (message: string): CliError => new CliError('usage', message, EXIT_CODES.usage);

// Driver and socket codes meaning "could not reach or log in to the backend".
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  '28P01', // PostgreSQL: invalid password
  '28000', // PostgreSQL: invalid authorization
  '3D000', // PostgreSQL: database does not exist
  '57P03', // PostgreSQL: cannot connect now
  '53300', // PostgreSQL: too many connections
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'PROTOCOL_CONNECTION_LOST',
]);
const UNREACHABLE_MESSAGES = /connection terminated|timeout expired|connection is closed|connect etimedout|stream isn't writeable|getaddrinfo/i;
const MISSING_TABLE = /no such table|relation "[^"]*" does not exist|table '[^']*' doesn't exist/i;

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  // Node's happy-eyeballs connect fails with an AggregateError (one error per address).
  if (Array.isArray(errors) && errors.length > 0) return codeOf(errors[0]);
  return undefined;
}

/** The message of any thrown value, without the `[@tenant/<pkg>] ` prefix. */
export function messageOf(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  if (message === '' && typeof error === 'object' && error !== null && Array.isArray((error as { errors?: unknown }).errors)) {
    message = ((error as { errors: unknown[] }).errors).map(messageOf).join('; ');
  }
  if (message === '') message = codeOf(error) ?? (error instanceof Error ? error.name : 'unknown error');
  return message.replace(/^\[@tenant\/[a-z-]+\] /, '');
}

/** Whether an error means the backend could not be reached (or refused the login). */
export function isUnreachable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  if (TenantError.is(error, 'store_unavailable')) return true;
  return UNREACHABLE_MESSAGES.test(messageOf(error));
}

/** Where the failing operation was sent, for the error line. */
export interface ErrorContext {
  /** The store, as shown to the user (password hidden). */
  readonly store?: string;
}

/** Turns anything thrown into a {@link CliError} with the right exit code and one clear line. */
export function toCliError(error: unknown, context: ErrorContext = {}): CliError {
  if (error instanceof CliError) return error;
  // A store that wraps its driver's failure (`store_unavailable` with a cause):
  // the cause says what happened (unreachable, not migrated, …).
  if (TenantError.is(error, 'store_unavailable') && error.cause !== undefined) return toCliError(error.cause, context);
  const message = messageOf(error);
  if (TenantError.is(error)) {
    const exit = error.code === 'store_unavailable' ? EXIT_CODES.unreachable : EXIT_CODES.failure;
    return new CliError(error.code, message, exit, { cause: error, details: error.details });
  }
  const code = codeOf(error);
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    // parseArgs explains how to pass a value starting with "-": keep the first sentence.
    return new CliError('usage', message.split(/(?<=\.)\s/)[0] ?? message, EXIT_CODES.usage, { cause: error });
  }
  if (isUnreachable(error)) {
    const where = context.store === undefined ? '' : ` at ${context.store}`;
    return new CliError('unreachable', `cannot reach the store${where}: ${message}`, EXIT_CODES.unreachable, { cause: error });
  }
  if (MISSING_TABLE.test(message)) {
    return new CliError('not_migrated', `the tenant tables do not exist (${message}): run \`tenant migrate up\` first`, EXIT_CODES.failure, { cause: error });
  }
  // Node's and the drivers' own codes (ERR_INVALID_URL, ENOENT, 23505, …) are not
  // part of the CLI's interface: the message says what happened.
  return new CliError('failed', message, EXIT_CODES.failure, { cause: error });
}
