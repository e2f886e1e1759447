import type { ParseArgsConfig } from 'node:util';
import type { SqlTenantStore } from '@tenant/store-sql';
import type { Redis } from 'ioredis';
import { validateTenantId } from '@tenant/core';
import { usageError, type ExitCode } from './errors.js';
import type { Output } from './output.js';
import type { AnyKysely, StoreTarget } from './target.js';

/** The option values parsed by `node:util` `parseArgs`. */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command runs with. */
export interface Context {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  readonly out: Output;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: AsyncIterable<string | Uint8Array> | undefined;
  readonly target: StoreTarget;
  readonly tablePrefix: string;
  readonly timeoutMs: number;
  /** The Redis URL from `--redis` or `TENANT_REDIS_URL`, if any. */
  readonly redisUrl: string | undefined;
  /** Opens the database once (closed when the command ends). */
  db(options?: { create?: boolean }): Promise<AnyKysely>;
  /** The SQL tenant store on {@link Context.db}. */
  store(): Promise<SqlTenantStore>;
  /** A connected, fail-fast Redis client (closed when the command ends). */
  redis(url?: string): Promise<Redis>;
}

/** One command of the CLI. */
export interface Command {
  /** `create`, or `migrate up` for a subcommand. */
  readonly name: string;
  readonly summary: string;
  /** The arguments after the name, for the usage line: `<id> [options]`. */
  readonly args: string;
  readonly options?: ParseArgsConfig['options'];
  /** `[flag, description]` for the help. */
  readonly optionHelp?: readonly (readonly [string, string])[];
  readonly examples: readonly string[];
  /** Smallest and largest number of positional arguments. */
  readonly positionals: readonly [number, number];
  /** Extra help text. */
  readonly notes?: readonly string[];
  run(ctx: Context): Promise<ExitCode | void>;
}

/** A tenant id given on the command line, checked (exit 2 when malformed). */
export function idArgument(ctx: Context, index = 0): string {
  const id = ctx.positionals[index] ?? '';
  try {
    return validateTenantId(id);
  } catch (error) {
    throw usageError(`${JSON.stringify(id)} is not a valid tenant id: ${(error as Error).message.replace(/^\[@tenant\/[a-z-]+\] Invalid tenant id: /, '')}`);
  }
}

export const str = (ctx: Context, name: string): string | undefined => {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
};

export const list = (ctx: Context, name: string): string[] => {
  const v = ctx.values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
};

export const flag = (ctx: Context, name: string): boolean => ctx.values[name] === true;

/** A positive integer option, or a usage error. */
export function intOption(ctx: Context, name: string, fallback: number | undefined): number | undefined {
  const raw = str(ctx, name);
  if (raw === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw usageError(`--${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** One of a set of words, or a usage error. */
export function choice<T extends string>(ctx: Context, name: string, choices: readonly T[], fallback: T): T {
  const raw = str(ctx, name);
  if (raw === undefined) return fallback;
  if (!choices.includes(raw as T)) throw usageError(`--${name} must be one of ${choices.join(', ')}, not ${JSON.stringify(raw)}`);
  return raw as T;
}

/** A JSON option value, or a usage error. */
export function jsonOption(ctx: Context, name: string): unknown {
  const raw = str(ctx, name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw usageError(`--${name} is not valid JSON: ${(error as Error).message}`);
  }
}
