/**
 * crash-takeover: replica A claims every environment of a change and hangs in apply; replica B runs beside it;
 * A is killed with SIGKILL. Reports the time from the kill until B has converged all of them, and the lease TTL.
 *   npm run bench -- crash-takeover [--envs 500] [--lease-ms 5000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { argValue, benchDatabase, benchSpec, seedConverged, startReplica, waitUntil } from './support/replicas.js';
import { countLeasedBy, countUnconverged, setDesiredForTest } from '@wharf/store/testing';

const ENVS = argValue('envs', 500);
const LEASE_MS = argValue('lease-ms', 5_000);
const db = await benchDatabase(process.env.DATABASE_URL);
const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-crash-'));

try {
  const ids = await seedConverged(db.pool, ENVS);
  const a = startReplica({
    databaseUrl: db.url,
    replicaId: 'replica-a',
    applyMs: 600_000,
    leaseTtlMs: LEASE_MS,
    resyncMs: 3_600_000,
    concurrency: ENVS * 2,
    batchSize: ENVS,
    reportFile: path.join(work, 'a.json'),
  });
  await a.ready;
  await setDesiredForTest(db.pool, { ids: null, digest: 'sha256:v2', spec: benchSpec('bench', 'any', 'v2') });
  await waitUntil('A holds every claim', async () => (await countLeasedBy(db.pool, 'replica-a')) === ENVS, 60_000);
  const b = startReplica({
    databaseUrl: db.url,
    replicaId: 'replica-b',
    applyMs: 5,
    leaseTtlMs: LEASE_MS,
    resyncMs: 3_600_000,
    reportFile: path.join(work, 'b.json'),
  });
  await b.ready;
  const held = await countLeasedBy(db.pool, 'replica-a');
  const t0 = performance.now();
  a.child.kill('SIGKILL');
  await waitUntil('B converged them', async () => (await countUnconverged(db.pool, ids)) === 0, LEASE_MS + 60_000, 50);
  const takeover = (performance.now() - t0) / 1000;
  const report = await b.stop();
  const result = {
    bench: 'crash-takeover',
    environments_held_by_killed_replica: held,
    takeover_s: Number(takeover.toFixed(2)),
    lease_ttl_s: LEASE_MS / 1000,
    applied_by_survivor: Object.keys(report.applies).length,
  };
  await db.close();
  await rm(work, { recursive: true, force: true });
  console.log(JSON.stringify(result));
} catch (err) {
  await db.close().catch(() => undefined);
  console.error(err);
  process.exit(1);
}
