import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createGitReader } from '../src/git/git-reader.js';
import { createObjectCacheBudget } from '../src/git/object-cache.js';
import { ObjectTooLargeError } from '../src/index.js';
import { createRepo, manifest, workflow } from '@wharf/testkit';
import { remoteRepo } from './helpers/remote-repo.js';
import { setup } from './helpers/setup.js';

const KiB = 1024;

/** `count` files in `dir` (a folder the apps do not use). */
const filler = (dir: string, count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${dir}/f${i}.txt`, `${i}\n`]));

t.test('reading a version lists only the folders its apps’ globs start in', async (t) => {
  const f = await setup(t, { readLimits: { maxTreeEntriesPerCommit: 200 } });
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  // 1,000 files the apps never use, in one folder: far over the budget of 200 entries if they were listed.
  const files = {
    'wharf.yaml': manifest([
      { name: 'shop', files: ['apps/shop/*.yaml'] },
      { name: 'one', files: ['apps/one.yaml'] },
    ]),
    'apps/shop/main.yaml': workflow(),
    'apps/one.yaml': workflow(8181),
    ...filler('vendor', 1000),
  };
  const ok = await f.source.ingest(repository, 'main', await repo.commit('big repo, small apps', files));
  t.equal(ok.version.valid, true, 'valid: the vendor folder was not listed');
  t.same(ok.validated.sort(), ['one', 'shop']);

  // An app whose globs cover the whole repository is stopped at the budget, with a diagnostic on the manifest.
  const wide = await f.source.ingest(
    repository,
    'main',
    await repo.commit('a glob over everything', {
      'wharf.yaml': manifest([
        { name: 'shop', files: ['apps/shop/*.yaml'] },
        { name: 'everything', files: ['**/*.yaml'] },
      ]),
    }),
  );
  const apps = new Map(wide.apps.map((a) => [a.app, a]));
  t.equal(apps.get('shop')?.valid, true, 'the narrow app is read');
  t.match(apps.get('everything')?.diagnostics, [
    { code: 'WHARF104', file: 'wharf.yaml', message: /App "everything": finding its files \("\*\*\/\*\.yaml"\) took this commit over 200 tree entries: narrow its globs/ },
  ]);

  // The default manifest (a root workflow.yaml) names one exact path: found without listing anything below the root.
  const bare = await createRepo(t);
  const plain = await f.repository({ url: bare.dir, name: 'plain' });
  const single = await f.source.ingest(plain, 'main', await bare.commit('one file', { 'workflow.yaml': workflow(), ...filler('docs', 1000) }));
  t.equal(single.version.valid, true);
});

t.test('one commit reads at most maxAppBytesPerCommit bytes of app files, across its apps', async (t) => {
  const f = await setup(t, { readLimits: { maxAppBytesPerCommit: 10 * KiB } });
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const padded = (port: number) => `${workflow(port)}# ${'x'.repeat(6 * KiB)}\n`;
  const { apps } = await f.source.ingest(
    repository,
    'main',
    await repo.commit('two 6 KiB apps', {
      'wharf.yaml': manifest([
        { name: 'a', files: ['a/*.yaml'] },
        { name: 'b', files: ['b/*.yaml'] },
      ]),
      'a/main.yaml': padded(8080),
      'b/main.yaml': padded(8181),
    }),
  );
  const byName = new Map(apps.map((a) => [a.app, a]));
  t.equal(byName.get('a')?.valid, true, 'the first app fits');
  t.match(byName.get('b')?.diagnostics, [{ code: 'WHARF101', file: 'b/main.yaml', message: /would take this commit's app files over 10240 bytes in all/ }]);
});

t.test('commit and tree objects over their limits are refused unread, with the reason', async (t) => {
  const f = await setup(t, { readLimits: { maxCommitBytes: 4 * KiB, maxTreeBytes: 2 * KiB } });
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  await repo.write({ 'wharf.yaml': manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]), 'apps/shop/main.yaml': workflow() });
  await repo.git('add', '-A');
  await repo.git('commit', '-q', '-m', `huge message\n\n${'y'.repeat(10 * KiB)}`);
  const huge = await repo.head();
  await t.rejects(f.source.ingest(repository, 'main', huge), ObjectTooLargeError);
  await t.rejects(f.source.ingest(repository, 'main', huge), /commit [0-9a-f]{12} is \d+ bytes, over the limit of 4096: it was not read/);

  // A folder with 200 entries (about 8 KiB of tree) in the app's path: said against the manifest, nothing crashes.
  const wide = await repo.commit('wide folder', filler('apps/shop', 200));
  const { apps, version } = await f.source.ingest(repository, 'main', wide);
  t.equal(version.valid, false);
  t.match(apps[0]?.diagnostics, [{ code: 'WHARF104', message: /met a folder of \d+ bytes of entries, over the limit of 2048/ }]);
});

t.test('readers keep what they parse of packs within one budget, over many fetches', async (t) => {
  const f = await setup(t);
  const remote = await remoteRepo(t);
  await remote.repo.commit('first', { 'wharf.yaml': manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]), 'apps/shop/main.yaml': workflow() });
  await remote.push();
  const repository = await f.repository({ url: remote.url, provider: 'git', name: 'acme/app' });
  const gitdir = (await f.source.fetchRefs(repository, ['refs/heads/main'])).gitdir;

  const maxBytes = 256 * KiB;
  const bounded = createObjectCacheBudget({ maxBytes });
  const unbounded = createObjectCacheBudget({ maxBytes: Number.POSITIVE_INFINITY });
  const reader = createGitReader(gitdir, { cache: bounded.register() });
  const other = createGitReader(gitdir, { cache: bounded.register() });
  const baseline = createGitReader(gitdir, { cache: unbounded.register() });
  const blobs: { oid: string; data: Buffer }[] = [];
  let peak = 0;
  // 20 pushes of 64 KiB each, each fetched into a pack of its own; after each, every blob so far is read again, by two
  // readers in turn (as two repositories would be), each read one operation followed by a trim.
  for (let i = 0; i < 20; i++) {
    const data = randomBytes(32 * KiB).toString('hex').slice(0, 64 * KiB);
    await remote.repo.commit(`push ${i}`, { [`data/${i}.txt`]: data });
    await remote.push();
    await f.source.fetchRefs(repository, ['refs/heads/main']);
    blobs.push({ oid: await remote.repo.git('rev-parse', `HEAD:data/${i}.txt`), data: Buffer.from(data) });
    for (const [n, blob] of blobs.entries()) {
      const r = n % 2 === 0 ? reader : other;
      const read = await r.readText(blob.oid, 1024 * KiB);
      if (read.kind !== 'text' || read.content !== blob.data.toString()) t.fail(`blob ${n} read back wrong`);
      await baseline.readText(blob.oid, 1024 * KiB);
      bounded.trim();
      peak = Math.max(peak, bounded.stats().heldBytes);
    }
  }
  t.ok(peak <= maxBytes, `held at most ${peak} bytes between operations (budget ${maxBytes})`);
  t.ok(bounded.stats().drops > 0, 'caches were dropped to stay within it');
  t.ok(unbounded.stats().heldBytes > 3 * maxBytes, `without a budget one reader holds ${unbounded.stats().heldBytes} bytes and growing`);

  // Within one operation a reader keeps what it loaded, even past the budget: no pack is loaded twice for it.
  const tiny = createObjectCacheBudget({ maxBytes: 1024 });
  const single = createGitReader(gitdir, { cache: tiny.register() });
  for (const blob of [...blobs, ...blobs]) await single.readText(blob.oid, 1024 * KiB);
  const held = tiny.stats().heldBytes;
  t.equal(tiny.stats().drops, 0, 'not dropped in the middle of an operation');
  t.ok(held > 20 * 32 * KiB && held < 2 * unbounded.stats().heldBytes, `each pack loaded once (${held} bytes)`);
  tiny.trim();
  t.equal(tiny.stats().heldBytes, 0, 'and given back when the operation ends');
});
