// Own redis-server processes for restart, outage and Cluster tests: free
// ports on 127.0.0.1, a temp dir each, never the shared server.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Debian's binaries; anywhere else, whatever is on the PATH.
const REDIS_SERVER = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
const REDIS_CLI = existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
const run = promisify(execFile);

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A free port whose cluster bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error('no free port found');
}

/** Sends one inline command and resolves with the raw reply (or rejects). */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Every redis-server we started and that still runs: killed when this test
// process exits, however it exits, so a failed run leaves nothing behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** One redis-server of our own. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Whether our process is running. */
  readonly running: boolean;
  /** Starts (or starts again) the server on the same port; does nothing while it runs. */
  start(): Promise<void>;
  /** Stops the server (SIGKILL: a crash, nothing saved) and waits for its exit. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws a frozen server (SIGCONT). */
  resume(): void;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

export async function startRedis(extraArgs: readonly string[] = []): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `quota-sliding-redis-${port}-`));
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child !== undefined && child.exitCode === null) return;
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', ...extraArgs], {
      stdio: 'ignore',
    });
    const started = child;
    live.add(started);
    started.once('exit', () => live.delete(started));
    await waitFor(async () => (await rawCommand(port, 'PING')).startsWith('+PONG'), `redis-server on ${port}`);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
      running.kill('SIGCONT'); // a frozen process dies at once either way
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null;
    },
    start,
    stop,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A local Redis Cluster of our own: N masters, no replicas. */
export interface OwnCluster {
  readonly nodes: readonly OwnRedis[];
  destroy(): Promise<void>;
}

export async function startCluster(size = 3, extraArgs: readonly string[] = []): Promise<OwnCluster> {
  const nodes: OwnRedis[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', ...extraArgs]));
    }
    await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    for (const node of nodes) {
      await waitFor(async () => (await rawCommand(node.port, 'CLUSTER INFO')).includes('cluster_state:ok'), `cluster state ok on ${node.port}`, 15_000);
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.destroy()));
    throw error;
  }
  return { nodes, destroy: async () => void (await Promise.all(nodes.map((n) => n.destroy()))) };
}
