import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { desiredState, versions } from '@wharf/store';
import t from 'tap';
import { createSource, RemoteUnavailableError } from '../src/index.js';
import { manifest, workflow } from '@wharf/testkit';
import { remoteRepo } from './helpers/remote-repo.js';
import { type Fixture, setup } from './helpers/setup.js';

const shop = manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]);

const production = async (f: Fixture, repositoryId: number) =>
  (await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repositoryId })).find((e) => e.name === 'production');

t.test('a remote is cloned once into the cache, then fetched only when a head moved', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  const first = await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });

  const initial = await f.source.checkRemote(repository);
  t.equal(initial.moved, true);
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, first);
  t.ok((await readdir(f.cacheDir)).length === 1, 'one clone in the cache directory');

  const before = remote.server.requests.length;
  const idle = await f.source.checkRemote(repository);
  t.equal(idle.moved, false, 'nothing moved');
  const idleRequests = remote.server.requests.slice(before);
  t.ok(idleRequests.length <= 2, `only the ref advertisement was asked for (${idleRequests.length} requests)`);

  const second = await remote.repo.commit('second', { 'apps/shop/main.yaml': workflow(9090) });
  await remote.repo.git('checkout', '-q', '-b', 'feature');
  const feature = await remote.repo.commit('feature', { 'apps/shop/main.yaml': workflow(7070) });
  await remote.push('main', 'feature');
  const moved = await f.source.checkRemote(repository);
  t.equal(moved.moved, true);
  t.same(moved.sync?.ingested.map((i) => i.version.sha).sort(), [second, feature].sort(), 'both moved heads ingested');
  t.same(moved.sync?.ingested.find((i) => i.version.sha === second)?.validated, ['shop']);
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, second);
  const envs = await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id });
  t.ok(envs.find((e) => e.branch === 'feature' && e.name === 'feature'), 'a plain Git remote gets branch previews');

  await remote.repo.git('push', '-q', 'origin', '--delete', 'feature');
  const deleted = await f.source.checkRemote(repository);
  t.same(deleted.sync?.deletedBranches, ['feature'], 'a branch deleted on the remote is seen');
  t.equal((await versions.findVersion(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id }, feature))?.reachable, false);
});

t.test('credentials come from the auth hook on every request', async (t) => {
  let n = 0;
  const f = await setup(t, { auth: async () => ({ token: `tok-${++n}` }) });
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'github', name: 'acme/app' });
  await f.source.syncRemoteRepository(repository);
  await f.source.checkRemote(repository);
  const auth = remote.server.requests.map((r) => r.authorization);
  t.ok(auth.every((a) => a?.startsWith('Basic ')), 'every request authenticated');
  const decoded = new Set(auth.map((a) => Buffer.from((a ?? '').slice(6), 'base64').toString()));
  t.ok(decoded.has('x-access-token:tok-1') && decoded.has('x-access-token:tok-2'), 'a fresh token per operation');
  t.equal((await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).map((e) => e.name).join(), 'production', 'GitHub repositories get no branch previews');
});

t.test('a corrupt cache directory is cloned again with a warning', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });
  await f.source.syncRemoteRepository(repository);
  const gitdir = f.source.gitdirFor(repository);
  const packDir = path.join(gitdir, 'objects', 'pack');
  // A damaged clone (disk fault, interrupted write): the pack directory is garbage.
  await rm(packDir, { recursive: true });
  await writeFile(packDir, 'garbage');
  const sha = await remote.repo.commit('second', { 'apps/shop/main.yaml': workflow(9090) });
  await remote.push();

  // A new process (nothing cached in memory) finds the damaged clone.
  const restarted = createSource({ pool: f.db.pool, cacheDir: f.cacheDir, log: f.log });
  const result = await restarted.syncRemoteRepository(repository);
  t.same(result.ingested.map((i) => i.version.sha), [sha]);
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, sha);
  t.ok(f.logs.some((l) => l.level === 'warn' && /cloning again/.test(l.msg)), 'warned');
});

t.test('a remote that times out is retried with backoff, then reported; the environment is untouched', async (t) => {
  const mode = { stall: false, failures: 0 };
  const f = await setup(t, { remoteTimeoutMs: 500, retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 } });
  const remote = await remoteRepo(t, (_req, res) => {
    if (mode.stall) return true; // never answers
    if (mode.failures > 0) {
      mode.failures--;
      res.writeHead(503).end('try later');
      return true;
    }
    return false;
  });
  const first = await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });
  await f.source.syncRemoteRepository(repository);
  const before = await production(f, repository.id);

  await remote.repo.commit('second', { 'apps/shop/main.yaml': workflow(9090) });
  await remote.push();
  mode.stall = true;
  const started = Date.now();
  const count = remote.server.requests.length;
  await t.rejects(f.source.checkRemote(repository), RemoteUnavailableError);
  t.equal(remote.server.requests.length - count, 3, 'three attempts');
  t.ok(Date.now() - started < 5000, 'bounded in time');
  t.same(await production(f, repository.id), before, 'environment untouched');
  t.equal(before?.desired_spec?.version.sha, first);

  mode.stall = false;
  mode.failures = 2;
  const recovered = await f.source.checkRemote(repository);
  t.equal(recovered.moved, true, 'transient 503s are retried');
  t.equal((await production(f, repository.id))?.generation, 2);
});

t.test('pollRemote notices a push within a few intervals', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });
  const results: boolean[] = [];
  const poller = f.source.pollRemote({ repository, intervalMs: 100, jitter: 0.3, onResult: (r) => results.push('moved' in r && r.moved) });
  t.teardown(() => poller.close());
  const sha = await remote.repo.commit('second', { 'apps/shop/main.yaml': workflow(9090) });
  await remote.push();
  const until = Date.now() + 5000;
  while ((await production(f, repository.id))?.desired_spec?.version.sha !== sha && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, sha);
  await poller.close();
  t.ok(results.length >= 1);
});

t.test('ingestRemote fetches a pull request head that is on no branch, incrementally, and the PR environment follows it', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'github', name: 'acme/app' });
  await f.source.syncRemoteRepository(repository);

  const pr = await remote.repo.commit('pr change', { 'apps/shop/main.yaml': workflow(4242) });
  await remote.repo.git('push', '-q', 'origin', `${pr}:refs/pull/7/head`);
  await remote.repo.git('reset', '-q', '--hard', 'HEAD~1');
  const { version, validated } = await f.source.ingestRemote(repository, 'refs/pull/7/head', pr);
  t.equal(version.sha, pr);
  t.same(validated, ['shop'], 'diffed against its parent on main: only the changed app read');
  const changes = await f.source.setDesiredFromVersion({ repository, versionId: version.id, envName: 'pr-7', kind: 'preview', branch: 'feature', prNumber: 7, actor: { actor: 'github:octocat' } });
  t.match(changes, [{ environment: 'pr-7', outcome: 'updated' }]);
  const again = await f.source.ingestRemote(repository, 'refs/pull/7/head', pr);
  t.equal(again.created, false, 'a redelivered event changes nothing');
  await t.rejects(f.source.ingestRemote(repository, 'refs/pull/8/head', 'a'.repeat(40)), /refs\/pull\/8\/head is not on the remote/);
  t.notOk(f.logs.some((l) => /cloning again/.test(l.msg)), 'a missing ref is not mistaken for a damaged cache');
});
