/** Claims and leases: what replicas of the reconciler rely on to never work on one environment at once. */
import { claims, desiredState, sql } from '@wharf/store';
import { getEnvironmentState, seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository, sleep } from '@wharf/testkit';
import t from 'tap';
import { specFor } from './helpers.js';

async function seed(pool: Parameters<typeof seedEnvironments>[0], names: string[]) {
  const { tenantId, repositoryId } = await seedRepository(pool);
  const ids = await seedEnvironments(
    pool,
    names.map((name) => ({ tenantId, repositoryId, app: 'shop', name, target: 'agent:edge', digest: 'sha256:v1', spec: specFor('shop', name, 'v1') })),
  );
  return { tenantId, ids };
}

t.test('two replicas claiming at once get disjoint environments, each as a snapshot', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, ids } = await seed(db.pool, Array.from({ length: 40 }, (_, i) => `pr-${i}`));
  const [a, b] = await Promise.all([
    claims.claimDueEnvironments(db.pool, { owner: 'a', leaseMs: 10_000, limit: 25 }),
    claims.claimDueEnvironments(db.pool, { owner: 'b', leaseMs: 10_000, limit: 25 }),
  ]);
  const seen = [...a, ...b].map((s) => s.identity.id);
  t.equal(seen.length, ids.length, 'every due environment claimed once');
  t.equal(new Set(seen).size, seen.length, 'none claimed by both');
  t.match(a[0], {
    identity: { tenantId, app: 'shop', kind: 'preview', target: 'agent:edge' },
    generation: 1,
    desired: { digest: 'sha256:v1', spec: { app: 'shop' } },
    observed: { generation: 0, digest: null },
    conditions: [],
    driftMode: 'correct',
    deletionRequested: false,
  });
  t.same(await claims.claimDueEnvironments(db.pool, { owner: 'c', leaseMs: 10_000, limit: 100 }), [], 'leased rows are not due');
});

t.test('suspended environments and excluded ids are not claimed; a lease that runs out makes the row due again', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, ids } = await seed(db.pool, ['a', 'b', 'c']);
  const [a = 0, b = 0, c = 0] = ids;
  await desiredState.setSuspended(db.pool, { tenantId }, a, true);
  const first = await claims.claimDueEnvironments(db.pool, { owner: 'x', leaseMs: 200, limit: 10, exclude: [b] });
  t.same(first.map((s) => s.identity.id), [c]);
  await sleep(300);
  const again = await claims.claimDueEnvironments(db.pool, { owner: 'y', leaseMs: 10_000, limit: 10 });
  t.same(again.map((s) => s.identity.id).sort(), [b, c].sort(), 'the expired lease is taken over');
  t.equal((await getEnvironmentState(db.pool, c))?.lease_owner, 'y');
});

t.test('lease renewal extends only the leases this replica still holds', async (t) => {
  const db = await createTestDatabase(t);
  const { ids } = await seed(db.pool, ['a', 'b']);
  const [a = 0, b = 0] = ids;
  await claims.claimDueEnvironments(db.pool, { owner: 'x', leaseMs: 200, limit: 1 });
  await claims.claimDueEnvironments(db.pool, { owner: 'y', leaseMs: 10_000, limit: 1 });
  const before = await getEnvironmentState(db.pool, a);
  t.same(await claims.renewLeases(db.pool, { owner: 'x', ids: [a, b], leaseMs: 5_000 }), [a], 'only its own row');
  const after = await getEnvironmentState(db.pool, a);
  t.ok(Date.parse(after?.lease_expires_at ?? '') > Date.parse(before?.lease_expires_at ?? ''), 'the lease moved on');
  t.equal((await getEnvironmentState(db.pool, b))?.lease_owner, 'y', 'the other replica keeps its lease');

  // x's lease runs out and y takes a over: x's renewal is refused and y's lease is untouched.
  await db.pool.query(sql.unsafe`UPDATE environments SET lease_expires_at = now() - interval '1 second', next_attempt_at = now() WHERE id = ${a}`);
  await claims.claimDueEnvironments(db.pool, { owner: 'y', leaseMs: 10_000, limit: 1 });
  const taken = await getEnvironmentState(db.pool, a);
  t.same(await claims.renewLeases(db.pool, { owner: 'x', ids: [a], leaseMs: 60_000 }), [], 'a lost lease is not renewed');
  t.equal((await getEnvironmentState(db.pool, a))?.lease_expires_at, taken?.lease_expires_at);
});

t.test('msUntilNextDue and requeueTargetKind: agent covers agent:<pool>', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, repositoryId } = await seedRepository(db.pool);
  const [edge = 0, local = 0] = await seedEnvironments(db.pool, [
    { tenantId, repositoryId, app: 'shop', name: 'a', target: 'agent:edge', digest: 'sha256:v1', spec: specFor('shop', 'a', 'v1'), converged: { dueInMs: 3_600_000 } },
    { tenantId, repositoryId, app: 'shop', name: 'b', target: 'local', digest: 'sha256:v1', spec: specFor('shop', 'b', 'v1'), converged: { dueInMs: 3_600_000 } },
  ]);
  t.ok(((await claims.msUntilNextDue(db.pool)) ?? 0) > 3_000_000);
  t.equal(await claims.requeueTargetKind(db.pool, 'agent', []), 1);
  t.equal(await claims.msUntilNextDue(db.pool), 0);
  t.same((await claims.claimDueEnvironments(db.pool, { owner: 'x', leaseMs: 1_000, limit: 10 })).map((s) => s.identity.id), [edge]);
  t.not(edge, local);
  await t.rejects(claims.requeueTargetKind(db.pool, "local' OR true --", []), /not a target kind/);
});
