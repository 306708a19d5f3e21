import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { desiredState, listen, refs, sql, versions } from '@wharf/store';
import pino from 'pino';
import t from 'tap';
import { branchSlug } from '../src/index.js';
import { createRepo, manifest, workflow } from '@wharf/testkit';
import { type Fixture, setup } from './helpers/setup.js';

const shop = manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]);

async function notifications(t: Parameters<typeof setup>[0], f: Fixture) {
  const got: string[] = [];
  let ready!: () => void;
  const connected = new Promise<void>((r) => (ready = r));
  const listener = listen(f.db.url, ['wharf_environments'], (_c, payload) => got.push(payload ?? ''), pino({ level: 'silent' }));
  t.teardown(() => listener.close());
  // The LISTEN is in place once a notification sent now arrives.
  const probe = setInterval(() => void f.db.pool.query(sql.unsafe`SELECT pg_notify('wharf_environments', 'probe')`), 50);
  const wait = setInterval(() => got.includes('probe') && ready(), 10);
  await connected;
  clearInterval(probe);
  clearInterval(wait);
  await new Promise((r) => setTimeout(r, 100));
  got.length = 0;
  return {
    got,
    async next(predicate: (p: string) => boolean, ms = 3000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (got.some(predicate)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
  };
}

const env = async (f: Fixture, repositoryId: number, name: string, app = 'shop') =>
  (await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repositoryId })).find((e) => e.name === name && e.app === app);

t.test('production follows the production branch head when valid; an invalid head stalls it on the last good version', async (t) => {
  const f = await setup(t);
  const notes = await notifications(t, f);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });

  const good = await repo.commit('good', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow(8080) });
  await f.source.syncLocalRepository(repository, repo.dir);
  const first = await env(f, repository.id, 'production');
  t.ok(first, 'production environment created');
  t.match(first, { kind: 'production', branch: 'main', target: 'local', drift_mode: 'correct', generation: 1 });
  t.equal(first?.desired_spec?.version.sha, good);
  t.equal(first?.desired_spec?.environment, 'production');
  t.ok(await notes.next((p) => p === String(first?.id)), 'NOTIFY wharf_environments with the environment id');

  // A live lease: the next change is due when it runs out, not before.
  const leaseUntil = new Date(Date.now() + 60_000).toISOString();
  await f.db.pool.query(sql.unsafe`UPDATE environments SET lease_owner = 'r1', lease_expires_at = ${leaseUntil} WHERE id = ${first?.id ?? 0}`);
  const next = await repo.commit('port', { 'apps/shop/main.yaml': workflow(9090) });
  notes.got.length = 0;
  await f.source.syncLocalRepository(repository, repo.dir);
  const second = await env(f, repository.id, 'production');
  t.equal(second?.generation, 2, 'a new desired version bumps generation');
  t.equal(second?.desired_spec?.version.sha, next);
  const due = await f.db.pool.oneFirst(sql.unsafe`SELECT next_attempt_at FROM environments WHERE id = ${first?.id ?? 0}`);
  t.equal(new Date(due as string).toISOString(), leaseUntil, 'not due before the live lease expires');
  t.ok(await notes.next((p) => p === String(first?.id)));

  const docs = await repo.commit('docs only', { 'README.md': 'hello' });
  await f.source.syncLocalRepository(repository, repo.dir);
  t.equal((await env(f, repository.id, 'production'))?.generation, 2, 'a commit that does not change the app leaves it alone');
  t.ok((await versions.findVersion(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id }, docs))?.valid, 'but is recorded as a version');

  const bad = await repo.commit('break it', { 'apps/shop/main.yaml': 'modules:\n  - name: server\n    type: http.server\n  - name: [\n' });
  await f.source.syncLocalRepository(repository, repo.dir);
  const stalled = await env(f, repository.id, 'production');
  t.equal(stalled?.generation, 2, 'an invalid version does not bump generation');
  t.equal(stalled?.desired_spec?.version.sha, next, 'production stays on the last good version');
  const condition = stalled?.conditions.find((c: { type: string }) => c.type === 'Stalled');
  t.match(condition, { status: 'True', reason: 'InvalidVersion' });
  t.match(condition?.message, new RegExp(`^version ${bad.slice(0, 7)} is invalid: apps/shop/main\\.yaml:\\d+:\\d+ `), 'names the sha and first error as file:line:col');

  const fixed = await repo.commit('fix', { 'apps/shop/main.yaml': workflow(7070) });
  await f.source.syncLocalRepository(repository, repo.dir);
  const recovered = await env(f, repository.id, 'production');
  t.equal(recovered?.generation, 3);
  t.equal(recovered?.desired_spec?.version.sha, fixed);
  t.match(recovered?.conditions.find((c: { type: string }) => c.type === 'Stalled'), { status: 'False' }, 'Stalled cleared');
});

t.test('the production branch comes from the manifest; every other branch is a preview named by a DNS-safe slug', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  await repo.commit('init', { 'wharf.yaml': `${shop}productionBranch: release\n`, 'apps/shop/main.yaml': workflow() });
  await repo.git('branch', 'release');
  const names = ['feature/login', 'Feature/Login', 'feature-login', 'fix/ünïcode-☃', 'production', `long/${'x'.repeat(245)}`];
  for (const b of names) await repo.git('branch', b);
  await f.source.syncLocalRepository(repository, repo.dir);
  const envs = await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id });
  const byBranch = new Map(envs.map((e) => [e.branch, e]));
  t.equal(byBranch.get('release')?.name, 'production');
  t.equal(byBranch.get('release')?.kind, 'production');
  t.equal(byBranch.get('main')?.name, 'main');
  t.equal(byBranch.get('main')?.kind, 'preview');
  const slugs = names.map((b) => byBranch.get(b)?.name);
  t.equal(new Set(slugs).size, names.length, 'every branch has its own environment');
  for (const s of slugs) t.match(s, /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, `${s} is a DNS label`);
  t.not(byBranch.get('production')?.name, 'production', 'a branch called production does not take over production');
  t.same(slugs, names.map(branchSlug), 'the slug is a pure function of the branch name (stable)');

  // main's manifest breaks, then release moves: release is still production (the last readable manifest says so).
  await repo.commit('break the manifest on main', { 'wharf.yaml': 'apps: [\n' });
  await repo.git('checkout', '-q', 'release');
  const rel = await repo.commit('release change', { 'apps/shop/main.yaml': workflow(6060) });
  await f.source.syncLocalRepository(repository, repo.dir);
  const after = await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id });
  t.equal(after.find((e) => e.name === 'production')?.desired_spec?.version.sha, rel);
  t.notOk(after.find((e) => e.name === 'release'), 'no preview for the production branch');
});

t.test('GitHub repositories: only the production branch head is ingested on sync', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  await repo.commit('init', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await repo.git('checkout', '-q', '-b', 'topic');
  await repo.commit('topic', { 'apps/shop/main.yaml': workflow(5) });
  const { syncHeads } = await import('../src/sync-heads.js');
  const { createGitReader } = await import('../src/git/git-reader.js');
  const reader = createGitReader(path.join(repo.dir, '.git'));
  const result = await syncHeads({ pool: f.db.pool, log: f.log, now: () => new Date() }, reader, repository, await reader.listHeads(), {
    branchPreviews: false,
  });
  t.same(result.ingested.map((i) => i.version.ref), ['main']);
  t.same((await refs.listRefs(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).map((r) => r.ref), ['main', 'topic'], 'but every head is remembered');
  t.same((await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).map((e) => e.name), ['production']);
});

t.test('deleting a branch asks for its preview to be torn down; pack-refs does not', async (t) => {
  const f = await setup(t);
  const notes = await notifications(t, f);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  await repo.commit('init', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await repo.git('checkout', '-q', '-b', 'topic');
  await repo.commit('topic', { 'apps/shop/main.yaml': workflow(1234) });
  await f.source.syncLocalRepository(repository, repo.dir);
  const topic = await env(f, repository.id, 'topic');
  t.equal(topic?.generation, 1);

  await repo.git('pack-refs', '--all');
  const packed = await f.source.syncLocalRepository(repository, repo.dir);
  t.same(packed.deletedBranches, [], 'packed refs are still branches');

  await repo.git('checkout', '-q', 'main');
  await repo.git('branch', '-D', 'topic');
  notes.got.length = 0;
  const result = await f.source.syncLocalRepository(repository, repo.dir);
  t.same(result.deletedBranches, ['topic']);
  const gone = await env(f, repository.id, 'topic');
  t.ok(gone?.deletion_requested_at, 'deletion requested');
  t.equal(gone?.generation, 2, 'generation bumped');
  t.ok(await notes.next((p) => p === String(topic?.id)), 'reconciler notified');
  t.notOk((await env(f, repository.id, 'production'))?.deletion_requested_at, 'production untouched');
  const topicVersion = await versions.findVersion(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id }, gone?.desired_spec?.version.sha ?? '');
  t.equal(topicVersion?.reachable, false, 'the deleted branch’s commit is no longer reachable');
});

t.test('force pushes: the environment follows the new head, the old commits stay recorded as unreachable', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const base = await repo.commit('base', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow(1) });
  const lost1 = await repo.commit('lost 1', { 'apps/shop/main.yaml': workflow(2) });
  await f.source.syncLocalRepository(repository, repo.dir);
  const lost2 = await repo.commit('lost 2', { 'apps/shop/main.yaml': workflow(3) });
  await f.source.syncLocalRepository(repository, repo.dir);
  await repo.git('reset', '-q', '--hard', base);
  const rewritten = await repo.commit('rewritten', { 'apps/shop/main.yaml': workflow(4) });
  const result = await f.source.syncLocalRepository(repository, repo.dir);
  t.same(result.forcePushed, ['main']);
  const reachable = async (sha: string) => (await versions.findVersion(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id }, sha))?.reachable;
  t.equal(await reachable(lost1), false);
  t.equal(await reachable(lost2), false);
  t.equal(await reachable(rewritten), true);
  t.equal((await env(f, repository.id, 'production'))?.desired_spec?.version.sha, rewritten, 'production follows the new head');

  await repo.git('reset', '-q', '--hard', lost2);
  await f.source.syncLocalRepository(repository, repo.dir);
  t.equal(await reachable(lost2), true, 'a commit that comes back is reachable again');
  t.equal(await reachable(rewritten), false);
});

t.test('setDesiredFromVersion points a pull request environment at a version', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const sha = await repo.commit('pr head', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  const { version } = await f.source.ingest(repository, 'refs/pull/7/head', sha);
  const changes = await f.source.setDesiredFromVersion({
    repository,
    versionId: version.id,
    envName: 'pr-7',
    kind: 'preview',
    branch: 'feature',
    prNumber: 7,
    actor: { actor: 'github:octocat' },
  });
  t.match(changes, [{ app: 'shop', environment: 'pr-7', outcome: 'updated', generation: 1 }]);
  t.match(await env(f, repository.id, 'pr-7'), { kind: 'preview', pr_number: 7, desired_version_id: version.id });
  const again = await f.source.setDesiredFromVersion({ repository, versionId: version.id, envName: 'pr-7', kind: 'preview', branch: 'feature', prNumber: 7, actor: { actor: 'github:octocat' } });
  t.match(again, [{ outcome: 'unchanged', generation: 1 }], 'the same version again changes nothing');
});

t.test('a branch whose head cannot be read is skipped and retried; the other branches still sync', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const good = await repo.commit('good', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await writeFile(path.join(repo.dir, '.git', 'refs', 'heads', 'broken'), `${'e'.repeat(40)}\n`);
  const result = await f.source.syncLocalRepository(repository, repo.dir);
  t.same(result.failed.map((x) => x.branch), ['broken']);
  t.equal((await env(f, repository.id, 'production'))?.desired_spec?.version.sha, good);
  t.same((await refs.listRefs(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).map((r) => r.ref), ['main'], 'the broken head is not recorded, so it is retried');
});

t.test('a broken manifest stalls the branch’s environments; an app removed from the manifest is torn down', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const two = manifest([
    { name: 'shop', files: ['apps/shop/*.yaml'] },
    { name: 'blog', files: ['apps/blog/*.yaml'] },
  ]);
  const good = await repo.commit('two apps', { 'wharf.yaml': two, 'apps/shop/main.yaml': workflow(1), 'apps/blog/main.yaml': workflow(2) });
  await f.source.syncLocalRepository(repository, repo.dir);
  const broken = await repo.commit('typo', { 'wharf.yaml': `${two}  - nme: oops\n` });
  await f.source.syncLocalRepository(repository, repo.dir);
  for (const app of ['shop', 'blog']) {
    const e = await env(f, repository.id, 'production', app);
    t.equal(e?.desired_spec?.version.sha, good, `${app} stays on the last good version`);
    t.match(
      e?.conditions.find((c: { type: string }) => c.type === 'Stalled'),
      { status: 'True', reason: 'InvalidVersion', message: new RegExp(`^version ${broken.slice(0, 7)} is invalid: wharf\\.yaml:\\d+:\\d+ `) },
    );
  }
  await repo.commit('drop blog', { 'wharf.yaml': manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]) });
  await f.source.syncLocalRepository(repository, repo.dir);
  t.ok((await env(f, repository.id, 'production', 'blog'))?.deletion_requested_at, 'blog is torn down');
  const shopEnv = await env(f, repository.id, 'production', 'shop');
  t.notOk(shopEnv?.deletion_requested_at);
  t.match(shopEnv?.conditions.find((c: { type: string }) => c.type === 'Stalled'), { status: 'False' }, 'shop recovered');
});
