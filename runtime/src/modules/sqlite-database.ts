import type { Statement } from 'node-sqlite3-wasm';
import { checkRawPath, type PathPolicy } from '../confine/path-policy.js';
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
  return paths.writable(p || `${fallbackName}.db`, where);
}

/** A SQLite database (SQLite compiled to WebAssembly, node-sqlite3-wasm) as a module service. */
export async function openSqliteDatabase(name: string, type: string, location: string, deps: ModuleDeps): Promise<SqlDatabase> {
  const db = await deps.sqlite.open(location);
  deps.log.info({ module: name, file: location === ':memory:' ? location : deps.paths.dataDir ? location.slice(deps.paths.dataDir.length + 1) : location }, 'sqlite database open');
  const statements = new Map<string, Statement>();
  const maxRows = deps.limits.sqlRows;

  function prepared(sql: string): Statement {
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
        const rows: Json[] = [];
        for (const row of prepared(sql).iterate(bind(params)) as Iterable<Json>) {
          if (rows.length >= maxRows) throw new Error(`the query returned more than ${maxRows} rows`);
          for (const k in row) if (typeof row[k] === 'bigint' || row[k] instanceof Uint8Array) row[k] = jsonSafe(row[k]);
          rows.push(row);
        }
        return rows;
      });
    },
    exec(sql, params): ExecResult {
      return wrap(sql, () => {
        const many = params.length === 0 && /;\s*\S/.test(sql.trim().replace(/;\s*$/, ''));
        const r = many ? runStatementList(db, sql) : prepared(sql).run(bind(params));
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
