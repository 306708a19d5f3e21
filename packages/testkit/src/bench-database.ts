/**
 * A database for benchmarks: a fresh database on `serverUrl` (the caller passes DATABASE_URL) when given, otherwise
 * a throwaway embedded Postgres in a temp dir. Migrated; dropped again (and the server stopped) by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStorePool, type DatabasePool, migrate, startEmbeddedPostgres } from '@wharf/store';
import { createDatabase, databaseUrl, dropDatabase } from '@wharf/store/testing';
import pino from 'pino';

export interface BenchDatabase {
  url: string;
  pool: DatabasePool;
  close(): Promise<void>;
}

export async function benchDatabase(serverUrl: string | undefined, options: { poolSize?: number } = {}): Promise<BenchDatabase> {
  const log = pino({ level: 'warn' });
  const cleanups: (() => Promise<void>)[] = [];
  let server = serverUrl;
  if (!server) {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-pg-'));
    await chmod(dir, 0o755); // reachable by the postgres user when running as root
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true, log });
    server = embedded.url;
    cleanups.push(async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    });
  }
  const name = `wharf_bench_${randomBytes(4).toString('hex')}`;
  await createDatabase(server, name);
  const url = databaseUrl(server, name);
  await migrate(url, log);
  const pool = await createStorePool(url, { maximumPoolSize: options.poolSize ?? 4 });
  cleanups.unshift(async () => {
    await pool.end();
    await dropDatabase(server, name);
  });
  return {
    url,
    pool,
    close: async () => {
      for (const c of cleanups) await c();
    },
  };
}

/** The p-th percentile (nearest rank) of `values`. */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};

export const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
