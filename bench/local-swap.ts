/**
 * local-swap: one environment on the local target behind the router, under a steady 200 requests/s on loopback;
 * its desired version changes N times. Reports the median time from the desired-state commit (so including the
 * NOTIFY, the claim and the start of the new runtime) until the router serves the new digest, the same from the
 * moment the target's apply starts, and every failed request. Bounded: N swaps, each at most 30 s.
 *   npm run bench -- local-swap [--swaps 7] [--rps 200]
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createReconciler, createTargetRegistry, type LocalTarget, TARGET_FACTORIES } from '@wharf/reconciler';
import { createStorePool } from '@wharf/store';
import { seedRepository, tinyRuntimeCommand } from '@wharf/testkit';
import { argValue, benchDatabase, benchSpec, log, median, sleep, waitUntil } from './support/replicas.js';
import { countUnconverged, getEnvironmentState, seedEnvironments, setDesiredForTest } from '@wharf/store/testing';

const SWAPS = argValue('swaps', 7);
const RPS = argValue('rps', 200);
const db = await benchDatabase(process.env.DATABASE_URL);
const stateDir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-swap-'));
const applyStarted = new Map<string, number>();
/** The local target, with the start of each apply timed. */
const timed = (local: LocalTarget): LocalTarget => ({
  ...local,
  apply: (env, ctx) => {
    applyStarted.set(env.digest, performance.now());
    return local.apply(env, ctx);
  },
});
const targets = await createTargetRegistry({ local: { stateDir, runtimeCommand: tinyRuntimeCommand() } }, { log }, {
  local: { ...TARGET_FACTORIES.local, create: async (settings, deps) => timed(await TARGET_FACTORIES.local.create(settings, deps)) },
});
const local = targets.get('local');
if (!local) throw new Error('no local target');
const pool = await createStorePool(db.url, { maximumPoolSize: 5 });
const rec = createReconciler({ pool, databaseUrl: db.url, targets, log });

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** The environment's host on the router (its label), known once it runs. */
let host = '';
let ok = 0;
let failed = 0;
const firstSeen = new Map<string, number>();
const request = () =>
  new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: local.router.port, path: '/', headers: { host }, agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 200) {
          ok++;
          const digest = String((JSON.parse(body) as { digest?: string }).digest);
          if (!firstSeen.has(digest)) firstSeen.set(digest, performance.now());
        } else failed++;
        resolve();
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
  });

try {
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'bench', fullName: 'bench/swap' });
  const [id = 0] = await seedEnvironments(db.pool, [
    { tenantId, repositoryId, app: 'shop', name: 'prod', target: 'local', digest: 'sha256:v1', spec: benchSpec('shop', 'prod', 'v1') },
  ]);
  await rec.start();
  await waitUntil('v1 converged', async () => (await countUnconverged(db.pool, [id])) === 0, 60_000);
  host = new URL((await getEnvironmentState(db.pool, id))?.url ?? '').host;

  let loading = true;
  const inflight = new Set<Promise<void>>();
  const load = (async () => {
    const interval = 1_000 / RPS;
    let next = performance.now();
    while (loading) {
      const p = request();
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.all([...inflight]);
  })();
  await sleep(1_000);
  const fromCommit: number[] = [];
  const fromApply: number[] = [];
  for (let i = 0; i < SWAPS; i++) {
    const version = `v${i + 2}`;
    const digest = `sha256:${version}`;
    const t0 = performance.now();
    await setDesiredForTest(db.pool, { ids: [id], digest, spec: benchSpec('shop', 'prod', version) });
    await waitUntil(`${version} served`, async () => firstSeen.has(digest), 30_000, 5);
    const seen = firstSeen.get(digest) ?? 0;
    fromCommit.push(seen - t0);
    fromApply.push(seen - (applyStarted.get(digest) ?? t0));
    await sleep(1_500);
  }
  loading = false;
  await load;
  const result = {
    bench: 'local-swap',
    swaps: SWAPS,
    rps: RPS,
    p50_ms: Math.round(median(fromCommit)),
    p50_from_apply_start_ms: Math.round(median(fromApply)),
    requests: ok + failed,
    failed_requests: failed,
  };
  await rec.stop();
  await targets.close();
  agent.destroy();
  await pool.end();
  await db.close();
  await rm(stateDir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(err);
  await rec.stop().catch(() => undefined);
  await targets.close().catch(() => undefined);
  await db.close().catch(() => undefined);
  process.exit(1);
}
