/** Reads of tenant data are scoped: another tenant's scope sees nothing; the CHECK constraints spell contracts' values. */
import { DRIFT_MODES, ENVIRONMENT_KINDS, ROLLOUT_RESULTS } from '@wharf/contracts';
import { environmentViews, EVERY_TENANT, history, pullRequests, repositories, sql, versions } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository } from '@wharf/testkit';
import t from 'tap';
import { specFor } from './helpers.js';

t.test("one tenant's scope never returns another tenant's rows", async (t) => {
  const db = await createTestDatabase(t);
  const mine = await seedRepository(db.pool, { tenant: 'mine' });
  const theirs = await seedRepository(db.pool, { tenant: 'theirs' });
  await seedEnvironments(db.pool, [
    { tenantId: mine.tenantId, repositoryId: mine.repositoryId, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:a', spec: specFor('shop', 'production', 'a') },
    { tenantId: theirs.tenantId, repositoryId: theirs.repositoryId, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:b', spec: specFor('shop', 'production', 'b') },
  ]);
  const sha = 'a'.repeat(40);
  await db.pool.transaction((tx) =>
    versions.insertVersion(tx, {
      tenantId: theirs.tenantId,
      repositoryId: theirs.repositoryId,
      sha,
      parentSha: null,
      ref: 'main',
      author: null,
      message: 'theirs',
      committedAt: null,
      valid: true,
      diagnostics: [],
      manifest: null,
      apps: [],
    }),
  );
  await pullRequests.upsertPullRequest(db.pool, { tenantId: theirs.tenantId, repositoryId: theirs.repositoryId }, {
    number: 1, state: 'open', title: 't', headSha: sha, headRef: 'x', baseRef: 'main', fork: false, draft: false, author: null, mergeCommitSha: null,
  });
  // The other tenant's repository id, named with my tenant id: nothing.
  const crossed = { tenantId: mine.tenantId, repositoryId: theirs.repositoryId };
  t.equal(await versions.findVersion(db.pool, crossed, sha), null);
  t.equal(await repositories.getRepository(db.pool, crossed), null);
  t.equal(await pullRequests.getPullRequest(db.pool, crossed, 1), null);
  t.same(await environmentViews.listProductionSpecs(db.pool, crossed), []);
  t.same((await environmentViews.listEnvironments(db.pool, { tenantId: mine.tenantId })).map((e) => e.desired_digest), ['sha256:a']);
  t.same(await history.listRollouts(db.pool, { tenantId: mine.tenantId }, { name: 'production' }), []);
  t.equal((await environmentViews.listEnvironments(db.pool, EVERY_TENANT)).length, 2, 'the operator sees every tenant');
  // And the right scope does see them.
  t.ok(await versions.findVersion(db.pool, theirs, sha));
});

t.test("the schema's CHECK constraints allow exactly contracts' values", async (t) => {
  const db = await createTestDatabase(t);
  const check = async (table: string, column: string) =>
    db.pool.oneFirst(sql.unsafe`
      SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
      WHERE r.relname = ${table} AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE ${`%${column}%`}`);
  const values = (def: unknown) => [...String(def).matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
  t.same(values(await check('environments', 'kind')), [...ENVIRONMENT_KINDS].sort());
  t.same(values(await check('environments', 'drift_mode')), [...DRIFT_MODES].sort());
  t.same(values(await check('environment_history', 'result')), [...ROLLOUT_RESULTS].sort());
});
