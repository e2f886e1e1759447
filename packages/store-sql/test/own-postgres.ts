// A PostgreSQL cluster of our own for fault tests (restart, freeze), never
// the shared server on 5432: `pg_createcluster` on a free port (Debian's
// postgresql-common, run as root), trust auth on 127.0.0.1 only, dropped
// after the tests and, whatever happens, when this process exits.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest PostgreSQL major installed (`/etc/postgresql/<version>`). */
function postgresVersion(): string {
  const versions = readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error('no PostgreSQL under /etc/postgresql: install postgresql-common and a server');
  return newest;
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found');
}

// Clusters we created and have not dropped yet: dropped on exit, however the run ends.
const created = new Map<string, string>();
process.once('exit', () => {
  for (const [name, version] of created) {
    try {
      thawAll(name, version);
      execFileSync('pg_dropcluster', ['--stop', version, name], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Best effort: the process is going away.
    }
  }
});

/** The postmaster and its children (backends, checkpointer...), by pid. */
function processesOf(name: string, version: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(`/var/lib/postgresql/${version}/${name}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  if (!(postmaster > 0)) return [];
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

function thawAll(name: string, version: string): void {
  signalAll(processesOf(name, version), 'SIGCONT');
}

export interface OwnPostgres {
  readonly port: number;
  readonly url: string;
  /** Starts the cluster (again). */
  start(): Promise<void>;
  /** Stops it: `fast` ends every connection (as a restart does), `immediate` as a crash would. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Freezes the postmaster and every backend (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void;
  /** Thaws a frozen cluster (SIGCONT). */
  thaw(): void;
  /** Stops and drops the cluster. */
  destroy(): Promise<void>;
}

/** Creates and starts a PostgreSQL cluster of our own on a free port, with a `test` database. */
export async function startPostgres(): Promise<OwnPostgres> {
  const version = postgresVersion();
  const port = await freePort();
  const name = `fault${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  created.set(name, version);
  let frozen: number[] = [];
  const ctl = (...args: string[]) => run('pg_ctlcluster', [version, name, ...args], { timeout: 60_000 });
  try {
    await run('pg_createcluster', [version, name, '-p', String(port), '--', '--auth=trust', '--no-sync'], { timeout: 120_000 });
    await ctl('start');
    await run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'create database test'], { timeout: 30_000 });
  } catch (error) {
    await run('pg_dropcluster', ['--stop', version, name]).catch(() => undefined);
    created.delete(name);
    throw error;
  }
  const thaw = () => {
    signalAll(frozen, 'SIGCONT');
    frozen = [];
  };
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    start: async () => void (await ctl('start')),
    stop: async (mode = 'fast') => void (await ctl('stop', '-m', mode)),
    freeze() {
      frozen = processesOf(name, version);
      if (frozen.length === 0) throw new Error(`cluster ${name} is not running`);
      signalAll(frozen, 'SIGSTOP');
    },
    thaw,
    async destroy() {
      thaw();
      await run('pg_dropcluster', ['--stop', version, name], { timeout: 60_000 }).catch(() => undefined);
      created.delete(name);
    },
  };
}
