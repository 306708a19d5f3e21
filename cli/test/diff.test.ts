import { repositories, sql, tenants, versions } from '@wharf/store';
import { createTestDatabase } from '@wharf/testkit';
import { seedEnvironments, setDesiredForTest } from '@wharf/store/testing';
import t from 'tap';
import { runDiff } from '../src/commands/diff.js';

const file = (content: string) => [{ path: 'app.yaml', content }];
const spec = (v: string, content: string) => ({
  app: 'shop',
  environment: 'production',
  version: { sha: v.repeat(40).slice(0, 40), digest: `sha256:${v}` },
  files: file(content),
  runtime: {},
  replicas: 1,
  env: [],
});

t.test('wharf diff: the plan with config changes by name', async (t) => {
  const db = await createTestDatabase(t);
  const tenant = await tenants.upsertTenant(db.pool, { kind: 'local', externalId: 'me', name: 'me' });
  const repo = await repositories.upsertRepository(db.pool, { tenantId: tenant.id, provider: 'local', fullName: 'me/r', url: 'file:///r', defaultBranch: 'main' });
  const v1 = spec('a', 'modules:\n  - name: server\n    type: http.server\npipelines:\n  old-one:\n    steps: []\n');
  const { version } = await db.pool.transaction((tx) =>
    versions.insertVersion(tx, {
      tenantId: tenant.id,
      repositoryId: repo.id,
      sha: 'a'.repeat(40),
      parentSha: null,
      ref: 'refs/heads/main',
      author: 'me',
      message: 'first',
      committedAt: null,
      valid: true,
      diagnostics: [],
      manifest: null,
      apps: [{ app: 'shop', digest: 'sha256:a', valid: true, diagnostics: [], spec: v1, carriedFromVersionId: null, rollbackOfVersionId: null }],
    }),
  );
  const [id = 0] = await seedEnvironments(db.pool, [
    { tenantId: tenant.id, repositoryId: repo.id, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:a', spec: v1, versionId: version.id, converged: { dueInMs: 3_600_000 } },
  ]);
  const v2 = spec('b', 'modules:\n  - name: server\n    type: http.server\n    config: { address: ":9090" }\n  - name: router\n    type: http.router\nworkflows:\n  http:\n    routes:\n      - { method: GET, path: /health, handler: h }\n');
  await setDesiredForTest(db.pool, { ids: [id], digest: 'sha256:b', spec: v2 });
  let out = '';
  let err = '';
  const io = { stdout: (s: string) => (out += s), stderr: (s: string) => (err += s), cwd: '/', pool: db.pool };
  t.equal(await runDiff(['production'], io), 0, err);
  t.match(out, /^shop\/production\nupdate \(VersionChanged\): a → b/);
  t.match(out, /~ file app.yaml \(changed\)/);
  t.match(out, /\+ module router/);
  t.match(out, /~ module server \(changed\)/);
  t.match(out, /- pipeline old-one/);
  t.match(out, /\+ route GET \/health/);
  t.match(out, /4 to add, 2 to change, 1 to remove|3 to add, 2 to change, 1 to remove/);
  out = '';
  t.equal(await runDiff(['production', '--json'], io), 0);
  t.match(JSON.parse(out), { app: 'shop', actions: [{ type: 'update', reason: 'VersionChanged' }] });
  await db.pool.query(sql.unsafe`UPDATE environments SET deletion_requested_at = now() WHERE id = ${id}`);
  out = '';
  await runDiff(['production'], io);
  t.match(out, /delete \(DeletionRequested\)/);
});
