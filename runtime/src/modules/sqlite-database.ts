import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import type { Database, Statement } from 'node-sqlite3-wasm';
import type { Json } from '../pipeline/pipeline-context.js';
import { DatabaseError } from '../pipeline/errors.js';
import type { ModuleDeps } from './module.js';
import { type ExecResult, jsonSafe, normalizePlaceholders, type SqlDatabase } from './sql-database.js';

const require = createRequire(import.meta.url);

/**
 * Where a module's SQLite file lives. An explicit absolute path is used as is; a relative or default path
 * goes under --data-dir (so each environment, preview or production, has its own file); without a data
 * dir the database is in memory.
 */
export function sqliteLocation(path: string | undefined, dataDir: string | null, fallbackName: string): string {
  const p = (path ?? '').replace(/^file:/, '').replace(/\?.*$/, '');
  if (p === ':memory:' || p.startsWith(':memory:')) return ':memory:';
  if (p && isAbsolute(p)) return p;
  if (!dataDir) return ':memory:';
  return join(dataDir, p || `${fallbackName}.db`);
}

/** Opens a SQLite database (SQLite compiled to WebAssembly, node-sqlite3-wasm) as a module service. */
export function openSqliteDatabase(name: string, type: string, location: string, deps: ModuleDeps): SqlDatabase {
  const { Database: Db } = require('node-sqlite3-wasm') as { Database: new (path: string) => Database };
  if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
  const db = new Db(location);
  // One runtime process owns its file: exclusive locking skips per-statement file locks,
  // WAL keeps writes cheap.
  db.exec('PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000');
  deps.log.info({ module: name, location }, 'sqlite database open');
  const statements = new Map<string, Statement>();

  function prepared(sql: string): Statement {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(normalizePlaceholders(sql, 'sqlite'));
      if (statements.size > 500) {
        for (const s of statements.values()) s.finalize();
        statements.clear();
      }
      statements.set(sql, st);
    }
    return st;
  }

  const bind = (params: readonly unknown[]) =>
    params.map((p) => (p === undefined ? null : typeof p === 'object' && p !== null && !(p instanceof Uint8Array) ? JSON.stringify(p) : p)) as never;

  function wrap<T>(sql: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new DatabaseError(`sqlite: ${(err as Error).message}`, sql, { cause: err });
    }
  }

  return {
    name,
    type,
    driver: 'sqlite',
    query(sql, params): Json[] {
      return wrap(sql, () => {
        const rows = prepared(sql).all(bind(params)) as Json[];
        for (const row of rows) for (const k in row) if (typeof row[k] === 'bigint' || row[k] instanceof Uint8Array) row[k] = jsonSafe(row[k]);
        return rows;
      });
    },
    exec(sql, params): ExecResult {
      return wrap(sql, () => {
        const st = params.length === 0 && /;\s*\S/.test(sql.trim().replace(/;\s*$/, '')) ? null : prepared(sql);
        if (!st) {
          db.exec(sql);
          return { affectedRows: 0, lastId: '0' };
        }
        const r = st.run(bind(params));
        return { affectedRows: r.changes, lastId: String(r.lastInsertRowid) };
      });
    },
    close() {
      for (const s of statements.values()) s.finalize();
      statements.clear();
      if (db.isOpen) db.close();
    },
  };
}
