import { type Condition, REASONS, type Target } from '@wharf/contracts';
import { claims, desiredState, rollouts, sql, versions } from '@wharf/store';
import { countUnconverged, getEnvironmentState, seedEnvironments, setDesiredForTest } from '@wharf/store/testing';
import { createMemoryTarget, createTestDatabase } from '@wharf/testkit';
import { Registry } from 'prom-client';
import t from 'tap';
import { createReconciler, type ReconcilerOptions } from '../src/index.js';
import { cond, historyOf, outboxOf, registryOf, seedEnvs, silentLog, specFor, waitFor } from './helpers.js';

const make = async (o: Partial<Omit<ReconcilerOptions, 'targets'>> & Pick<ReconcilerOptions, 'pool'> & { targets: Record<string, Target> }) =>
  createReconciler({ log: silentLog, leaseTtlMs: 10_000, resyncMs: 60_000, ...o, targets: await registryOf(o.targets) });

t.test('converges new environments: status, history, outbox, resync scheduled', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const registry = new Registry();
  const rec = await make({ pool: db.pool, targets: { memory: target }, registry });
  const { ids } = await seedEnvs(db.pool, ['prod', 'pr-1', 'pr-2']);
  t.equal(await rec.reconcileOnce(), 3);
  for (const id of ids) {
    const env = await getEnvironmentState(db.pool, id);
    t.equal(env?.observed_generation, env?.generation);
    t.equal(env?.observed_digest, 'sha256:v1');
    t.match(cond(env?.conditions ?? [], 'Ready'), { status: 'True', reason: 'RolloutSucceeded' });
    t.match(cond(env?.conditions ?? [], 'Progressing'), { status: 'False' });
    t.match(env?.url, /^memory:\/\/shop\//);
    t.equal(env?.lease_owner, null);
    t.ok((env?.next_in_ms ?? 0) > 60_000 * 0.74 && (env?.next_in_ms ?? 0) <= 60_000, 'next observation within the resync period');
    const h = await historyOf(db.pool, id);
    t.equal(h.length, 1);
    t.match(h[0], { result: 'succeeded', action: 'create', digest: 'sha256:v1' });
    t.ok(h[0]?.finished_at);
    const out = await outboxOf(db.pool, id);
    t.same(out.map((o) => o.payload.state), ['in_progress', 'success']);
    t.match(out[1]?.payload, { app: 'shop', url: /^memory:/, digest: 'sha256:v1' });
  }
  t.equal(await rec.reconcileOnce(), 0, 'nothing due until resync');
  t.match(await registry.metrics(), /wharf_reconcile_total\{result="success"\} 3/);

  await setDesiredForTest(db.pool, { ids: [ids[0] ?? 0], digest: 'sha256:v2', spec: specFor('shop', 'prod', 'v2') });
  t.equal(await rec.reconcileOnce(), 1);
  const env = await getEnvironmentState(db.pool, ids[0] ?? 0);
  t.equal(env?.observed_digest, 'sha256:v2');
  t.equal(target.applies.get(`${ids[0]}:2`), 1, 'applied once for generation 2');
  const h = await historyOf(db.pool, ids[0] ?? 0);
  t.same(h.map((r) => [r.generation, r.action, r.result]), [[2, 'update', 'succeeded'], [1, 'create', 'succeeded']]);
});

t.test('a failure backs off, keeps one history row, and recovers to Ready saying so', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target } });
  const { ids } = await seedEnvs(db.pool, ['prod']);
  const id = ids[0] ?? 0;
  target.setFault(id, { kind: 'throw', error: () => new Error('disk full') });
  await rec.reconcileOnce();
  let env = await getEnvironmentState(db.pool, id);
  t.match(cond(env?.conditions ?? [], 'Degraded'), { status: 'True', reason: 'ApplyFailed', message: 'disk full' });
  t.match(cond(env?.conditions ?? [], 'Ready'), { status: 'False' });
  t.equal(env?.failure_count, 1);
  t.ok((env?.next_in_ms ?? 0) > 500 && (env?.next_in_ms ?? 0) <= 1_200, 'first retry after about 1 s');
  t.equal(await rec.reconcileOnce(), 0, 'not retried before the backoff');
  await waitFor('second attempt', async () => (await rec.reconcileOnce()) === 1);
  env = await getEnvironmentState(db.pool, id);
  t.equal(env?.failure_count, 2);
  t.ok((env?.next_in_ms ?? 0) > 1_000 && (env?.next_in_ms ?? 0) <= 2_400, 'second retry after about 2 s');
  target.setFault(id, null);
  await waitFor('recovery', async () => (await rec.reconcileOnce()) === 1);
  env = await getEnvironmentState(db.pool, id);
  t.match(cond(env?.conditions ?? [], 'Ready'), { status: 'True', reason: 'Recovered' });
  t.match(cond(env?.conditions ?? [], 'Degraded'), { status: 'False' });
  t.equal(env?.failure_count, 0, 'backoff reset on success');
  const h = await historyOf(db.pool, id);
  t.same(h.map((r) => r.result), ['succeeded'], 'one history row for the rollout');
  const states = (await outboxOf(db.pool, id)).map((o) => o.payload.state);
  t.same(states, ['in_progress', 'failure', 'success'], 'the failure status is kept, then the recovery');
});

t.test('stalled waits for a new desired state; waiting requeues soon', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target } });
  const { ids } = await seedEnvs(db.pool, ['a']);
  const { ids: nowhere } = await seedEnvs(db.pool, ['b'], { target: 'nowhere' });
  target.setFault(ids[0] ?? 0, { kind: 'progressing', times: 2 });
  await rec.reconcileOnce();
  const stalled = await getEnvironmentState(db.pool, nowhere[0] ?? 0);
  t.match(cond(stalled?.conditions ?? [], 'Stalled'), { status: 'True', reason: 'UnknownTarget' });
  t.equal(stalled?.next_in_ms, null, 'not retried until desired changes');
  const waiting = await getEnvironmentState(db.pool, ids[0] ?? 0);
  t.match(cond(waiting?.conditions ?? [], 'Progressing'), { status: 'True', reason: 'Progressing', message: 'starting' });
  t.equal(waiting?.failure_count, 0, 'waiting is not a failure');
  await waitFor('ready after waiting', async () => {
    await rec.reconcileOnce();
    const e = await getEnvironmentState(db.pool, ids[0] ?? 0);
    return cond(e?.conditions ?? [], 'Ready')?.status === 'True';
  });
  t.equal((await historyOf(db.pool, ids[0] ?? 0)).length, 1);
});

t.test('apply timeout: Degraded with ApplyTimeout, the loop goes on', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target }, applyTimeoutMs: 200 });
  const { ids } = await seedEnvs(db.pool, ['hangs', 'fine']);
  target.setFault(ids[0] ?? 0, { kind: 'hang' });
  t.equal(await rec.reconcileOnce(), 2);
  const hung = await getEnvironmentState(db.pool, ids[0] ?? 0);
  t.match(cond(hung?.conditions ?? [], 'Degraded'), { status: 'True', reason: 'ApplyTimeout' });
  const fine = await getEnvironmentState(db.pool, ids[1] ?? 0);
  t.match(cond(fine?.conditions ?? [], 'Ready'), { status: 'True' }, 'one hanging environment does not hold up the rest');
});

t.test('drift: corrected and counted; in warn mode only reported', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const registry = new Registry();
  const rec = await make({ pool: db.pool, targets: { memory: target }, registry, resyncMs: 200 });
  const { ids } = await seedEnvs(db.pool, ['correct', 'warn']);
  await db.pool.query(sql.unsafe`UPDATE environments SET drift_mode = 'warn' WHERE id = ${ids[1] ?? 0}`);
  await rec.reconcileOnce();
  target.kill(ids[0] ?? 0);
  target.setRunning(ids[1] ?? 0, 'sha256:other');
  await waitFor('resync', async () => {
    await rec.reconcileOnce();
    const e = await getEnvironmentState(db.pool, ids[0] ?? 0);
    return cond(e?.conditions ?? [], 'Ready')?.reason === 'DriftCorrected';
  });
  t.equal(target.running.get(ids[0] ?? 0)?.digest, 'sha256:v1', 'runtime back');
  await waitFor('warn resync', async () => {
    await rec.reconcileOnce();
    const e = await getEnvironmentState(db.pool, ids[1] ?? 0);
    return cond(e?.conditions ?? [], 'Degraded')?.reason === 'DriftDetected';
  });
  t.equal(target.running.get(ids[1] ?? 0)?.digest, 'sha256:other', 'warn mode leaves the drift alone');
  t.match(await registry.metrics(), /wharf_drift_corrections_total 1/);
  const h = await historyOf(db.pool, ids[0] ?? 0);
  t.match(h[0], { action: 'create', reason: 'DriftCorrected', result: 'succeeded' });
});

t.test('teardown keeps the row until the target confirms, then deletes it', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target } });
  const { ids, tenantId } = await seedEnvs(db.pool, ['pr-9']);
  const id = ids[0] ?? 0;
  await rec.reconcileOnce();
  target.setFault(id, null);
  await desiredState.requestDeletion(db.pool, { tenantId }, id);
  t.equal(await rec.reconcileOnce(), 1);
  t.equal(await getEnvironmentState(db.pool, id), null, 'row deleted');
  t.equal(target.deletes.get(id), 1);
  t.equal(target.running.has(id), false);
  const inactive = await db.pool.any(sql.unsafe`SELECT payload->>'state' AS state, environment_id FROM outbox WHERE payload->>'state' = 'inactive'`);
  t.same(inactive, [{ state: 'inactive', environment_id: null }]);
});

t.test('suspend and resume', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target } });
  const { ids, tenantId } = await seedEnvs(db.pool, ['prod']);
  const id = ids[0] ?? 0;
  t.ok(await desiredState.setSuspended(db.pool, { tenantId }, id, true));
  t.equal(await rec.reconcileOnce(), 0, 'a suspended environment is not claimed');
  t.equal(target.applies.size, 0);
  t.ok(await desiredState.setSuspended(db.pool, { tenantId }, id, false));
  t.equal(await rec.reconcileOnce(), 1, 'resumed: due at once');
  t.equal(target.running.get(id)?.digest, 'sha256:v1');
});

t.test('the InvalidVersion condition of packages/source is never overwritten or cleared', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target } });
  const { ids, tenantId } = await seedEnvs(db.pool, ['prod']);
  const id = ids[0] ?? 0;
  const invalid: Condition = { type: 'Stalled', status: 'True', reason: REASONS.InvalidVersion, message: 'app.yaml:3: unknown module type', lastTransitionTime: new Date().toISOString() };
  await desiredState.writeConditions(db.pool, { tenantId }, id, [invalid]);
  await rec.reconcileOnce();
  const env = await getEnvironmentState(db.pool, id);
  t.match(cond(env?.conditions ?? [], 'Stalled'), { status: 'True', reason: 'InvalidVersion', message: invalid.message });
  t.match(cond(env?.conditions ?? [], 'Ready'), { status: 'True' }, 'the last good version is running');
});

t.test('two replicas claiming at once never both apply', async (t) => {
  const db = await createTestDatabase(t);
  const a = createMemoryTarget({ applyMs: 2 });
  const b = createMemoryTarget({ applyMs: 2 });
  const ra = await make({ pool: db.pool, targets: { memory: a }, replicaId: 'a', batchSize: 50 });
  const rb = await make({ pool: db.pool, targets: { memory: b }, replicaId: 'b', batchSize: 50 });
  const { ids } = await seedEnvs(db.pool, Array.from({ length: 300 }, (_, i) => `pr-${i}`));
  for (;;) {
    const [x, y] = await Promise.all([ra.reconcileOnce(), rb.reconcileOnce()]);
    if (x + y === 0) break;
  }
  const counts = new Map<string, number>();
  for (const m of [a.applies, b.applies]) for (const [k, v] of m) counts.set(k, (counts.get(k) ?? 0) + v);
  t.equal(counts.size, ids.length, 'every environment applied');
  t.equal(Math.max(...counts.values()), 1, 'none applied twice');
  t.ok(a.applies.size > 0 && b.applies.size > 0, 'both replicas took a share');
  t.equal(await countUnconverged(db.pool), 0);
});

t.test('a dead replica\'s claims are taken over when its lease expires', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, targets: { memory: target }, replicaId: 'alive' });
  const { ids } = await seedEnvs(db.pool, ['a', 'b']);
  const claimed = await claims.claimDueEnvironments(db.pool, { owner: 'dead', leaseMs: 300, limit: 10 });
  t.equal(claimed.length, 2);
  t.equal(await rec.reconcileOnce(), 0, 'leased rows are not due');
  await waitFor('takeover', async () => (await rec.reconcileOnce()) === 2);
  t.equal(await countUnconverged(db.pool, ids), 0);
  const stale = await rollouts.recordOutcomes(db.pool, 'dead', [{ id: ids[0] ?? 0, generation: 1, nextAttemptInMs: 0, conditions: [] }]);
  t.same(stale, [], 'the dead replica can no longer write');
});

t.test('the loop wakes on NOTIFY, survives losing its database connections, and writes no duplicate history', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget({ applyMs: 300 });
  const rec = await make({ pool: db.pool, databaseUrl: db.url, targets: { memory: target }, pollIntervalMs: 60_000 });
  const { ids } = await seedEnvs(db.pool, ['a', 'b', 'c'], { converged: { dueInMs: 3_600_000 } });
  for (const id of ids) target.setRunning(id, 'sha256:v1');
  await rec.start();
  t.teardown(() => rec.stop());
  await new Promise((r) => setTimeout(r, 300));
  await setDesiredForTest(db.pool, { ids, digest: 'sha256:v2', spec: specFor('shop', 'x', 'v2') });
  // Mid-apply, kill every connection of this database (the pool's and the LISTEN one).
  await waitFor('applies in flight', async () => target.applies.size > 0);
  const admin = await createTestDatabase(t, { migrated: false });
  await admin.pool.query(sql.unsafe`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name}`);
  await waitFor('converged after reconnect', async () => (await countUnconverged(db.pool, ids)) === 0, 20_000);
  for (const id of ids) {
    const h = await historyOf(db.pool, id);
    t.same(h.filter((r) => r.generation === 2).map((r) => r.result), ['succeeded'], `one history row for generation 2: ${JSON.stringify(h)}`);
    t.equal(target.applies.get(`${id}:2`), 1);
  }
  // And a change after the reconnect still wakes it without the (60 s) tick.
  await setDesiredForTest(db.pool, { ids: [ids[0] ?? 0], digest: 'sha256:v3', spec: specFor('shop', 'a', 'v3') });
  await waitFor('woken by NOTIFY after reconnect', async () => (await countUnconverged(db.pool, ids)) === 0, 10_000);
});

t.test('a rollout that takes a while shows Progressing and an in-progress history row while it runs', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget({ applyMs: 1_500 });
  const rec = await make({ pool: db.pool, targets: { memory: target }, progressAfterMs: 100 });
  const { ids } = await seedEnvs(db.pool, ['slow']);
  const id = ids[0] ?? 0;
  const done = rec.reconcileOnce();
  const during = await waitFor('progressing', async () => {
    const e = await getEnvironmentState(db.pool, id);
    return e && cond(e.conditions, 'Progressing')?.status === 'True' ? e : undefined;
  });
  t.match(cond(during.conditions, 'Progressing'), { reason: 'Progressing', message: /deploy/ });
  t.same((await historyOf(db.pool, id)).map((h) => h.result), ['in_progress']);
  t.same((await outboxOf(db.pool, id)).map((o) => o.payload.state), ['in_progress']);
  await done;
  t.same((await historyOf(db.pool, id)).map((h) => h.result), ['succeeded']);
  t.same((await outboxOf(db.pool, id)).map((o) => o.payload.state), ['in_progress', 'success']);
});

t.test('gauges: environments by condition and queue depth', async (t) => {
  const db = await createTestDatabase(t);
  const registry = new Registry();
  const rec = await make({ pool: db.pool, databaseUrl: db.url, targets: { memory: createMemoryTarget() }, registry, metricsIntervalMs: 100 });
  await seedEnvs(db.pool, ['a', 'b']);
  await seedEnvs(db.pool, ['c'], { target: 'nowhere', app: 'other' });
  await rec.start();
  t.teardown(() => rec.stop());
  const text = await waitFor('gauges', async () => {
    const m = await registry.metrics();
    return /wharf_environments\{condition="Ready"\} 2/.test(m) && /wharf_environments\{condition="Stalled"\} 1/.test(m) ? m : undefined;
  });
  t.match(text, /wharf_queue_depth 0/);
  t.match(text, /wharf_reconcile_duration_seconds_count\{result="success"\} 2/);
  t.match(text, /wharf_reconcile_total\{result="stalled"\} 1/);
});

t.test('stop does not hang on a target that hangs', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = await make({ pool: db.pool, databaseUrl: db.url, targets: { memory: target }, stopTimeoutMs: 300 });
  const { ids } = await seedEnvs(db.pool, ['stuck']);
  target.setFault(ids[0] ?? 0, { kind: 'hang' });
  await rec.start();
  await waitFor('apply started', async () => target.applies.size > 0);
  const started = Date.now();
  await rec.stop();
  t.ok(Date.now() - started < 10_000, 'stopped');
});

t.test('a rollout of a rollback commit records what it rolls back to', async (t) => {
  const db = await createTestDatabase(t);
  const { seedRepo } = await import('./helpers.js');
  const { tenantId, repositoryId } = await seedRepo(db.pool);
  const insert = (sha: string, digest: string, rollbackOf: number | null) =>
    db.pool.transaction((tx) =>
      versions.insertVersion(tx, {
        tenantId,
        repositoryId,
        sha: sha.repeat(40),
        parentSha: null,
        ref: 'refs/heads/main',
        author: 'me',
        message: sha,
        committedAt: null,
        valid: true,
        diagnostics: [],
        manifest: null,
        apps: [{ app: 'shop', digest, valid: true, diagnostics: [], spec: specFor('shop', 'production', digest), carriedFromVersionId: null, rollbackOfVersionId: rollbackOf }],
      }),
    );
  const first = (await insert('a', 'sha256:one', null)).version;
  const revert = (await insert('c', 'sha256:one', first.id)).version;
  const [id = 0] = await seedEnvironments(db.pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', target: 'memory', digest: 'sha256:one', spec: specFor('shop', 'production', 'one'), versionId: revert.id },
  ]);
  await (await make({ pool: db.pool, targets: { memory: createMemoryTarget() } })).reconcileOnce();
  const [h] = await historyOf(db.pool, id);
  t.match(h, { version_id: revert.id, rollback_of_version_id: first.id, result: 'succeeded' });
});
