import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative } from 'node:path';
import type { Logger } from 'pino';
import type { Database } from 'node-sqlite3-wasm';
import { type DataDirLock, lockDataDir } from '../confine/data-dir-lock.js';

const require = createRequire(import.meta.url);

/**
 * The SQLite files of one runtime. Modules naming the same file share one connection (two connections in one
 * process would lock each other out). The first file in the data dir takes the data dir's lock (at start, before
 * the runtime listens); with it held, a `<file>.lock` directory left by a runtime that crashed is known to be
 * stale and is removed (this VFS locks with a directory that nothing else would ever clean up).
 *
 * Opening is deferred: SQLite's WebAssembly is compiled lazily and its first statement costs ~40 ms of CPU, which
 * the runtime does not need to start listening. `openAll()` runs right after the listening line; until it is done,
 * `whenOpen` is pending, the health path waits for it, and database steps wait for their connection.
 */
export type SqliteFiles = {
  /** Registers a file (taking the data dir lock for the first one in it); the connection comes later. */
  claim(location: string): Promise<void>;
  /** The connection, once openAll() has opened it. */
  connection(location: string): Database | null;
  /** Resolves when every claimed file is open; rejects with the first failure. */
  readonly whenOpen: Promise<void>;
  openAll(): void;
  release(location: string): void;
  /** Files in the data dir this runtime holds, relative to it. */
  readonly stateFiles: readonly string[];
  close(): Promise<void>;
};

export function createSqliteFiles(opts: { dataDir: string | null; waitMs: number; log: Logger }): SqliteFiles {
  const claimed = new Map<string, { db: Database | null; refs: number }>();
  const stateFiles: string[] = [];
  let lock: Promise<DataDirLock> | null = null;
  let closed = false;
  let resolveOpen!: () => void;
  let rejectOpen!: (err: Error) => void;
  const whenOpen = new Promise<void>((res, rej) => {
    resolveOpen = res;
    rejectOpen = rej;
  });
  whenOpen.catch(() => undefined);

  function openOne(location: string): Database {
    const { Database: Db } = require('node-sqlite3-wasm') as { Database: new (path: string) => Database };
    const db = new Db(location);
    // This VFS has no shared memory: WAL needs EXCLUSIVE locking, which fits one runtime owning its file.
    db.exec('PRAGMA locking_mode=EXCLUSIVE; PRAGMA synchronous=NORMAL; PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000');
    return db;
  }

  return {
    stateFiles,
    whenOpen,
    async claim(location) {
      const known = claimed.get(location);
      if (known) {
        known.refs++;
        return;
      }
      claimed.set(location, { db: null, refs: 1 });
      if (location === ':memory:' || !opts.dataDir) return;
      lock ??= lockDataDir(opts.dataDir, opts.waitMs);
      await lock;
      const stale = `${location}.lock`;
      if (existsSync(stale)) {
        rmSync(stale, { recursive: true, force: true });
        opts.log.warn({ file: relative(opts.dataDir, location) }, 'removed a stale SQLite lock left by a runtime that stopped without closing');
      }
      stateFiles.push(relative(opts.dataDir, location));
      mkdirSync(dirname(location), { recursive: true });
    },
    connection: (location) => claimed.get(location)?.db ?? null,
    openAll() {
      if (closed) return;
      try {
        for (const [location, entry] of claimed) entry.db ??= openOne(location);
        resolveOpen();
      } catch (err) {
        opts.log.error({ err }, 'sqlite database could not be opened');
        rejectOpen(err as Error);
      }
    },
    release(location) {
      const known = claimed.get(location);
      if (!known || --known.refs > 0) return;
      claimed.delete(location);
      if (known.db?.isOpen) known.db.close();
    },
    async close() {
      closed = true;
      rejectOpen(new Error('the runtime is shutting down'));
      for (const [location, { db }] of claimed) {
        if (db?.isOpen) db.close();
        claimed.delete(location);
      }
      if (lock) await (await lock.catch(() => null))?.release();
    },
  };
}
