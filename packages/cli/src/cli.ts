import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { SqlTenantStore } from '@tenant/store-sql';
import type { Redis } from 'ioredis';
import { CliError, EXIT_CODES, toCliError, usageError, type ExitCode } from './errors.js';
import { createOutput, type OutputStream } from './output.js';
import { checkRedisUrl, DEFAULT_DATABASE, openDatabase, openRedis, parseStoreUrl, type AnyKysely, type StoreTarget } from './target.js';
import type { Command, Context, OptionValues } from './command.js';
import { tenantCommands } from './commands/tenants.js';
import { dataCommands } from './commands/data.js';
import { migrateCommands } from './commands/migrate.js';
import { schemaCommands } from './commands/schemas.js';
import { opsCommands } from './commands/ops.js';

declare const __CLI_VERSION__: string;

/** Where the CLI reads and writes: the process by default, anything alike in tests or embedding. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Read by `import -`. @default process.stdin */
  readonly stdin?: AsyncIterable<string | Uint8Array>;
  /** @default process.env */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (SQLite files, import and export files) start here. @default process.cwd() */
  readonly cwd: string;
}

const COMMANDS: readonly Command[] = [...migrateCommands, ...tenantCommands, ...dataCommands, ...schemaCommands, ...opsCommands];
const GROUPS = new Map<string, Command[]>();
for (const c of COMMANDS) {
  const [group, sub] = c.name.split(' ');
  if (sub !== undefined && group !== undefined) GROUPS.set(group, [...(GROUPS.get(group) ?? []), c]);
}

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  redis: { type: 'string' },
  'table-prefix': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];
const VALUE_OPTIONS = new Set(['--url', '--redis', '--table-prefix', '--timeout']);

const GLOBAL_HELP = [
  ['--url <url>', `the store: postgres://…, mysql://…, mariadb://…, sqlite:<path>, file:<path> or a path (default: TENANT_DATABASE_URL, else ${DEFAULT_DATABASE})`],
  ['--redis <url>', 'Redis, for health and cache warm (default: TENANT_REDIS_URL)'],
  ['--table-prefix <p>', "prefix of the store's tables (default: TENANT_TABLE_PREFIX, else none)"],
  ['--timeout <ms>', 'connection and health-check timeout (default 5000)'],
  ['--json', 'machine-readable output on stdout; errors as one JSON line on stderr'],
  ['--debug', 'print the stack trace of an error'],
  ['-h, --help', 'help (for a command: tenant <command> --help)'],
  ['-v, --version', 'the version'],
] as const;

const EXIT_HELP = ['Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 a backend cannot be reached.'];

function pad(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

function mainHelp(): string {
  return [
    'tenant: manage the tenants of @tenant/* stores',
    '',
    'Usage: tenant <command> [arguments] [options]',
    '',
    'Commands:',
    ...pad(COMMANDS.map((c) => [c.name, c.summary] as const)),
    '',
    'Global options:',
    ...pad(GLOBAL_HELP),
    '',
    ...EXIT_HELP,
    'Precedence: a flag beats its environment variable, which beats the default.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `tenant ${c.name}: ${c.summary}`,
    '',
    `Usage: tenant ${c.name}${c.args === '' ? '' : ` ${c.args}`}`,
    ...(c.notes === undefined ? [] : ['', ...c.notes]),
    ...(c.optionHelp === undefined || c.optionHelp.length === 0 ? [] : ['', 'Options:', ...pad(c.optionHelp)]),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
    'Global options:',
    ...pad(GLOBAL_HELP),
    '',
    ...EXIT_HELP,
  ].join('\n');
}

function groupHelp(group: string, commands: readonly Command[]): string {
  return [`Usage: tenant ${group} <${commands.map((c) => c.name.split(' ')[1]).join('|')}> [options]`, '', ...pad(commands.map((c) => [c.name, c.summary] as const)), '', `tenant ${group} <subcommand> --help for its options.`, '', ...EXIT_HELP].join('\n');
}

/** Splits the command words from the options (global options may come first). */
function splitCommand(argv: readonly string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    // One word, two for a group (`migrate up`), and `help` followed by either.
    const command = words[0] === 'help' ? words.slice(1) : words;
    const wanted = words.length + (command.length === 0 || (command.length === 1 && GROUPS.has(command[0] as string)) ? 1 : 0);
    if (!arg.startsWith('-') && words.length < wanted) {
      words.push(arg);
      continue;
    }
    rest.push(arg);
    if (VALUE_OPTIONS.has(arg) && i + 1 < argv.length) {
      i += 1;
      rest.push(argv[i] as string);
    }
  }
  return { words, rest };
}

function findCommand(words: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.name === words.join(' '));
}

function timeoutOf(raw: string | undefined): number {
  if (raw === undefined) return 5000;
  if (!/^[1-9][0-9]*$/.test(raw) || Number(raw) > 600_000) throw usageError(`--timeout must be a number of milliseconds from 1 to 600000, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() });

/**
 * Runs the `tenant` command line with `argv` (without `node` and the script)
 * and resolves to its exit code (see {@link EXIT_CODES}). It never throws
 * and never exits the process: errors are printed as one line (or one JSON
 * line with `--json`), and every connection it opened is closed.
 *
 * @example
 * ```ts
 * import { run } from '@tenant/cli';
 *
 * process.exitCode = await run(['list', '--url', 'sqlite:./tenants.db', '--json']);
 * ```
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<ExitCode> {
  const { stdout, stderr, stdin, env, cwd } = { ...defaultIo(), ...io };
  const beforeDashes = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'));
  const out = createOutput(stdout, stderr, beforeDashes.includes('--json'));
  const debug = beforeDashes.includes('--debug');
  let target: StoreTarget | undefined;
  let db: AnyKysely | undefined;
  const redisClients: Redis[] = [];
  try {
    const { words, rest } = splitCommand(argv);
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (words[0] === 'help' || (words.length === 0 && (wantsHelp || rest.length === 0))) {
      const topic = words.slice(1);
      const c = findCommand(topic);
      const group = topic[0] === undefined ? undefined : GROUPS.get(topic[0]);
      stdout.write(`${c !== undefined ? commandHelp(c) : group !== undefined && topic.length === 1 ? groupHelp(topic[0] as string, group) : mainHelp()}\n`);
      if (topic.length > 0 && c === undefined && group === undefined) throw usageError(`unknown command ${JSON.stringify(topic.join(' '))}`);
      return EXIT_CODES.ok;
    }
    if (words.length === 0 && (rest.includes('--version') || rest.includes('-v'))) {
      stdout.write(`${__CLI_VERSION__}\n`);
      return EXIT_CODES.ok;
    }
    if (words.length === 0) throw usageError('no command given: tenant --help lists them');
    const group = words[0] === undefined ? undefined : GROUPS.get(words[0]);
    if (group !== undefined && words.length === 1) {
      if (wantsHelp) {
        stdout.write(`${groupHelp(words[0] as string, group)}\n`);
        return EXIT_CODES.ok;
      }
      throw usageError(`${words[0] as string} needs a subcommand: ${group.map((c) => c.name.split(' ')[1]).join(', ')} (tenant ${words[0] as string} --help)`);
    }
    const command = findCommand(words);
    if (command === undefined) throw usageError(`unknown command ${JSON.stringify(words.join(' '))}: see tenant --help`);
    if (wantsHelp) {
      stdout.write(`${commandHelp(command)}\n`);
      return EXIT_CODES.ok;
    }
    const parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    const values = parsed.values as OptionValues;
    const [min, max] = command.positionals;
    if (parsed.positionals.length < min) throw usageError(`missing argument: tenant ${command.name} ${command.args}`);
    if (parsed.positionals.length > max) throw usageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}: tenant ${command.name} ${command.args}`);

    const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
    const nonEmpty = (value: string | undefined) => (value === '' ? undefined : value);
    const envUrl = nonEmpty(env['TENANT_DATABASE_URL']);
    const url = str('url') ?? envUrl ?? DEFAULT_DATABASE;
    const urlSource = str('url') === undefined && envUrl !== undefined ? 'TENANT_DATABASE_URL' : '--url';
    const resolved = parseStoreUrl(url, cwd, urlSource);
    target = resolved;
    const timeoutMs = timeoutOf(str('timeout'));
    const tablePrefix = str('table-prefix') ?? env['TENANT_TABLE_PREFIX'] ?? '';
    if (!/^(?:[A-Za-z_][A-Za-z0-9_]{0,39})?$/.test(tablePrefix)) throw usageError('--table-prefix must be letters, digits and _, not starting with a digit (at most 40)');
    const redisUrl = str('redis') ?? nonEmpty(env['TENANT_REDIS_URL']);
    const redisSource = str('redis') === undefined ? 'TENANT_REDIS_URL' : '--redis';
    if (redisUrl !== undefined) checkRedisUrl(redisUrl, redisSource);
    let store: SqlTenantStore | undefined;
    const ctx: Context = {
      values,
      positionals: parsed.positionals,
      out,
      cwd,
      env,
      stdin,
      target: resolved,
      tablePrefix,
      timeoutMs,
      redisUrl,
      async db(options = {}) {
        db ??= await openDatabase(resolved, { create: options.create === true, timeoutMs, source: urlSource });
        return db;
      },
      async store() {
        const { createSqlTenantStore } = await import('@tenant/store-sql');
        store ??= createSqlTenantStore({ db: await ctx.db(), tablePrefix });
        return store;
      },
      async redis(given) {
        const redisAt = given ?? redisUrl;
        if (redisAt === undefined) throw usageError('this needs Redis: give --redis <url> or set TENANT_REDIS_URL');
        const client = await openRedis(redisAt, timeoutMs);
        redisClients.push(client);
        return client;
      },
    };
    return (await command.run(ctx)) ?? EXIT_CODES.ok;
  } catch (error) {
    const failure = toCliError(error, target === undefined ? {} : { store: target.label });
    const cause = error instanceof CliError && error.cause !== undefined ? error.cause : error;
    out.error(failure, debug && cause instanceof Error ? cause.stack : undefined);
    return failure.exitCode;
  } finally {
    for (const client of redisClients) client.disconnect();
    if (db !== undefined) await db.destroy().catch(() => undefined);
  }
}
