/**
 * idle: 10,000 converged environments (next observations spread over the 5-minute resync period, as in steady
 * state) and one reconciler process for a window (default 300 s, `--seconds N` for a shorter run). Reports the
 * reconciler's mean queries per second (counted at its pool), the server's transactions per second for the
 * database, and the reconciler's resident memory.
 *   npm run bench -- idle [--seconds 300] [--envs 10000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from '@wharf/store';
import { argValue, benchDatabase, seedConverged, sleep, startReplica } from './support/replicas.js';

const ENVS = argValue('envs', 10_000);
const SECONDS = argValue('seconds', 300);
const RESYNC_MS = 300_000;
const db = await benchDatabase(process.env.DATABASE_URL);
const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-idle-'));

const xacts = async () =>
  Number(
    await db.pool.oneFirst(sql.unsafe`
      SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`),
  );
const observedSince = async (since: string) =>
  Number(
    await db.pool.oneFirst(sql.unsafe`
      SELECT count(*) AS n FROM environments WHERE last_reconciled_at >= ${since}::timestamptz`),
  );

try {
  await seedConverged(db.pool, ENVS, RESYNC_MS);
  const replica = startReplica({
    databaseUrl: db.url,
    replicaId: 'idle',
    applyMs: 5,
    resyncMs: RESYNC_MS,
    presumeRunning: 'sha256:v1',
    reportFile: path.join(work, 'report.json'),
  });
  await replica.ready;
  const since = new Date().toISOString();
  const x0 = await xacts();
  await sleep(SECONDS * 1_000);
  const x1 = await xacts();
  const report = await replica.stop();
  const observed = await observedSince(since);
  const result = {
    bench: 'idle',
    environments: ENVS,
    seconds: SECONDS,
    queries_per_s: Number((report.queries / report.seconds).toFixed(2)),
    server_xacts_per_s: Number(((x1 - x0 - 2) / SECONDS).toFixed(2)),
    rss_mb: Number(report.maxRssMb.toFixed(1)),
    environments_observed: observed,
  };
  await db.close();
  await rm(work, { recursive: true, force: true });
  console.log(JSON.stringify(result));
} catch (err) {
  await db.close().catch(() => undefined);
  console.error(err);
  process.exit(1);
}
