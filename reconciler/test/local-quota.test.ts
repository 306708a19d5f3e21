/**
 * The cap on environments one repository runs on the local target: a preview over it is Stalled (QuotaExceeded)
 * with a message naming the setting, production always runs, and a teardown lets the stalled preview start.
 */
import { desiredState } from '@wharf/store';
import { getEnvironmentState, seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, tinyRuntimeCommand } from '@wharf/testkit';
import t from 'tap';
import { createReconciler, createTargetRegistry } from '../src/index.js';
import { cond, silentLog, specFor, waitFor } from './helpers.js';
import { tempDir } from './local-helpers.js';

t.test('a repository over its cap: previews Stalled (QuotaExceeded) until a slot frees, production never blocked', async (t) => {
  const db = await createTestDatabase(t);
  const targets = await createTargetRegistry(
    { local: { stateDir: await tempDir(t, 'wharf-quota-'), runtimeCommand: tinyRuntimeCommand(), stopGraceMs: 1_000, maxEnvironmentsPerRepository: 2 } },
    { log: silentLog },
  );
  t.teardown(() => targets.close());
  const rec = createReconciler({ pool: db.pool, databaseUrl: db.url, targets, log: silentLog, pollIntervalMs: 100 });
  await rec.start();
  t.teardown(() => rec.stop());
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'acme', fullName: 'acme/shop' });
  const other = await seedRepository(db.pool, { tenant: 'acme', fullName: 'acme/other' });
  const seed = (repo: { tenantId: number; repositoryId: number }, name: string, kind: 'production' | 'preview' = 'preview') =>
    seedEnvironments(db.pool, [{ ...repo, app: 'shop', name, kind, target: 'local', digest: 'sha256:v1', spec: specFor('shop', name, 'v1') }]).then(([id = 0]) => id);
  const stateOf = async (id: number) => {
    const e = await getEnvironmentState(db.pool, id);
    if (cond(e?.conditions ?? [], 'Ready')?.status === 'True') return 'Ready';
    const stalled = cond(e?.conditions ?? [], 'Stalled');
    return stalled?.status === 'True' ? `Stalled ${stalled.reason}` : 'other';
  };
  const settled = (ids: number[]) => waitFor('settled', async () => {
    const states = await Promise.all(ids.map(stateOf));
    return states.every((s) => s !== 'other') ? states : undefined;
  }, 30_000);

  const prod = await seed({ tenantId, repositoryId }, 'production', 'production');
  t.same(await settled([prod]), ['Ready']);
  const pr1 = await seed({ tenantId, repositoryId }, 'pr-1');
  const pr2 = await seed({ tenantId, repositoryId }, 'pr-2');
  const states = await settled([pr1, pr2]);
  t.same([...states].sort(), ['Ready', 'Stalled QuotaExceeded'], 'production and one preview fill the cap of 2');
  const [running, stalled] = states[0] === 'Ready' ? [pr1, pr2] : [pr2, pr1];
  const message = cond((await getEnvironmentState(db.pool, stalled))?.conditions ?? [], 'Stalled')?.message;
  t.match(message, /2 environments of this repository already run on this machine, the most WHARF_LOCAL_MAX_ENVIRONMENTS_PER_REPO \(2\) allows/);

  // Another repository has a cap of its own; its production starts even with its previews at the cap.
  const o1 = await seed(other, 'pr-1');
  const o2 = await seed(other, 'pr-2');
  t.same(await settled([o1, o2]), ['Ready', 'Ready'], 'the cap counts per repository');
  const oprod = await seed(other, 'production', 'production');
  t.same(await settled([oprod]), ['Ready'], 'production is never blocked by previews');

  // Tearing down the running preview frees its slot: the stalled one starts by itself.
  await desiredState.requestDeletion(db.pool, { tenantId }, running);
  await waitFor('the stalled preview runs', async () => (await stateOf(stalled)) === 'Ready', 30_000);
  t.pass('a teardown lets the stalled preview start');
});
