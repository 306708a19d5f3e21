import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

/**
 * One runtime at a time per data dir. SQLite here (node-sqlite3-wasm) has no shared memory, so WAL runs with
 * `locking_mode=EXCLUSIVE` and a second process on the same file would fail or, worse, wait; this lock makes the
 * rule explicit: a runtime that holds stateful storage owns its data dir until it exits, and the next one starts
 * after it (stop, then start).
 *
 * On Linux the lock is an abstract Unix socket named after the data dir's real path: the kernel frees it when the
 * process dies, however it dies, so a crash never leaves a stale lock. Elsewhere a pid file is used.
 */
export type DataDirLock = { release(): Promise<void> };

export class DataDirBusyError extends Error {
  override readonly name = 'DataDirBusyError';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tryAbstractSocket(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(null) : reject(err)));
    server.listen(name, () => {
      server.unref();
      resolve(server);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryPidFile(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch {
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) return false;
    rmSync(file, { force: true });
    return tryPidFile(file);
  }
}

/** Takes the data dir's lock, waiting up to `waitMs` for a runtime that is still shutting down. */
export async function lockDataDir(realDataDir: string, waitMs: number): Promise<DataDirLock> {
  const deadline = performance.now() + waitMs;
  const id = createHash('sha256').update(realDataDir).digest('hex').slice(0, 40);
  const pidFile = join(realDataDir, '.wharf-runtime.pid');
  for (;;) {
    if (process.platform === 'linux') {
      const server = await tryAbstractSocket(`\0wharf-runtime-${id}`);
      if (server) return { release: () => new Promise<void>((r) => server.close(() => r())) };
    } else if (tryPidFile(pidFile)) {
      return { release: async () => rmSync(pidFile, { force: true }) };
    }
    if (performance.now() >= deadline)
      throw new DataDirBusyError(
        `the data dir ${realDataDir} is in use by another runtime that holds its SQLite files; stop that runtime before starting this one (stateful environments swap stop-then-start)`,
      );
    await sleep(50);
  }
}
