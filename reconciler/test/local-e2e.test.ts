import { getEnvironmentState, setDesiredForTest } from '@wharf/store/testing';
import { createTestDatabase, tinyRuntimeCommand } from '@wharf/testkit';
import t from 'tap';
import { createReconciler, createTargetRegistry } from '../src/index.js';
import { cond, outboxOf, seedEnvs, silentLog, specFor, waitFor } from './helpers.js';
import { get, tempDir } from './local-helpers.js';

t.test('reconciler + local target: Ready with a URL that answers; a version that never gets healthy is Degraded with its output while the old one serves; then it recovers', async (t) => {
  const db = await createTestDatabase(t);
  const targets = await createTargetRegistry(
    { local: { stateDir: await tempDir(t, 'wharf-e2e-'), runtimeCommand: tinyRuntimeCommand(), healthTimeoutMs: 2_000, stopGraceMs: 1_000 } },
    { log: silentLog },
  );
  t.teardown(() => targets.close());
  const local = targets.get('local');
  if (!local) throw new Error('the registry built no local target');
  const rec = createReconciler({ pool: db.pool, databaseUrl: db.url, targets, log: silentLog, pollIntervalMs: 200 });
  const { ids } = await seedEnvs(db.pool, ['prod'], { target: 'local' });
  const id = ids[0] ?? 0;
  await rec.start();
  t.teardown(() => rec.stop());

  const ready = await waitFor('Ready', async () => {
    const e = await getEnvironmentState(db.pool, id);
    return e && cond(e.conditions, 'Ready')?.status === 'True' ? e : undefined;
  });
  const port = local.router.port;
  t.match(ready.url, new RegExp(`^http://prod--shop-[0-9a-f]{16}\\.localhost:${port}/$`), 'a URL of its own: the readable names and a hash of its identity');
  const host = new URL(ready.url ?? '').host;
  const byPath = `/${host.replace(/\.localhost:\d+$/, '')}/`;
  t.match((await get(port, '/', host)).json, { echo: 'shop v1', digest: 'sha256:v1' });

  await setDesiredForTest(db.pool, {
    ids: [id],
    digest: 'sha256:v2',
    spec: specFor('shop', 'prod', 'v2', { env: [{ name: 'TINY_RUNTIME_MODE', value: 'never-healthy' }] }),
  });
  const degraded = await waitFor('Degraded', async () => {
    const e = await getEnvironmentState(db.pool, id);
    return e && cond(e.conditions, 'Degraded')?.status === 'True' ? e : undefined;
  });
  const d = cond(degraded.conditions, 'Degraded');
  t.equal(d?.reason, 'RuntimeUnhealthy');
  t.match(d?.message, /did not become healthy.*previous version sha256:v1 still serving.*last output: .*tiny runtime starting/);
  t.match(cond(degraded.conditions, 'Ready'), { status: 'False', reason: 'RuntimeUnhealthy' });
  t.equal(degraded.observed_digest, 'sha256:v1', 'observed stays on the version that serves');
  t.match((await get(port, byPath)).json, { digest: 'sha256:v1' }, 'previous version still serving');
  const states = (await outboxOf(db.pool, id)).map((o) => o.payload.state);
  t.ok(states.includes('failure'), 'GitHub hears about the failure');

  await setDesiredForTest(db.pool, { ids: [id], digest: 'sha256:v3', spec: specFor('shop', 'prod', 'v3') });
  const recovered = await waitFor('Recovered', async () => {
    const e = await getEnvironmentState(db.pool, id);
    return e && e.observed_digest === 'sha256:v3' ? e : undefined;
  }, 30_000);
  t.match(cond(recovered.conditions, 'Ready'), { status: 'True', reason: 'Recovered' });
  t.match((await get(port, byPath)).json, { echo: 'shop v3' });
});
