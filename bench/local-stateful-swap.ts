/**
 * local-stateful-swap: examples/items-api (SQLite in its stable data dir) on the local target with the reference
 * runtime, behind the router, under a steady load of GET /items; its desired version changes N times. A stateful
 * runtime is swapped stop-then-start, and the router holds requests meanwhile. Reports, medians over the swaps:
 *  - gap_ms: the target's own clock, from "stopping the old runtime" to "serving the new one" (drain, SIGTERM, exit,
 *    start of the new runtime on the same data dir, health check);
 *  - held_ms: the longest any request took during the swap (a request that arrived at the start of the gap);
 *  - from_commit_ms: from the desired-state write to the new version serving;
 *  - every failed request, and whether the 50 items survived each swap.
 * Bounded: N swaps, each at most 60 s.   npm run bench -- local-stateful-swap [--swaps 5] [--rps 100]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowAppSpec } from '@wharf/contracts';
import { createReconciler, createTargetRegistry } from '@wharf/reconciler';
import { createStorePool } from '@wharf/store';
import { countUnconverged, getEnvironmentState, seedEnvironments, setDesiredForTest } from '@wharf/store/testing';
import { REPO_ROOT, seedRepository } from '@wharf/testkit';
import { argValue, benchDatabase, log, median, sleep, waitUntil } from './support/replicas.js';

const SWAPS = argValue('swaps', 5);
const RPS = argValue('rps', 100);
const ITEMS = readFileSync(path.join(REPO_ROOT, 'examples/items-api/workflow.yaml'), 'utf8');
const spec = (version: string): WorkflowAppSpec => ({
  app: 'items-api',
  environment: 'production',
  version: { sha: version.padEnd(40, '0').slice(0, 40), digest: `sha256:${version}` },
  files: [{ path: 'workflow.yaml', content: `${ITEMS}\n# ${version}\n` }],
  runtime: {},
  replicas: 1,
  env: [],
});

const db = await benchDatabase(process.env.DATABASE_URL);
const stateDir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-stateful-'));
const targets = await createTargetRegistry({ local: { stateDir } }, { log });
const local = targets.get('local');
if (!local) throw new Error('no local target');
const pool = await createStorePool(db.url, { maximumPoolSize: 5 });
const rec = createReconciler({ pool, databaseUrl: db.url, targets, log });
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let host = '';

const request = (method: string, route: string, body?: string) =>
  new Promise<{ status: number; body: string; ms: number }>((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port: local.router.port, path: route, method, headers: { host, 'content-type': 'application/json' }, agent }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - t0 }));
    req.end(body);
  });

try {
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'bench', kind: 'github', fullName: 'bench/items' });
  const [id = 0] = await seedEnvironments(db.pool, [
    { tenantId, repositoryId, app: 'items-api', name: 'production', kind: 'production', target: 'local', digest: 'sha256:v1', spec: spec('v1') },
  ]);
  const ref = { id, tenantId, repositoryId, app: 'items-api', name: 'production', qualifier: null };
  await rec.start();
  await waitUntil('v1 converged', async () => (await countUnconverged(db.pool, [id])) === 0, 60_000);
  host = new URL((await getEnvironmentState(db.pool, id))?.url ?? '').host;
  for (let i = 0; i < 50; i++) await request('POST', '/items', JSON.stringify({ name: `item ${i}`, price: i }));
  const count = async () => Number((JSON.parse((await request('GET', '/items')).body || '{}') as { count?: string }).count ?? -1);

  let ok = 0;
  let failed = 0;
  let slowest = 0;
  let loading = true;
  const inflight = new Set<Promise<void>>();
  const load = (async () => {
    let next = performance.now();
    while (loading) {
      const p = request('GET', '/items').then((r) => {
        if (r.status === 200) ok++;
        else failed++;
        slowest = Math.max(slowest, r.ms);
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      next += 1_000 / RPS;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.all([...inflight]);
  })();
  await sleep(1_000);

  const gaps: number[] = [];
  const held: number[] = [];
  const fromCommit: number[] = [];
  let intact = 0;
  for (let i = 0; i < SWAPS; i++) {
    const version = `v${i + 2}`;
    slowest = 0;
    const t0 = performance.now();
    await setDesiredForTest(db.pool, { ids: [id], digest: `sha256:${version}`, spec: spec(version) });
    await waitUntil(`${version} served`, async () => (await getEnvironmentState(db.pool, id))?.observed_digest === `sha256:${version}`, 60_000, 5);
    fromCommit.push(performance.now() - t0);
    await sleep(500);
    held.push(slowest);
    const lines: { at: string; line: string }[] = [];
    for await (const l of local.logs(ref)) lines.push(l);
    const stopping = lines.findLast((l) => l.line.startsWith(`stateful: stopping pid`) && l.line.includes(`sha256:${version}`));
    const serving = lines.findLast((l) => l.line.startsWith(`serving digest sha256:${version}`));
    if (stopping && serving) gaps.push(Date.parse(serving.at) - Date.parse(stopping.at));
    if ((await count()) === 50) intact++;
  }
  loading = false;
  await load;
  const result = {
    bench: 'local-stateful-swap',
    swaps: SWAPS,
    rps: RPS,
    stop_then_start: gaps.length,
    gap_p50_ms: Math.round(median(gaps)),
    gap_max_ms: Math.round(Math.max(...gaps)),
    held_p50_ms: Math.round(median(held)),
    from_commit_p50_ms: Math.round(median(fromCommit)),
    requests: ok + failed,
    failed_requests: failed,
    data_intact: `${intact}/${SWAPS}`,
    load1: Number(loadavg()[0]?.toFixed(1)),
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
