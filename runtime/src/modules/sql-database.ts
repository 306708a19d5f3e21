import type { Json } from '../pipeline/pipeline-context.js';
import type { RuntimeModule } from './module.js';

export type ExecResult = { affectedRows: number; lastId: string };

/** A SQL database service that db_query and db_exec steps use by module name. */
export type SqlDatabase = RuntimeModule & {
  readonly driver: 'sqlite' | 'postgres';
  query(sql: string, params: readonly unknown[]): Json[] | Promise<Json[]>;
  exec(sql: string, params: readonly unknown[]): ExecResult | Promise<ExecResult>;
};

export function isSqlDatabase(m: RuntimeModule | undefined): m is SqlDatabase {
  return !!m && typeof (m as Partial<SqlDatabase>).query === 'function' && typeof (m as Partial<SqlDatabase>).exec === 'function';
}

/**
 * Rewrites placeholders outside string literals and comments: `$N` → `?N` for SQLite,
 * `?` / `?N` → `$N` for Postgres, so configs written for either style run on both.
 */
export function normalizePlaceholders(sql: string, driver: 'sqlite' | 'postgres'): string {
  let out = '';
  let i = 0;
  let next = 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (driver === 'sqlite' && c === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      out += '?';
      i++;
      continue;
    }
    if (driver === 'postgres' && c === '?') {
      const m = /^\?([0-9]+)/.exec(sql.slice(i));
      if (m) {
        out += `$${m[1]}`;
        i += m[0].length;
      } else {
        out += `$${next++}`;
        i++;
      }
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Turns driver values into JSON-safe ones (bigint → number when safe, bytes → string). */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) {
    const s = Buffer.from(value).toString('utf8');
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  }
  return value;
}
