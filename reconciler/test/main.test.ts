/** The reconciler runs alone against DATABASE_URL: reconciles, answers health and metrics, stops on SIGTERM. */
import path from 'node:path';
import { seedEnvironments, getEnvironmentState } from '@wharf/store/testing';
import { createTestDatabase, REPO_ROOT, seedRepository, startTsProcess, tempDir, waitFor } from '@wharf/testkit';
import t from 'tap';
import { specFor } from './helpers.js';

const MAIN = path.join(REPO_ROOT, 'reconciler/src/main.ts');

t.test('reconciler main: claims and reconciles what is due, serves /readyz and /metrics, stops cleanly', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-reconciler-main-');
  const { tenantId, repositoryId } = await seedRepository(db.pool);
  const [id = 0] = await seedEnvironments(db.pool, [{ tenantId, repositoryId, app: 'shop', name: 'prod', target: 'nowhere', digest: 'sha256:v1', spec: specFor('shop', 'prod', 'v1') }]);
  const proc = startTsProcess(MAIN, [], {
    cwd: dir,
    env: { DATABASE_URL: db.url, WHARF_DATA_DIR: dir, WHARF_ROUTER_PORT: '0', WHARF_RECONCILER_PORT: '0', WHARF_LOG_LEVEL: 'info' },
  });
  t.teardown(async () => {
    proc.child.kill('SIGKILL');
    await proc.exited;
  });
  const [, health] = await proc.waitFor(/"health":"(http:\/\/[^"]+)"/, 60_000);
  const stalled = await waitFor('reconciled', async () => {
    const env = await getEnvironmentState(db.pool, id);
    return env?.conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
  });
  t.match(stalled, { reason: 'UnknownTarget', message: /no target named "nowhere"/ });
  t.equal((await fetch(`${health}/readyz`)).status, 200);
  t.match(await (await fetch(`${health}/metrics`)).text(), /wharf_reconcile_total\{result="stalled"\} 1/);
  proc.child.kill('SIGTERM');
  t.match(await proc.exited, { code: 0 }, 'SIGTERM stops it cleanly');
});

t.test('reconciler main refuses to start without a database; --operator outside a cluster says what it needs', async (t) => {
  const dir = await tempDir(t, 'wharf-reconciler-main-');
  const missing = startTsProcess(MAIN, [], { cwd: dir, env: { WHARF_RECONCILER_PORT: '0' } });
  t.match(await missing.exited, { code: 1 });
  t.match(missing.output(), /reconciler: DATABASE_URL is required/);
  const bad = startTsProcess(MAIN, [], { cwd: dir, env: { DATABASE_URL: 'mysql://x', WHARF_RECONCILER_PORT: 'many' } });
  t.match(await bad.exited, { code: 1 });
  t.match(bad.output(), /WHARF_RECONCILER_PORT must be a whole number/, 'every problem at once');
  t.match(bad.output(), /DATABASE_URL must start with postgres:\/\//);
  const operator = startTsProcess(MAIN, ['--operator'], { cwd: dir, env: { WHARF_KUBECONFIG: 'in-cluster' } });
  t.match(await operator.exited, { code: 1 });
  t.match(operator.output(), /in-cluster credentials need a pod .* set WHARF_KUBECONFIG to a kubeconfig file/);
  t.notMatch(operator.output(), /TypeError|Invalid URL/, 'no stack trace');
});
