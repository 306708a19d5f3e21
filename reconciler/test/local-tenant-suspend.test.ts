/**
 * Suspending a tenant stops its runtimes (its data kept) and says so; another tenant with the same names keeps
 * serving. Resuming starts them again (on the data dir that was kept).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { tenants } from '@wharf/store';
import { getEnvironmentState, seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, pidAlive, seedRepository, tinyRuntimeCommand } from '@wharf/testkit';
import t from 'tap';
import { createReconciler, createTargetRegistry } from '../src/index.js';
import { cond, outboxOf, silentLog, specFor, waitFor } from './helpers.js';
import { tempDir } from './local-helpers.js';

const status = (url: string) =>
  new Promise<number>((resolve) => {
    const u = new URL(url);
    http
      .get({ host: '127.0.0.1', port: u.port, path: '/', headers: { host: u.host }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });

t.test('a suspended tenant runs nothing; another tenant with the same names is untouched; resuming starts it again', async (t) => {
  const db = await createTestDatabase(t);
  const stateDir = await tempDir(t, 'wharf-suspend-');
  const targets = await createTargetRegistry({ local: { stateDir, runtimeCommand: tinyRuntimeCommand(), stopGraceMs: 1_000 } }, { log: silentLog });
  t.teardown(() => targets.close());
  const local = targets.get('local');
  const rec = createReconciler({ pool: db.pool, databaseUrl: db.url, targets, log: silentLog, pollIntervalMs: 100 });
  await rec.start();
  t.teardown(() => rec.stop());
  const a = await seedRepository(db.pool, { tenant: 'a', kind: 'github', fullName: 'a/shop' });
  const b = await seedRepository(db.pool, { tenant: 'b', kind: 'github', fullName: 'b/shop' });
  const [idA = 0, idB = 0] = await seedEnvironments(db.pool, [
    { ...a, app: 'shop', name: 'production', kind: 'production', target: 'local', digest: 'sha256:v1', spec: specFor('shop', 'production', 'v1') },
    { ...b, app: 'shop', name: 'production', kind: 'production', target: 'local', digest: 'sha256:v1', spec: specFor('shop', 'production', 'v1') },
  ]);
  const ready = (id: number) =>
    waitFor(`${id} Ready`, async () => {
      const e = await getEnvironmentState(db.pool, id);
      return e && cond(e.conditions, 'Ready')?.status === 'True' && local?.pidOf(id) ? e : undefined;
    }, 30_000);
  const urlA = (await ready(idA)).url ?? '';
  const urlB = (await ready(idB)).url ?? '';
  const pidA = local?.pidOf(idA) ?? 0;

  const toldBefore = (await outboxOf(db.pool, idA)).length;
  await tenants.setTenantSuspended(db.pool, a.tenantId, true);
  const stalled = await waitFor('A stopped', async () => {
    const e = await getEnvironmentState(db.pool, idA);
    return e && cond(e.conditions, 'Stalled')?.reason === 'TenantSuspended' && !pidAlive(pidA) ? e : undefined;
  }, 30_000);
  t.match(cond(stalled.conditions, 'Stalled')?.message, /the tenant is suspended: its runtime is stopped and its data kept/);
  t.equal(await status(urlA), 404, "the suspended tenant's URL answers nothing");
  t.equal((await outboxOf(db.pool, idA)).length, toldBefore, 'nothing is queued for an installation that takes no calls');
  t.ok(existsSync(path.join(stateDir, 'envs', String(idA), 'data')), 'its data dir is kept');
  t.equal(await status(urlB), 200, 'the other tenant with the same names still serves');
  t.equal(cond((await getEnvironmentState(db.pool, idB))?.conditions ?? [], 'Ready')?.status, 'True');

  await tenants.setTenantSuspended(db.pool, a.tenantId, false);
  await waitFor('A serves again', async () => (await status(urlA)) === 200, 30_000);
  t.not(local?.pidOf(idA), pidA, 'a new runtime');
  const resumed = await waitFor('A Ready', async () => {
    const e = await getEnvironmentState(db.pool, idA);
    return e && cond(e.conditions, 'Ready')?.status === 'True' ? e : undefined;
  }, 30_000);
  t.equal(cond(resumed.conditions, 'Stalled')?.status, 'False', 'no longer Stalled');
});
