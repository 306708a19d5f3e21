import type { Json } from '../pipeline/pipeline-context.js';
import { DatabaseError } from '../pipeline/errors.js';
import type { ModuleDeps } from './module.js';
import type { PgSettings } from './postgres-dsn.js';
import { jsonSafe, normalizePlaceholders, type SqlDatabase } from './sql-database.js';

/**
 * A Postgres pool through `pg`, loaded only when a config uses the postgres driver. The settings come from
 * parsePgDsn and the host has passed the outbound policy; statements are cut by the server after the
 * runtime's pipeline timeout.
 */
export async function openPostgresDatabase(name: string, type: string, settings: PgSettings, maxConns: number, deps: ModuleDeps): Promise<SqlDatabase> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    ...settings,
    max: Math.min(Math.max(1, maxConns), 20),
    statement_timeout: deps.limits.pipelineTimeoutMs,
    query_timeout: deps.limits.pipelineTimeoutMs + 1_000,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', (err) => deps.log.warn({ err, module: name }, 'postgres pool error'));
  const run = async (sql: string, params: readonly unknown[]) => {
    try {
      const r = await pool.query(normalizePlaceholders(sql, 'postgres'), params as unknown[]);
      if ((r.rows?.length ?? 0) > deps.limits.sqlRows) throw new Error(`the query returned more than ${deps.limits.sqlRows} rows`);
      return r;
    } catch (err) {
      throw new DatabaseError(`postgres: ${(err as Error).message}`, sql, { cause: err });
    }
  };
  return {
    name,
    type,
    driver: 'postgres',
    async query(sql, params) {
      const r = await run(sql, params);
      return r.rows.map((row: Json) => {
        for (const k in row) row[k] = jsonSafe(row[k]);
        return row;
      });
    },
    async exec(sql, params) {
      const r = await run(sql, params);
      const first = r.rows?.[0] as Json | undefined;
      const id = first && ('id' in first ? first.id : Object.values(first)[0]);
      return { affectedRows: r.rowCount ?? 0, lastId: id === undefined || id === null ? '0' : String(id) };
    },
    async close() {
      await pool.end();
    },
  };
}
