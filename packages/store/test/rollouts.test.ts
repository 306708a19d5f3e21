/** Rollout recording is fenced by the lease: a replica that lost its lease writes nothing, a retry nothing twice. */
import { type Condition, REASONS, type StatusUpdate } from '@wharf/contracts';
import { claims, history, outbox, rollouts, sql } from '@wharf/store';
import { getEnvironmentState, seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository } from '@wharf/testkit';
import t from 'tap';
import { specFor } from './helpers.js';

const at = '2026-11-22T03:00:00.000Z';
const ready: Condition = { type: 'Ready', status: 'True', reason: REASONS.RolloutSucceeded, message: 'deployed', lastTransitionTime: at };

async function claimed(t: Parameters<typeof createTestDatabase>[0]) {
  const db = await createTestDatabase(t);
  const { tenantId, repositoryId } = await seedRepository(db.pool);
  const [id = 0] = await seedEnvironments(db.pool, [{ tenantId, repositoryId, app: 'shop', name: 'prod', target: 'local', digest: 'sha256:v1', spec: specFor('shop', 'prod', 'v1') }]);
  await claims.claimDueEnvironments(db.pool, { owner: 'a', leaseMs: 10_000, limit: 1 });
  return { db, tenantId, id };
}

const succeeded = (id: number): StatusUpdate => ({
  id,
  generation: 1,
  nextAttemptInMs: 60_000,
  conditions: [ready],
  observed: { generation: 1, digest: 'sha256:v1', versionId: null },
  url: 'http://prod--shop.localhost/',
  failureCount: 0,
  history: { result: 'succeeded', reason: REASONS.RolloutSucceeded, message: 'deployed' },
  outbox: [{ kind: 'deployment_status', state: 'success', payload: { app: 'shop' } }],
  start: {
    id,
    generation: 1,
    versionId: null,
    digest: 'sha256:v1',
    action: 'create',
    reason: 'NewEnvironment',
    message: 'deploy v1',
    rollbackOfVersionId: null,
    conditions: [],
    outbox: [{ kind: 'deployment_status', state: 'in_progress', payload: { app: 'shop' } }],
  },
});

t.test('the lease holder writes status, history and outbox in one go and releases the lease', async (t) => {
  const { db, tenantId, id } = await claimed(t);
  t.same(await rollouts.recordOutcomes(db.pool, 'a', [succeeded(id)]), [id]);
  const row = await getEnvironmentState(db.pool, id);
  t.match(row, { observed_generation: 1, observed_digest: 'sha256:v1', url: 'http://prod--shop.localhost/', lease_owner: null });
  t.match(row?.conditions, [{ type: 'Ready', status: 'True' }]);
  t.match(await history.listHistory(db.pool, { tenantId }, id), [{ result: 'succeeded', action: 'create', reason: 'RolloutSucceeded' }]);
  t.same((await outbox.listOutboxForEnvironment(db.pool, { tenantId }, id)).map((o) => o.payload.state ?? o.kind), ['deployment_status', 'deployment_status']);

  // The same write again (a retry after a lost reply): the lease is released, so nothing is written twice.
  t.same(await rollouts.recordOutcomes(db.pool, 'a', [succeeded(id)]), [], 'a retried write writes nothing');
  t.equal((await history.listHistory(db.pool, { tenantId }, id)).length, 1);
  t.equal((await outbox.listOutboxForEnvironment(db.pool, { tenantId }, id)).length, 2);
});

t.test('a write with a lost lease is refused: nothing of it lands', async (t) => {
  const { db, tenantId, id } = await claimed(t);
  // a's lease runs out; b claims the environment.
  await db.pool.query(sql.unsafe`UPDATE environments SET lease_expires_at = now() - interval '1 second', next_attempt_at = now() WHERE id = ${id}`);
  t.equal((await claims.claimDueEnvironments(db.pool, { owner: 'b', leaseMs: 10_000, limit: 1 })).length, 1);

  t.same(await rollouts.recordOutcomes(db.pool, 'a', [succeeded(id)]), [], 'the outcome of the lost lease is refused');
  const started = await rollouts.recordRolloutStarts(db.pool, 'a', [succeeded(id).start!]);
  t.equal(started.size, 0, 'so is a rollout start');
  const row = await getEnvironmentState(db.pool, id);
  t.match(row, { observed_generation: 0, observed_digest: null, url: null, lease_owner: 'b' });
  t.same(row?.conditions, []);
  t.same(await history.listHistory(db.pool, { tenantId }, id), []);
  t.same(await outbox.listOutboxForEnvironment(db.pool, { tenantId }, id), []);

  t.same(await rollouts.recordOutcomes(db.pool, 'b', [succeeded(id)]), [id], 'the holder still writes');
});

t.test('a retried rollout reuses its open history row; a newer generation supersedes it', async (t) => {
  const { db, tenantId, id } = await claimed(t);
  const start = succeeded(id).start!;
  const first = await rollouts.recordRolloutStarts(db.pool, 'a', [start]);
  t.same([...(await rollouts.recordRolloutStarts(db.pool, 'a', [start])).values()], [...first.values()], 'same row for the same generation');
  await rollouts.recordRolloutStarts(db.pool, 'a', [{ ...start, generation: 2 }]);
  t.same((await history.listHistory(db.pool, { tenantId }, id)).map((h) => [h.generation, h.result, h.reason]), [
    [2, 'in_progress', 'NewEnvironment'],
    [1, 'superseded', 'Superseded'],
  ]);
});

t.test('the InvalidVersion condition of the source survives a reconciler write', async (t) => {
  const { db, id } = await claimed(t);
  const invalid: Condition = { type: 'Stalled', status: 'True', reason: REASONS.InvalidVersion, message: 'bad', lastTransitionTime: at };
  await db.pool.query(sql.unsafe`UPDATE environments SET conditions = ${sql.jsonb([invalid] as never)} WHERE id = ${id}`);
  const notStalled: Condition = { type: 'Stalled', status: 'False', reason: REASONS.RolloutSucceeded, message: '', lastTransitionTime: at };
  await rollouts.recordOutcomes(db.pool, 'a', [{ id, generation: 1, nextAttemptInMs: 1_000, conditions: [ready, notStalled] }]);
  t.same((await getEnvironmentState(db.pool, id))?.conditions, [ready, invalid]);
  t.same(rollouts.mergeConditions([invalid], [notStalled]), [invalid]);
});
