/**
 * mass-change: 10,000 environments whose desired version changes at once, an in-memory target taking 5 ms per
 * apply; time until all converged with one reconciler process, then with three; every apply counted per
 * (environment, generation). Bounded: at most 120 s per phase.
 *   npm run bench -- mass-change [--envs 10000] [--apply-ms 5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { argValue, benchDatabase, benchSpec, type ReplicaReport, seedConverged, sleep, startReplica, waitUntil } from './support/replicas.js';
import { countUnconverged, setDesiredForTest } from '@wharf/store/testing';

const ENVS = argValue('envs', 10_000);
const APPLY_MS = argValue('apply-ms', 5);
const CONCURRENCY = argValue('concurrency', 0) || undefined;
const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-mass-'));
/** `${phase}:${environment}:${generation}` → applies, summed over the phase's replicas. */
const applies = new Map<string, number>();

/** Each phase gets a fresh database, so the second does not pay for the first one's dead tuples. */
async function phase(replicas: number, version: string): Promise<number> {
  const db = await benchDatabase(process.env.DATABASE_URL);
  await seedConverged(db.pool, ENVS);
  const started = Array.from({ length: replicas }, (_, i) =>
    startReplica({
      databaseUrl: db.url,
      replicaId: `bench-${replicas}-${i}`,
      applyMs: APPLY_MS,
      concurrency: CONCURRENCY,
      resyncMs: 3_600_000,
      reportFile: path.join(work, `report-${replicas}-${i}.json`),
    }),
  );
  await Promise.all(started.map((r) => r.ready));
  await sleep(500);
  const t0 = performance.now();
  await setDesiredForTest(db.pool, { ids: null, digest: `sha256:${version}`, spec: benchSpec('bench', 'any', version) });
  await waitUntil('converged', async () => (await countUnconverged(db.pool)) === 0, 120_000, 100);
  const seconds = (performance.now() - t0) / 1000;
  const reports: ReplicaReport[] = await Promise.all(started.map((r) => r.stop()));
  for (const r of reports) for (const [k, n] of Object.entries(r.applies)) applies.set(`${replicas}:${k}`, (applies.get(`${replicas}:${k}`) ?? 0) + n);
  console.log(`${replicas} replica(s): ${ENVS} environments converged in ${seconds.toFixed(2)} s; applies per replica ${reports.map((r) => Object.keys(r.applies).length).join(', ')}`);
  await db.close();
  return seconds;
}

try {
  const one = await phase(1, 'v2');
  const three = await phase(3, 'v3');
  const perGeneration = [...applies.values()];
  const result = {
    bench: 'mass-change',
    environments: ENVS,
    apply_ms: APPLY_MS,
    converged_s_1: Number(one.toFixed(2)),
    converged_s_3: Number(three.toFixed(2)),
    max_applies_per_generation: Math.max(...perGeneration),
    applies_counted: perGeneration.reduce((a, b) => a + b, 0),
  };
  await rm(work, { recursive: true, force: true });
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(err);
  process.exit(1);
}
