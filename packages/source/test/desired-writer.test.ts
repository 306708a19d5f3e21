/**
 * The source is the one writer of desired state: branch heads, pull request previews (a fork's with every secret
 * reference left out), redeploys. Each deploy, rollback and redeploy is in the audit log, written with it.
 */
import { scopeOf, desiredState } from '@wharf/store';
import { listAllAudit } from '@wharf/store/testing';
import { createRepo, manifest, workflow } from '@wharf/testkit';
import t from 'tap';
import { setup } from './helpers/setup.js';

const withSecret = `${manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }])}    env:\n      - name: GREETING\n        value: hello\n      - name: API_KEY\n        secretRef: { name: shop, key: api-key }\n`;
const broken = workflow(8080, '  - name: server\n    type: http.server\n');

t.test("a fork's preview gets no secret reference; a valid commit after an invalid one clears InvalidVersion", async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const bad = await repo.commit('broken', { 'wharf.yaml': withSecret, 'apps/shop/main.yaml': broken });
  const good = await repo.commit('fixed', { 'apps/shop/main.yaml': workflow(8081) });
  const pr = { envName: 'pr-3', kind: 'preview' as const, branch: null, prNumber: 3, actor: { actor: 'github:octocat' }, options: { stripSecrets: true } };

  const badVersion = (await f.source.ingest(repository, 'refs/pull/3/head', bad)).version;
  t.match(await f.source.setDesiredFromVersion({ repository, versionId: badVersion.id, ...pr }), [{ outcome: 'stalled' }]);
  const preview = async () => (await desiredState.listRepositoryEnvironments(f.db.pool, scopeOf(repository))).find((e) => e.name === 'pr-3');
  t.match((await preview())?.conditions, [{ type: 'Stalled', status: 'True', reason: 'InvalidVersion' }]);

  const goodVersion = (await f.source.ingest(repository, 'refs/pull/3/head', good)).version;
  t.match(await f.source.setDesiredFromVersion({ repository, versionId: goodVersion.id, ...pr }), [{ outcome: 'updated' }]);
  const after = await preview();
  t.same(after?.desired_spec?.env, [{ name: 'GREETING', value: 'hello' }], 'the secret reference is stripped');
  t.match(after?.conditions, [{ type: 'Stalled', status: 'False', reason: 'Recovered' }], 'InvalidVersion cleared by the same writer');

  // The same version deployed with secrets (the pull request is no longer from a fork) is a change, not "unchanged".
  const withSecrets = await f.source.setDesiredFromVersion({ repository, versionId: goodVersion.id, ...pr, options: {} });
  t.match(withSecrets, [{ outcome: 'updated' }]);
  t.same((await preview())?.desired_spec?.env.map((e) => e.name), ['GREETING', 'API_KEY']);
});

t.test('deploys, rollbacks and redeploys are in the audit log with who, what and why', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  await repo.commit('First version', { 'wharf.yaml': manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]), 'apps/shop/main.yaml': workflow(8080) });
  await f.source.syncLocalRepository(repository, repo.dir);
  await repo.commit('Move to 9090', { 'apps/shop/main.yaml': workflow(9090) });
  await f.source.syncLocalRepository(repository, repo.dir);
  await repo.git('revert', '--no-edit', 'HEAD');
  await f.source.syncLocalRepository(repository, repo.dir);
  const production = (await desiredState.listRepositoryEnvironments(f.db.pool, scopeOf(repository))).find((e) => e.name === 'production');
  t.match(await listAllAudit(f.db.pool), [
    { tenant_id: f.tenantId, actor: 'git:Ada <ada@example.com>', action: 'deploy', subject: `environment:${production?.id}`, reason: 'First version', details: { app: 'shop', environment: 'production' } },
    { action: 'deploy', reason: 'Move to 9090' },
    { action: 'rollback', reason: 'Revert "Move to 9090"', details: { rollbackOfVersionId: Number } },
  ]);

  // A preview, then a redeploy of it at the same version.
  const head = await repo.head();
  const version = (await f.source.ingest(repository, 'refs/pull/5/head', head)).version;
  await f.source.setDesiredFromVersion({ repository, versionId: version.id, envName: 'pr-5', kind: 'preview', branch: 'main', prNumber: 5, actor: { actor: 'github:octocat', reason: 'preview of #5' } });
  const before = (await desiredState.listRepositoryEnvironments(f.db.pool, scopeOf(repository))).find((e) => e.name === 'pr-5');
  t.equal(await f.source.redeployPreview({ repository, prNumber: 5, actor: { actor: 'github:octocat', reason: '/wharf redeploy' } }), 1);
  const after = (await desiredState.listRepositoryEnvironments(f.db.pool, scopeOf(repository))).find((e) => e.name === 'pr-5');
  t.equal(after?.generation, (before?.generation ?? 0) + 1, 'a new generation of the same desired state');
  t.equal(after?.desired_digest, before?.desired_digest);
  t.match((await listAllAudit(f.db.pool)).slice(-2), [
    { actor: 'github:octocat', action: 'rollback', reason: 'preview of #5' },
    { actor: 'github:octocat', action: 'redeploy', reason: '/wharf redeploy', details: { environment: 'pr-5' } },
  ]);
  t.equal(await f.source.redeployPreview({ repository, prNumber: 99, actor: { actor: 'github:octocat' } }), 0, 'nothing to redeploy');
});
