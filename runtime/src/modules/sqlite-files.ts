import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative } from 'node:path';
import type { Logger } from 'pino';
import type { Database } from 'node-sqlite3-wasm';
import { type DataDirLock, lockDataDir } from '../confine/data-dir-lock.js';

const require = createRequire(import.meta.url);

/**
 * The SQLite files of one runtime. Modules naming the same file share one connection (two connections in one
 * process would lock each other out). The first file opened in the data dir takes the data dir's lock; with it
 * held, a `<file>.lock` directory left by a runtime that crashed is known to be stale and is removed (this VFS
 * locks with a directory that nothing else would ever clean up).
 */
export type SqliteFiles = {
  open(location: string): Promise<Database>;
  release(location: string): void;
  /** Files in the data dir this runtime holds, relative to it. */
  readonly stateFiles: readonly string[];
  close(): Promise<void>;
};

export function createSqliteFiles(opts: { dataDir: string | null; waitMs: number; log: Logger }): SqliteFiles {
  const open = new Map<string, { db: Database; refs: number }>();
  const stateFiles: string[] = [];
  let lock: Promise<DataDirLock> | null = null;

  return {
    stateFiles,
    async open(location) {
      const known = open.get(location);
      if (known) {
        known.refs++;
        return known.db;
      }
      if (location !== ':memory:' && opts.dataDir) {
        lock ??= lockDataDir(opts.dataDir, opts.waitMs);
        await lock;
        const stale = `${location}.lock`;
        if (existsSync(stale)) {
          rmSync(stale, { recursive: true, force: true });
          opts.log.warn({ file: relative(opts.dataDir, location) }, 'removed a stale SQLite lock left by a runtime that stopped without closing');
        }
        stateFiles.push(relative(opts.dataDir, location));
        mkdirSync(dirname(location), { recursive: true });
      }
      const { Database: Db } = require('node-sqlite3-wasm') as { Database: new (path: string) => Database };
      const db = new Db(location);
      // This VFS has no shared memory: WAL needs EXCLUSIVE locking, which fits one runtime owning its file.
      db.exec('PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000');
      open.set(location, { db, refs: 1 });
      return db;
    },
    release(location) {
      const known = open.get(location);
      if (!known || --known.refs > 0) return;
      open.delete(location);
      if (known.db.isOpen) known.db.close();
    },
    async close() {
      for (const [location, { db }] of open) {
        if (db.isOpen) db.close();
        open.delete(location);
      }
      if (lock) await (await lock.catch(() => null))?.release();
    },
  };
}
