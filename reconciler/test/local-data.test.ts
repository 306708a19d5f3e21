/**
 * Data that survives, on the reference runtime with examples/items-api (SQLite in the environment's data dir): items
 * written to production are still there after a rollout (stop-then-start, with requests held rather than failed),
 * after the runtime is killed -9, after a version that fails to start (the previous one comes back on the same
 * data), and after Wharf restarts (reconciler and target). A preview starts from an empty database of its own, and
 * its teardown deletes its data and nothing of production's.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { WorkflowAppSpec } from '@wharf/contracts';
import { desiredState, freePort } from '@wharf/store';
import { getEnvironmentState, seedEnvironments, setDesiredForTest } from '@wharf/store/testing';
import { createTestDatabase, REPO_ROOT, seedRepository } from '@wharf/testkit';
import t from 'tap';
import { createReconciler, createTargetRegistry } from '../src/index.js';
import { cond, silentLog, waitFor } from './helpers.js';
import { tempDir } from './local-helpers.js';

const ITEMS = readFileSync(path.join(REPO_ROOT, 'examples/items-api/workflow.yaml'), 'utf8');

const spec = (env: string, version: string, content = `${ITEMS}\n# ${version}\n`): WorkflowAppSpec => ({
  app: 'items-api',
  environment: env,
  version: { sha: version.padEnd(40, '0').slice(0, 40), digest: `sha256:${version}` },
  files: [{ path: 'workflow.yaml', content }],
  runtime: {},
  replicas: 1,
  env: [],
});

/** A request to the router with the environment's host (fetch would not send a Host header). */
function call(url: string, route: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: u.port, path: route, method: init.method ?? 'GET', headers: { host: u.host, 'content-type': 'application/json' }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {}
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
const names = async (url: string) => ((await call(url, '/items')).json.items as { name: string }[] | undefined)?.map((i) => i.name) ?? [];

t.test('items-api: items survive a rollout, a kill -9, a failed version and a restart of Wharf; a preview has its own', async (t) => {
  const db = await createTestDatabase(t);
  const stateDir = await tempDir(t, 'wharf-data-');
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'acme', kind: 'github', fullName: 'acme/items' });
  const [prod = 0, preview = 0] = await seedEnvironments(db.pool, [
    { tenantId, repositoryId, app: 'items-api', name: 'production', kind: 'production', target: 'local', digest: 'sha256:v1', spec: spec('production', 'v1') },
    { tenantId, repositoryId, app: 'items-api', name: 'pr-1', kind: 'preview', target: 'local', digest: 'sha256:v1', spec: spec('pr-1', 'v1') },
  ]);

  const routerPort = await freePort();
  const startWharf = async () => {
    const targets = await createTargetRegistry({ local: { stateDir, routerPort, stopGraceMs: 3_000, drainTimeoutMs: 2_000, restartBaseMs: 200 } }, { log: silentLog });
    const rec = createReconciler({ pool: db.pool, databaseUrl: db.url, targets, log: silentLog, pollIntervalMs: 100 });
    await rec.start();
    const local = targets.get('local');
    if (!local) throw new Error('no local target');
    return { local, stop: async () => (await rec.stop(), await targets.close()) };
  };
  let wharf = await startWharf();
  t.teardown(() => wharf.stop());

  const at = async (id: number, digest: string) =>
    waitFor(`${id} at ${digest}`, async () => {
      const e = await getEnvironmentState(db.pool, id);
      return e?.observed_digest === digest && cond(e.conditions, 'Ready')?.status === 'True' && e.url ? e.url : undefined;
    }, 60_000);
  const prodUrl = await at(prod, 'sha256:v1');
  const previewUrl = await at(preview, 'sha256:v1');
  t.not(prodUrl, previewUrl);

  for (const name of ['lamp', 'chair']) t.equal((await call(prodUrl, '/items', { method: 'POST', body: JSON.stringify({ name, price: 3 }) })).status, 201);
  t.same(await names(previewUrl), [], 'the preview starts from an empty database of its own');
  t.equal((await call(previewUrl, '/items', { method: 'POST', body: JSON.stringify({ name: 'preview-only' }) })).status, 201);
  t.same(await names(prodUrl), ['lamp', 'chair']);

  // A rollout under load: stop-then-start (the runtime is stateful), requests wait at the router instead of failing.
  let loading = true;
  let failed = 0;
  let served = 0;
  const load = (async () => {
    while (loading) {
      const r = await call(prodUrl, '/items').catch(() => ({ status: 0, json: {} }));
      if (r.status === 200) served++;
      else failed++;
    }
  })();
  await setDesiredForTest(db.pool, { ids: [prod], digest: 'sha256:v2', spec: spec('production', 'v2') });
  await at(prod, 'sha256:v2');
  loading = false;
  await load;
  t.equal(failed, 0, `no request failed during the stop-then-start swap (${served} served)`);
  t.same(await names(prodUrl), ['lamp', 'chair'], 'items survive a rollout');
  const swapLines: string[] = [];
  for await (const l of wharf.local.logs({ id: prod, tenantId, repositoryId, app: 'items-api', name: 'production', qualifier: null })) swapLines.push(l.line);
  t.match(swapLines.join('\n'), /stateful: stopping pid \d+ before digest sha256:v2 starts on the same data/);

  // Killed -9: restarted on the same data.
  const pid = wharf.local.pidOf(prod) ?? 0;
  process.kill(pid, 'SIGKILL');
  await waitFor('restarted', async () => {
    const p = wharf.local.pidOf(prod);
    return p !== undefined && p !== pid && (await call(prodUrl, '/items').catch(() => ({ status: 0 }))).status === 200;
  }, 30_000);
  t.same(await names(prodUrl), ['lamp', 'chair'], 'items survive kill -9');

  // A version that cannot start (its database path leaves the data dir): the previous one comes back, data intact.
  await setDesiredForTest(db.pool, { ids: [prod], digest: 'sha256:v3', spec: spec('production', 'v3', ITEMS.replace('dbPath: items.db', 'dbPath: ../../escape.db')) });
  const degraded = await waitFor('Degraded', async () => {
    const e = await getEnvironmentState(db.pool, prod);
    return e && cond(e.conditions, 'Degraded')?.status === 'True' ? e : undefined;
  }, 60_000);
  t.match(cond(degraded.conditions, 'Degraded')?.message, /previous version sha256:v2 restarted on the same data and serving/);
  t.same(await names(prodUrl), ['lamp', 'chair'], 'the previous version serves the same items');
  await setDesiredForTest(db.pool, { ids: [prod], digest: 'sha256:v4', spec: spec('production', 'v4') });
  await at(prod, 'sha256:v4');

  // Wharf restarts: reconciler and target stop (runtimes with them) and start again on the same state dir.
  await wharf.stop();
  wharf = await startWharf();
  await waitFor('answers after the restart', async () => (await call(prodUrl, '/items').catch(() => ({ status: 0 }))).status === 200, 60_000);
  t.same(await names(prodUrl), ['lamp', 'chair'], 'items survive a restart of Wharf');
  await waitFor('preview answers after the restart', async () => (await call(previewUrl, '/items').catch(() => ({ status: 0 }))).status === 200, 60_000);
  t.same(await names(previewUrl), ['preview-only'], 'and the preview keeps its own');

  // Teardown of the preview deletes its data, and nothing of production's.
  await desiredState.requestDeletion(db.pool, { tenantId }, preview);
  await waitFor('preview deleted', async () => (await getEnvironmentState(db.pool, preview)) === null, 30_000);
  t.notOk(existsSync(path.join(stateDir, 'envs', String(preview))), "the preview's data is deleted with it");
  t.ok(existsSync(path.join(stateDir, 'envs', String(prod), 'data', 'items.db')), "production's data stays");
  t.same(await names(prodUrl), ['lamp', 'chair']);
});
