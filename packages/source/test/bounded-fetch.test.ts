import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { desiredState, refs } from '@wharf/store';
import t from 'tap';
import { createGitReader } from '../src/git/git-reader.js';
import { PackTooLargeError, RefAdvertisementTooLargeError, RefNotFoundError } from '../src/index.js';
import { git, manifest, openRepo, publishPullHead, tempDir, workflow } from '@wharf/testkit';
import { fastImport, remoteRepo } from './helpers/remote-repo.js';
import { type Fixture, setup } from './helpers/setup.js';

const shop = manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]);
const KiB = 1024;
const MiB = 1024 * KiB;

const production = async (f: Fixture, repositoryId: number) =>
  (await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId })).find((e) => e.name === 'production');

/** A fast-import `data` command. */
const message = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;

/** Every ref of the cache clone, as the git CLI lists it. */
const cacheRefs = async (gitdir: string) => (await git(gitdir, 'for-each-ref', '--format=%(refname)')).split('\n').filter(Boolean).sort();
const packFiles = async (gitdir: string) => (await readdir(path.join(gitdir, 'objects', 'pack')).catch(() => [])).sort();

t.test('a push fetches only the pushed branch: the other branches never reach the cache', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  const first = await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.repo.git('checkout', '-q', '-b', 'other');
  const other = await remote.repo.commit('other', { 'apps/shop/main.yaml': workflow(7070), 'other.bin': randomBytes(64 * KiB) });
  await remote.repo.git('checkout', '-q', 'main');
  const second = await remote.repo.commit('second', { 'apps/shop/main.yaml': workflow(9090) });
  await remote.push('main', 'other');
  const repository = await f.repository({ url: remote.url, provider: 'github', name: 'acme/app' });

  const before = remote.server.requests.length;
  const synced = await f.source.syncPushedRef(repository, 'refs/heads/main', second);
  t.same(synced.ingested.map((i) => i.version.sha), [second], 'the pushed head is recorded');
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, second, 'production follows it');
  t.equal(remote.packRequests(before), 1, 'one fetch');
  const gitdir = f.source.gitdirFor(repository);
  const reader = createGitReader(gitdir);
  t.ok(await reader.hasCommit(first), 'the pushed branch’s history is in the cache');
  t.notOk(await reader.hasCommit(other), 'the other branch’s commit is not');
  t.same(await cacheRefs(gitdir), ['refs/remotes/origin/main'], 'and no ref for it');
  t.notOk(await git(gitdir, 'cat-file', '-e', `${other}:other.bin`).then(() => true, () => false), 'nor its blob (git CLI agrees)');

  // A push to a branch that is not production (GitHub: no branch previews) is remembered without fetching anything.
  const count = remote.server.requests.length;
  const skipped = await f.source.syncPushedRef(repository, 'refs/heads/other', other);
  t.same(skipped.ingested, [], 'nothing ingested');
  t.equal(remote.server.requests.length, count, 'no request to the remote at all');
  t.same((await refs.listRefs(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).map((r) => [r.ref, r.sha]), [['main', second], ['other', other]]);

  // A deletion tears down that branch only; the safety-net poll then agrees and fetches nothing.
  await remote.repo.git('push', '-q', 'origin', '--delete', 'other');
  const deleted = await f.source.syncPushedRef(repository, 'refs/heads/other', '0'.repeat(40));
  t.same(deleted.deletedBranches, ['other']);
  const polled = remote.server.requests.length;
  t.equal((await f.source.checkRemote(repository)).moved, false, 'the poll sees nothing new');
  t.equal(remote.packRequests(polled), 0, 'and fetches nothing');

  await t.rejects(f.source.syncPushedRef(repository, 'refs/tags/v1', second), /only refs\/heads\/<branch> and refs\/pull\/<n>\/head/);
  await t.rejects(f.source.syncPushedRef(repository, 'refs/heads/a..b', second), /cannot fetch/, 'a malformed branch name never reaches the remote');
  await t.rejects(f.source.syncPushedRef(repository, 'refs/heads/main', 'HEAD'), /not a commit id/);
});

t.test('with branch previews, a push fetches and previews that branch alone', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.repo.git('checkout', '-q', '-b', 'a');
  const a = await remote.repo.commit('a', { 'apps/shop/main.yaml': workflow(7070) });
  await remote.repo.git('checkout', '-q', '-b', 'b');
  const b = await remote.repo.commit('b', { 'apps/shop/main.yaml': workflow(7171) });
  await remote.push('main', 'a', 'b');
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });
  await f.source.syncPushedRef(repository, 'refs/heads/main', await remote.repo.head('main'));

  const result = await f.source.syncPushedRef(repository, 'refs/heads/b', b);
  t.same(result.ingested.map((i) => i.version.sha), [b]);
  const envs = await desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id });
  t.same(envs.map((e) => e.name).sort(), ['b', 'production']);
  const reader = createGitReader(f.source.gitdirFor(repository));
  t.ok(await reader.hasCommit(a), 'b’s parent a came with b (it is b’s history)');
  t.same(await cacheRefs(f.source.gitdirFor(repository)), ['refs/remotes/origin/b', 'refs/remotes/origin/main'], 'but a was not fetched as a branch');
});

t.test('a fork pull request: its head exists only under refs/pull/<n>/head, and is fetched and read from there', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  // The fork: another repository, whose branch `patch` GitHub publishes as refs/pull/7/head of the base.
  const forkDir = await tempDir(t, 'wharf-fork-');
  await git(forkDir, 'clone', '-q', remote.bare, '.');
  const fork = await openRepo(forkDir);
  await fork.git('checkout', '-q', '-b', 'patch');
  const head = await fork.commit('fork change', { 'apps/shop/main.yaml': workflow(4242), 'assets/logo.bin': randomBytes(256 * KiB) });
  t.equal(await publishPullHead({ base: remote.bare, fork: forkDir, branch: 'patch', number: 7 }), head);
  t.notMatch(await git(remote.bare, 'branch', '--contains', head), /\S/, 'no branch of the base repository has the fork’s commit');
  await t.rejects(fork.git('push', '-q', remote.bare, `HEAD:refs/pull/7/head`), 'like GitHub, refs/pull is hidden from pushes');

  const repository = await f.repository({ url: remote.url, provider: 'github', name: 'acme/app' });
  await f.source.syncRemoteRepository(repository);
  const fetched = await f.source.fetchPullHead(repository, 7);
  t.equal(fetched.sha, head, 'the pull request’s head commit');
  const { version, validated } = await f.source.ingest(repository, 'refs/pull/7/head', head);
  t.equal(version.valid, true);
  t.same(validated, ['shop'], 'its app read and validated');
  t.equal(version.parent_sha, await remote.repo.head('main'));
  t.same(await cacheRefs(fetched.gitdir), ['refs/pull/7/head', 'refs/remotes/origin/main'], 'kept under its own ref, not as a branch');

  // synchronize: the fork pushes again; only the new objects are transferred (the previous head is the "have").
  const next = await fork.commit('fork change 2', { 'apps/shop/main.yaml': workflow(4343) });
  await publishPullHead({ base: remote.bare, fork: forkDir, branch: 'patch', number: 7 });
  const again = await f.source.fetchPullHead(repository, 7);
  t.equal(again.sha, next);
  t.ok(fetched.receivedBytes > 256 * KiB, `first fetch carried the fork's blob (${fetched.receivedBytes} bytes)`);
  t.ok(again.receivedBytes < 32 * KiB, `the next one only the new commit (${again.receivedBytes} bytes)`);

  await t.rejects(f.source.fetchPullHead(repository, 8), RefNotFoundError, 'a pull request that does not exist');
  await t.rejects(f.source.fetchRefs(repository, ['refs/pull/7/merge']), /cannot fetch/);
  await t.rejects(f.source.fetchPullHead(repository, 0), /not a pull request number/);
});

t.test('a pack over the limit is refused as it streams: nothing stored, production as it was, bytes read bounded', async (t) => {
  const limit = 256 * KiB;
  const f = await setup(t, { fetchLimits: { maxPackBytes: limit } });
  const remote = await remoteRepo(t);
  const good = await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });
  await f.source.syncRemoteRepository(repository);
  const gitdir = f.source.gitdirFor(repository);
  const packsBefore = await packFiles(gitdir);
  const refsBefore = await cacheRefs(gitdir);

  // 16 MiB of random bytes: incompressible, so the pack is as large.
  const blob = 16 * MiB;
  await remote.repo.git('checkout', '-q', '-b', 'big');
  const big = await remote.repo.commit('big', { 'apps/shop/main.yaml': workflow(9090), 'data.bin': randomBytes(blob) });
  await remote.repo.git('checkout', '-q', 'main');
  await remote.push('big');

  const before = remote.server.requests.length;
  const err = await f.source.fetchRefs(repository, ['refs/heads/big']).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, PackTooLargeError);
  const refused = err as PackTooLargeError;
  t.equal(refused.message, 'pack for refs/heads/big is over 256 KiB (limit); nothing was stored');
  t.equal(refused.reason, 'PackTooLarge');
  t.equal(refused.oid, big, 'names the commit it was for');
  t.ok(refused.receivedBytes > limit && refused.receivedBytes <= limit + 1 * MiB, `read just past the limit, then stopped (${refused.receivedBytes} bytes)`);
  const post = remote.server.requests.slice(before).find((r) => r.method === 'POST' && !r.gitProtocol);
  t.ok(post?.aborted, 'the transfer was cut');
  t.ok((post?.bytesSent ?? 0) < blob / 2, `the remote sent ${post?.bytesSent} of ${blob}+ bytes before it was cut`);
  t.same(await packFiles(gitdir), packsBefore, 'no pack was stored');
  t.same(await cacheRefs(gitdir), refsBefore, 'no ref moved');
  t.notOk(existsSync(path.join(gitdir, 'wharf-spool')), 'the spooled part is gone');
  t.notOk(await createGitReader(gitdir).hasCommit(big));

  // Asked again for the same commit, it is refused without downloading it again.
  const count = remote.server.requests.length;
  await t.rejects(f.source.fetchRefs(repository, ['refs/heads/big']), PackTooLargeError);
  t.equal(remote.packRequests(count), 0, 'no second download');

  // The safety-net poll: the big branch fails alone, with the error; production and the cache stay as they were.
  const polled = remote.server.requests.length;
  const checked = await f.source.checkRemote(repository);
  t.match(checked.sync?.failed, [{ branch: 'big', sha: big, error: PackTooLargeError }]);
  t.equal(remote.packRequests(polled), 0, 'the poll does not download it either');
  t.notOk(f.logs.some((l) => /cloning again/.test(l.msg)), 'a refused pack is not mistaken for a damaged cache');
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, good);

  // A production push that is too big: production stays on its last good version.
  await remote.repo.git('merge', '-q', '--ff-only', 'big');
  await remote.push('main');
  const pushed = await f.source.syncPushedRef(repository, 'refs/heads/main', big);
  t.match(pushed.failed, [{ branch: 'main', error: PackTooLargeError }]);
  t.equal((await production(f, repository.id))?.desired_spec?.version.sha, good, 'production untouched');
  t.same(await packFiles(gitdir), packsBefore, 'still nothing stored');

  // The limit is per call too: a caller may allow more.
  const allowed = await f.source.fetchRefs(repository, ['refs/heads/big'], { limits: { maxPackBytes: 64 * MiB } });
  t.equal(allowed.fetched.get('refs/heads/big'), big, 'fetched under a larger limit');
});

t.test('a repository with hundreds of branches: one push fetches one branch; the advertisement is bounded', async (t) => {
  const branches = 300;
  const f = await setup(t);
  const remote = await remoteRepo(t);
  const root = await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  // 300 branches off main, each with 16 KiB of its own random bytes (about 5 MB in all), written by fast-import.
  const chunks: Buffer[] = [];
  for (let i = 0; i < branches; i++) {
    const data = randomBytes(16 * KiB);
    chunks.push(Buffer.from(`commit refs/heads/b-${i}\ncommitter b <b@x> 1700000000 +0000\n${message(`b-${i}`)}from ${root}\nM 100644 inline blob-${i}.bin\ndata ${data.length}\n`), data, Buffer.from('\n'));
  }
  await fastImport(remote.bare, Buffer.concat(chunks));
  const heads = new Map((await git(remote.bare, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/')).split('\n').map((l) => l.split(' ') as [string, string]));
  t.equal(heads.size, branches + 1);

  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/many' });
  const one = await f.source.fetchRefs(repository, ['refs/heads/b-150']);
  t.equal(one.fetched.get('refs/heads/b-150'), heads.get('b-150'));
  t.ok(one.receivedBytes < 100 * KiB, `one branch's objects only: ${one.receivedBytes} bytes of a ~5 MB repository (the advertisement included)`);
  const reader = createGitReader(one.gitdir);
  t.ok(await reader.hasCommit(heads.get('b-150') as string));
  t.notOk(await reader.hasCommit(heads.get('b-149') as string), 'a sibling branch is not in the cache');
  t.same(await cacheRefs(one.gitdir), ['refs/remotes/origin/b-150']);

  // The advertisement is bounded by refs and by bytes, before anything is fetched.
  await t.rejects(
    f.source.fetchRefs(repository, ['refs/heads/b-1'], { limits: { maxAdvertisedRefs: 100 } }),
    new RefAdvertisementTooLargeError(remote.url, { refs: 100 }),
  );
  await t.rejects(
    f.source.fetchRefs(repository, ['refs/heads/b-1'], { limits: { maxAdvertisementBytes: 4 * KiB } }),
    /ref advertisement of http:\/\/127\.0\.0\.1:\d+\/app\.git is over 4 KiB \(limit\); nothing was fetched/,
  );
  t.same(await cacheRefs(one.gitdir), ['refs/remotes/origin/b-150'], 'nothing fetched by the refused calls');
});

t.test('a GitHub repository with hundreds of branches: the poll fetches production alone', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  const root = await remote.repo.commit('first', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const stream = Array.from({ length: 300 }, (_, i) => `commit refs/heads/b-${i}\ncommitter b <b@x> 1700000000 +0000\n${message(`b-${i}`)}from ${root}\nM 100644 inline f-${i}\n${message(String(i))}`).join('');
  await fastImport(remote.bare, stream);
  const repository = await f.repository({ url: remote.url, provider: 'github', name: 'acme/many' });
  const before = remote.server.requests.length;
  const checked = await f.source.checkRemote(repository);
  t.same(checked.sync?.ingested.map((i) => i.version.sha), [root], 'production ingested');
  t.equal(remote.packRequests(before), 1, 'one fetch, of main');
  t.equal((await refs.listRefs(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).length, 301, 'every head remembered');
  t.same(await cacheRefs(f.source.gitdirFor(repository)), ['refs/remotes/origin/main']);
});
