/**
 * A database for benchmarks: a fresh database on DATABASE_URL's server when it is set, otherwise a throwaway
 * embedded Postgres in a temp dir. Migrated; removed again by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStorePool, type DatabasePool, migrate, startEmbeddedPostgres } from '@wharf/store';
import pg from 'pg';
import pino from 'pino';

export async function benchDatabase(): Promise<{ url: string; pool: DatabasePool; close(): Promise<void> }> {
  const log = pino({ level: 'warn' });
  let server = process.env.DATABASE_URL;
  let stopServer = async () => {};
  if (!server) {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-pg-'));
    await chmod(dir, 0o755); // reachable by the postgres user when running as root
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true, log });
    server = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const name = `wharf_bench_${randomBytes(4).toString('hex')}`;
  const admin = (u: string) => {
    const url = new URL(u);
    url.pathname = '/postgres';
    return url.toString();
  };
  const withAdmin = async (sqlText: string) => {
    const c = new pg.Client({ connectionString: admin(server as string) });
    await c.connect();
    await c.query(sqlText).finally(() => c.end());
  };
  await withAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  await migrate(url.toString(), log);
  const pool = await createStorePool(url.toString());
  return {
    url: url.toString(),
    pool,
    async close() {
      await pool.end();
      await withAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await stopServer();
    },
  };
}

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
