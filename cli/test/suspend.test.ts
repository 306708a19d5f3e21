import { environments, repositories, tenants } from '@wharf/store';
import { createTestDatabase } from '@wharf/testkit';
import { createMemoryTarget, createReconciler } from '@wharf/reconciler';
import pino from 'pino';
import t from 'tap';
import { runStatus } from '../src/commands/status.js';
import { runResume, runSuspend } from '../src/commands/suspend.js';

async function seedTwo(pool: Parameters<typeof environments.seedEnvironments>[0]) {
  const tenant = await tenants.upsertTenant(pool, { kind: 'local', externalId: 'me', name: 'me' });
  const repo = await repositories.upsertRepository(pool, { tenantId: tenant.id, provider: 'local', fullName: 'me/r', url: 'file:///r', defaultBranch: 'main' });
  const spec = (env: string) => ({ app: 'shop', environment: env, version: { sha: 'a'.repeat(40), digest: 'sha256:a' }, files: [], runtime: {}, replicas: 1, env: [] });
  const [prod = 0, pr = 0] = await environments.seedEnvironments(pool, [
    { tenantId: tenant.id, repositoryId: repo.id, app: 'shop', name: 'production', target: 'memory', digest: 'sha256:a', spec: spec('production') },
    { tenantId: tenant.id, repositoryId: repo.id, app: 'shop', name: 'pr-4', target: 'memory', digest: 'sha256:a', spec: spec('pr-4') },
  ]);
  return { prod, pr };
}

t.test('wharf suspend and resume', async (t) => {
  const db = await createTestDatabase(t);
  const { pr } = await seedTwo(db.pool);
  const target = createMemoryTarget();
  const rec = createReconciler({ pool: db.pool, targets: { memory: target }, log: pino({ level: 'silent' }) });
  let out = '';
  let err = '';
  const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s), cwd: '/', pool: db.pool };
  t.equal(await runSuspend(['shop/pr-4'], io), 0);
  t.match(out, /shop\/pr-4 suspended/);
  t.equal(await rec.reconcileOnce(), 1, 'only production is reconciled');
  t.notOk(target.running.has(pr));
  out = '';
  await runStatus([], io);
  t.match(out, /pr-4\s+.*Suspended/);
  t.equal(await runResume(['pr-4--shop'], io), 0);
  t.equal(await rec.reconcileOnce(), 1, 'resumed and due at once');
  t.ok(target.running.has(pr));
  t.equal(await runSuspend(['nope'], io), 1);
  t.match(err, /no environment named nope/);
  t.equal(await runSuspend([], io), 2);
  t.equal((await environments.getEnvironmentState(db.pool, pr))?.suspended, false);
});
