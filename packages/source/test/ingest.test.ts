import { randomBytes } from 'node:crypto';
import { sql, versions } from '@wharf/store';
import t from 'tap';
import { createRepo, manifest, workflow, workflowReformatted } from '@wharf/testkit';
import { setup } from './helpers/setup.js';

const shopOnly = manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]);

t.test('a commit becomes one version with a sha256 digest and the spec to deploy; the same sha twice or at once gives one row', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const sha = await repo.commit('first', { 'wharf.yaml': shopOnly, 'apps/shop/main.yaml': workflow() });
  const repository = await f.repository({ url: repo.dir });

  const [a, b, c] = await Promise.all([
    f.source.ingest(repository, 'main', sha),
    f.source.ingest(repository, 'main', sha),
    f.source.ingest(repository, 'main', sha),
  ]);
  const again = await f.source.ingest(repository, 'main', sha);
  const rows = await f.db.pool.anyFirst(sql.unsafe`SELECT id FROM versions WHERE sha = ${sha}`);
  t.equal(rows.length, 1, 'one version row');
  t.same(new Set([a.version.id, b.version.id, c.version.id, again.version.id]), new Set([rows[0]]), 'every caller gets that row');
  t.equal([a, b, c].filter((r) => r.created).length, 1, 'exactly one caller created it');
  t.equal(again.created, false);

  const v = again.version;
  t.equal(v.valid, true);
  t.equal(v.parent_sha, null);
  t.equal(v.author, 'Ada <ada@example.com>');
  t.match(v.message, /^first/);
  const [app] = again.apps;
  t.equal(app.app, 'shop');
  t.match(app.digest, /^sha256:[0-9a-f]{64}$/);
  t.same(app.spec?.files, [{ path: 'apps/shop/main.yaml', content: workflow() }], 'the spec carries the file as committed');
  t.same(app.spec?.version, { sha, digest: app.digest });
  t.equal(app.spec?.replicas, 1);
});

t.test('comments, whitespace, quoting and key order do not change the digest; a value does', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const s1 = await repo.commit('one', { 'wharf.yaml': shopOnly, 'apps/shop/main.yaml': workflow(8080) });
  const s2 = await repo.commit('reformat', { 'apps/shop/main.yaml': workflowReformatted(8080) });
  const s3 = await repo.commit('port', { 'apps/shop/main.yaml': workflowReformatted(9090) });
  const s4 = await repo.commit('replicas', {
    'wharf.yaml': `${shopOnly}    replicas: 2\n`,
  });
  const d = async (sha: string) => (await f.source.ingest(repository, 'main', sha)).apps[0].digest;
  const [d1, d2, d3, d4] = [await d(s1), await d(s2), await d(s3), await d(s4)];
  t.equal(d2, d1, 'reformatting keeps the digest');
  t.not(d3, d1, 'a changed value changes it');
  t.not(d4, d3, 'a changed runtime setting (replicas) changes it');
});

t.test('a commit touching one app of three reads and validates only that app; the others carry digest and spec forward', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const apps = ['a', 'b', 'c'].map((n) => ({ name: n, files: [`apps/${n}/*.yaml`] }));
  const s1 = await repo.commit('three apps', {
    'wharf.yaml': manifest(apps),
    'apps/a/main.yaml': workflow(1),
    'apps/b/main.yaml': workflow(2),
    'apps/c/main.yaml': workflow(3),
  });
  const first = await f.source.ingest(repository, 'main', s1);
  t.same(first.validated.sort(), ['a', 'b', 'c'], 'the first version reads every app');
  const s2 = await repo.commit('touch b', { 'apps/b/main.yaml': workflow(22), 'README.md': 'hello' });
  const second = await f.source.ingest(repository, 'main', s2);
  t.same(second.validated, ['b'], 'only b was read and validated');
  const byApp = (r: typeof first) => new Map(r.apps.map((a) => [a.app, a]));
  const before = byApp(first);
  const after = byApp(second);
  t.equal(after.get('a')?.digest, before.get('a')?.digest);
  t.equal(after.get('a')?.carried_from_version_id, first.version.id, 'a says where its digest came from');
  t.same(after.get('a')?.spec, before.get('a')?.spec, 'a keeps its spec');
  t.equal(after.get('b')?.carried_from_version_id, null);
  t.not(after.get('b')?.digest, before.get('b')?.digest);

  const s3 = await repo.commit('add a file matching c', { 'apps/c/extra.yaml': 'workflows: {}\n' });
  const third = await f.source.ingest(repository, 'main', s3);
  t.same(third.validated, ['c'], 'a new file matched by a glob counts as a change of that app');
  t.equal(byApp(third).get('a')?.carried_from_version_id, first.version.id, 'carried from the version that produced it');
});

t.test('revert commits, reverts of reverts and hand edits back to old content are recognised as rollbacks', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });
  const ingest = async (sha: string) => f.source.ingest(repository, 'main', sha);
  const a = await ingest(await repo.commit('Serve on 8080', { 'wharf.yaml': shopOnly, 'apps/shop/main.yaml': workflow(8080) }));
  const b = await ingest(await repo.commit('Move to 9090', { 'apps/shop/main.yaml': workflow(9090) }));
  const readme = await ingest(await repo.commit('Docs', { 'README.md': 'docs' }));
  await repo.git('revert', '--no-edit', b.version.sha);
  const c = await ingest(await repo.head());
  t.equal(c.apps[0].digest, a.apps[0].digest);
  t.equal(c.apps[0].rollback_of_version_id, a.version.id, 'git revert: a rollback to the version with that digest');
  t.equal(
    await versions.describeRollback(f.db.pool, { tenantId: f.tenantId }, c.version.id, 'shop'),
    `rollback to ${a.version.sha.slice(0, 7)} (Serve on 8080)`,
    'history text names the short sha and subject',
  );
  t.equal(b.apps[0].rollback_of_version_id, null, 'a new digest is no rollback');
  t.equal(readme.apps[0].rollback_of_version_id, null, 'a carried digest is no rollback');

  await repo.git('revert', '--no-edit', 'HEAD');
  const d = await ingest(await repo.head());
  t.equal(d.apps[0].digest, b.apps[0].digest);
  t.equal(
    d.apps[0].rollback_of_version_id,
    readme.version.id,
    'reverting the revert rolls back to the latest version with that content (Docs carried b forward)',
  );

  const e = await ingest(await repo.commit('hand edit', { 'apps/shop/main.yaml': workflowReformatted(8080) }));
  t.equal(e.apps[0].rollback_of_version_id, c.version.id, 'a hand edit back to old content (reformatted) is a rollback too');
  t.equal(await versions.describeRollback(f.db.pool, { tenantId: f.tenantId }, e.version.id, 'shop'), `rollback to ${c.version.sha.slice(0, 7)} (Revert "Move to 9090")`);

  // The same content on an unrelated branch is not in this commit's history: no rollback.
  await repo.git('checkout', '-q', '--orphan', 'other');
  await repo.git('rm', '-rq', '--cached', '.');
  const o1 = await ingest(await repo.commit('other 1', { 'wharf.yaml': shopOnly, 'apps/shop/main.yaml': workflow(7000) }));
  const o2 = await ingest(await repo.commit('other 2', { 'apps/shop/main.yaml': workflow(8080) }));
  t.equal(o1.apps[0].rollback_of_version_id, null);
  t.equal(o2.apps[0].rollback_of_version_id, null, 'an equal digest from another history is not a rollback');
});

t.test('bad input becomes diagnostics on the version', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  const repository = await f.repository({ url: repo.dir });

  const none = await f.source.ingest(repository, 'main', await repo.commit('no manifest', { 'README.md': 'hi' }));
  t.equal(none.version.valid, false);
  t.match(none.version.diagnostics, [{ code: 'WHARF143', file: 'wharf.yaml', message: /no wharf\.yaml/ }], 'no manifest nor default config');
  t.same(none.apps, []);

  const dflt = await f.source.ingest(repository, 'main', await repo.commit('default', { 'workflow.yaml': workflow() }));
  t.equal(dflt.version.valid, true, 'a root workflow.yaml is an app without a manifest');
  t.same(dflt.apps.map((a) => a.app), ['app']);

  const big = `${workflow()}# ${'x'.repeat(1_048_576)}\n`;
  const files = {
    'wharf.yaml': manifest([
      { name: 'big', files: ['big/*.yaml'] },
      { name: 'bin', files: ['bin/*.yaml'] },
      { name: 'latin', files: ['latin/*.yaml'] },
      { name: 'broken', files: ['broken/*.yaml'] },
      { name: 'good', files: ['good/*.yaml'] },
    ]),
    'big/main.yaml': big,
    'bin/main.yaml': new Uint8Array([0x6d, 0x6f, 0x00, 0x01, 0x02, 0xff]),
    'latin/main.yaml': Buffer.from('modules:\n  - name: caf\xe9\n', 'latin1'),
    'broken/main.yaml': 'modules:\n  - name: x\n    type: [oops\n',
    'good/main.yaml': workflow(),
  };
  const bad = await f.source.ingest(repository, 'main', await repo.commit('bad files', files));
  const app = new Map(bad.apps.map((a) => [a.app, a]));
  t.equal(bad.version.valid, false);
  t.match(app.get('big'), { valid: false, diagnostics: [{ code: 'WHARF101', file: 'big/main.yaml', message: /over the limit/ }] });
  t.match(app.get('bin'), { valid: false, diagnostics: [{ code: 'WHARF150', message: /binary/ }] });
  t.match(app.get('latin'), { valid: false, diagnostics: [{ code: 'WHARF150', message: /UTF-8/ }] });
  t.match(app.get('broken'), { valid: false, diagnostics: [{ file: 'broken/main.yaml', line: Number, column: Number, severity: 'error' }] });
  t.ok(app.get('broken')?.diagnostics[0].line > 1, 'syntax errors point at their line');
  t.equal(app.get('good')?.valid, true, 'one broken app does not spoil the others');
  t.equal(app.get('big')?.spec, null, 'an invalid app has no spec to deploy');

  const many: Record<string, string> = {
    'wharf.yaml': manifest([
      { name: 'many', files: ['many/*.yaml'] },
      { name: 'none', files: ['nothing/*.yaml'] },
    ]),
  };
  for (let i = 0; i < 65; i++) many[`many/f${i}.yaml`] = workflow(1000 + i);
  const counted = await f.source.ingest(repository, 'main', await repo.commit('too many files', many));
  const byName = new Map(counted.apps.map((a) => [a.app, a]));
  t.match(byName.get('many')?.diagnostics, [{ code: 'WHARF104', file: 'wharf.yaml', message: /65 files/ }], 'too many files per app');
  t.match(byName.get('none')?.diagnostics, [{ code: 'WHARF142', file: 'wharf.yaml' }], 'globs matching nothing');

  // Packed objects (after gc) are sized from the pack without inflating them.
  await repo.git('gc', '-q', '--aggressive');
  const repacked = await f.repository({ url: repo.dir, name: 'repacked' });
  const again = await f.source.ingest(repacked, 'main', bad.version.sha);
  t.match(new Map(again.apps.map((a) => [a.app, a])).get('big'), { diagnostics: [{ code: 'WHARF101' }] }, 'same answer from a pack');
});

t.test('a blob is refused by its size, whether loose, packed whole or packed as a delta', async (t) => {
  const { createGitReader } = await import('../src/git/git-reader.js');
  const repo = await createRepo(t);
  const base = randomBytes(700_000).toString('hex'); // 1.4 MB of text
  const s1 = await repo.commit('big', { 'big.yaml': base });
  const s2 = await repo.commit('big edit', { 'big.yaml': `${base}x` });
  const small = await repo.commit('small', { 'small.yaml': 'a: 1\n' });
  const blob = async (sha: string, p: string) => repo.git('rev-parse', `${sha}:${p}`);
  const check = async (label: string) => {
    const reader = createGitReader(`${repo.dir}/.git`);
    t.match(await reader.readText(await blob(s1, 'big.yaml'), 1_048_576), { kind: 'too-large', size: 1_400_000 }, `${label}: whole`);
    t.match(await reader.readText(await blob(s2, 'big.yaml'), 1_048_576), { kind: 'too-large', size: 1_400_001 }, `${label}: edited`);
    t.match(await reader.readText(await blob(small, 'small.yaml'), 1_048_576), { kind: 'text', content: 'a: 1\n' }, `${label}: small`);
  };
  await check('loose');
  await repo.git('gc', '-q', '--aggressive');
  await check('packed');
});
