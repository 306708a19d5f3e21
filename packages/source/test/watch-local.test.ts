import { desiredState, refs } from '@wharf/store';
import t from 'tap';
import { createRepo, manifest, workflow } from '@wharf/testkit';
import { type Fixture, setup } from './helpers/setup.js';

const shop = manifest([{ name: 'shop', files: ['apps/shop/*.yaml'] }]);

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const envs = (f: Fixture, repositoryId: number) => desiredState.listRepositoryEnvironments(f.db.pool, { tenantId: f.tenantId, repositoryId: repositoryId });

t.test('a working copy is watched live: commits, new branches, pack-refs and branch deletion', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  await repo.commit('init', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  const repository = await f.repository({ url: repo.dir });
  const watcher = await f.source.watchLocalRepository({ repository, path: repo.dir, debounceMs: 20 });
  t.teardown(() => watcher.close());
  t.equal((await envs(f, repository.id)).length, 1, 'the first sync runs at start');

  const sha = await repo.commit('port', { 'apps/shop/main.yaml': workflow(9090) });
  const prod = await eventually('production to follow the commit', async () =>
    (await envs(f, repository.id)).find((e) => e.name === 'production' && e.desired_spec?.version.sha === sha),
  );
  t.equal(prod.generation, 2);

  await repo.git('checkout', '-q', '-b', 'feature/x');
  const preview = await eventually('a preview for the new branch', async () =>
    (await envs(f, repository.id)).find((e) => e.branch === 'feature/x'),
  );
  t.equal(preview.kind, 'preview');

  await repo.git('pack-refs', '--all');
  await new Promise((r) => setTimeout(r, 300));
  await watcher.idle();
  t.notOk((await envs(f, repository.id)).some((e) => e.deletion_requested_at), 'pack-refs deletes ref files but no branch');

  const onBranch = await repo.commit('on feature', { 'apps/shop/main.yaml': workflow(7000) });
  await eventually('the preview to follow', async () =>
    (await envs(f, repository.id)).find((e) => e.branch === 'feature/x' && e.desired_spec?.version.sha === onBranch),
  );

  await repo.git('checkout', '-q', 'main');
  await repo.git('branch', '-D', 'feature/x');
  const torn = await eventually('the preview to be torn down', async () =>
    (await envs(f, repository.id)).find((e) => e.branch === 'feature/x' && e.deletion_requested_at),
  );
  t.ok(torn);
  await watcher.idle();
  t.equal((await refs.listRefs(f.db.pool, { tenantId: f.tenantId, repositoryId: repository.id })).length, 1, 'only main is left');
  t.notOk((await envs(f, repository.id)).find((e) => e.name === 'production')?.deletion_requested_at);
});

t.test('a burst of commits is debounced and ends on the last head', async (t) => {
  const f = await setup(t);
  const repo = await createRepo(t);
  await repo.commit('init', { 'wharf.yaml': shop, 'apps/shop/main.yaml': workflow() });
  const repository = await f.repository({ url: repo.dir });
  const watcher = await f.source.watchLocalRepository({ repository, path: repo.dir, debounceMs: 20 });
  t.teardown(() => watcher.close());
  let last = '';
  for (let i = 0; i < 10; i++) last = await repo.commit(`c${i}`, { 'apps/shop/main.yaml': workflow(8000 + i) });
  await eventually('the last head', async () =>
    (await envs(f, repository.id)).find((e) => e.name === 'production' && e.desired_spec?.version.sha === last),
  );
  await watcher.idle();
  const prod = (await envs(f, repository.id)).find((e) => e.name === 'production');
  t.equal(prod?.desired_spec?.version.sha, last);
  t.ok((prod?.generation ?? 0) <= 11, 'no more generations than commits');
});
