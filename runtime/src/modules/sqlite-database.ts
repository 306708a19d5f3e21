import type { Database, Statement } from 'node-sqlite3-wasm';
import { join } from 'node:path';
import { RUNTIME_STATE_DIR } from '../config/parsed-config-cache.js';
import { checkRawPath, isInside, PathEscapeError, type PathPolicy } from '../confine/path-policy.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { DatabaseError } from '../pipeline/errors.js';
import type { ModuleDeps } from './module.js';
import { type ExecResult, jsonSafe, normalizePlaceholders, type SqlDatabase } from './sql-database.js';
import { assertSqlAllowed, runStatementList } from './sqlite-guard.js';

/**
 * Where a module's SQLite file lives: `<data-dir>/<path>` (default `<data-dir>/<module>.db`), confined to the
 * data dir; `:memory:` as written; in memory when the runtime has no data dir. Absolute paths and escapes are
 * refused (PathEscapeError) whether or not there is a data dir.
 */
export function sqliteLocation(path: string | undefined, paths: PathPolicy, fallbackName: string, where: string): string {
  const p = (path ?? '').replace(/^file:/, '').replace(/\?.*$/, '');
  if (p === ':memory:' || p.startsWith(':memory:')) return ':memory:';
  if (p) checkRawPath(p, where);
  if (!paths.dataDir) return ':memory:';
  const location = paths.writable(p || `${fallbackName}.db`, where);
  if (isInside(location, join(paths.dataDir, RUNTIME_STATE_DIR))) throw new PathEscapeError(`${where}: "${p}" is inside ${RUNTIME_STATE_DIR}/, which the runtime keeps for itself`);
  return location;
}

/**
 * A SQLite database (SQLite compiled to WebAssembly, node-sqlite3-wasm) as a module service. Calls made before
 * the file is open (the runtime opens it right after it starts listening) wait for it; after that they are
 * synchronous.
 */
export async function openSqliteDatabase(name: string, type: string, location: string, deps: ModuleDeps): Promise<SqlDatabase> {
  await deps.sqlite.claim(location);
  const statements = new Map<string, Statement>();
  const maxRows = deps.limits.sqlRows;
  const file = location === ':memory:' ? location : deps.paths.dataDir ? location.slice(deps.paths.dataDir.length + 1) : location;
  let logged = false;
  const connection = (): Database => {
    const db = deps.sqlite.connection(location);
    if (!db) throw new Error('the database is not open');
    if (!logged) {
      logged = true;
      deps.log.info({ module: name, file }, 'sqlite database open');
    }
    return db;
  };

  function prepared(db: Database, sql: string): Statement {
    let st = statements.get(sql);
    if (!st) {
      const text = normalizePlaceholders(sql, 'sqlite');
      assertSqlAllowed(db, text);
      st = db.prepare(text);
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

  function wrap<T>(sql: string, fn: (db: Database) => T): T | Promise<T> {
    const run = () => {
      try {
        return fn(connection());
      } catch (err) {
        throw new DatabaseError(`sqlite: ${(err as Error).message}`, sql, { cause: err });
      }
    };
    if (deps.sqlite.connection(location)) return run();
    return deps.sqlite.whenOpen.then(run, (err: Error) => {
      throw new DatabaseError(`sqlite: the database could not be opened: ${err.message}`, sql, { cause: err });
    });
  }

  return {
    name,
    type,
    driver: 'sqlite',
    query(sql, params) {
      return wrap(sql, (db): Json[] => {
        const rows: Json[] = [];
        for (const row of prepared(db, sql).iterate(bind(params)) as Iterable<Json>) {
          if (rows.length >= maxRows) throw new Error(`the query returned more than ${maxRows} rows`);
          for (const k in row) if (typeof row[k] === 'bigint' || row[k] instanceof Uint8Array) row[k] = jsonSafe(row[k]);
          rows.push(row);
        }
        return rows;
      });
    },
    exec(sql, params) {
      return wrap(sql, (db): ExecResult => {
        const many = params.length === 0 && /;\s*\S/.test(sql.trim().replace(/;\s*$/, ''));
        const r = many ? runStatementList(db, sql) : prepared(db, sql).run(bind(params));
        return { affectedRows: r.changes, lastId: String(r.lastInsertRowid) };
      });
    },
    close() {
      for (const s of statements.values()) s.finalize();
      statements.clear();
      deps.sqlite.release(location);
    },
  };
}
