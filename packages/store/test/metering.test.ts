/** Metering in Postgres: spans follow environments, hours are interval arithmetic, late usage lands in its hour. */
import { desiredState, metering, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, seedRepository } from '@wharf/testkit';
import t from 'tap';
import { specFor } from './helpers.js';

const H = (h: number, m = 0) => new Date(Date.UTC(2026, 10, 3, h, m)).toISOString();

async function seedEnv(pool: Parameters<typeof seedEnvironments>[0], tenant: string, names: { name: string; kind: 'production' | 'preview' }[]) {
  const { tenantId, repositoryId } = await seedRepository(pool, { tenant });
  const ids = await seedEnvironments(
    pool,
    names.map(({ name, kind }) => ({ tenantId, repositoryId, app: 'shop', name, kind, digest: 'sha256:v1', spec: specFor('shop', name, 'v1') })),
  );
  return { tenantId, ids };
}

async function setSpan(pool: Parameters<typeof seedEnvironments>[0], environmentId: number, from: string, to: string | null) {
  await pool.query(sql.unsafe`UPDATE metering_environment_spans SET started_at = ${from}::timestamptz, ended_at = ${to}::timestamptz WHERE environment_id = ${environmentId}`);
}

const usage = async (pool: Parameters<typeof seedEnvironments>[0], tenantId: number) =>
  (await metering.listHourlyUsage(pool, { tenantId }, { from: H(0), to: H(23) })).map((r) => [r.hour.slice(11, 13), r.metric, r.amount, r.reported]);

t.test('a span opens when an environment is created, closes when its deletion is requested, and outlives the row', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, ids } = await seedEnv(db.pool, 'acme', [{ name: 'pr-1', kind: 'preview' }]);
  const id = ids[0] ?? 0;
  const spans = () => db.pool.any(sql.unsafe`SELECT kind, ended_at IS NULL AS open FROM metering_environment_spans WHERE environment_id = ${id} ORDER BY id`);
  t.same(await spans(), [{ kind: 'preview', open: true }]);
  await desiredState.requestDeletion(db.pool, { tenantId }, id);
  t.same(await spans(), [{ kind: 'preview', open: false }], 'deletion requested: closed');
  await db.pool.query(sql.unsafe`DELETE FROM environments WHERE id = ${id}`);
  t.same(await spans(), [{ kind: 'preview', open: false }], 'the row is gone, its span is not');
});

t.test('environment-hours are the seconds each span overlaps each hour; fractions carry into later hours', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, ids } = await seedEnv(db.pool, 'acme', [
    { name: 'production', kind: 'production' },
    { name: 'pr-1', kind: 'preview' },
    { name: 'pr-2', kind: 'preview' },
  ]);
  const [prod = 0, pr1 = 0, pr2 = 0] = ids;
  await setSpan(db.pool, prod, H(10, 20), null); // 40 min, then whole hours
  await setSpan(db.pool, pr1, H(10, 40), H(11, 0)); // 20 min
  await setSpan(db.pool, pr2, H(11, 30), H(12, 10)); // 30 + 10 min
  const other = await seedEnv(db.pool, 'other', [{ name: 'production', kind: 'production' }]);
  await setSpan(db.pool, other.ids[0] ?? 0, H(0), null);
  const changed = await metering.aggregateHours(db.pool, metering.hoursBetween(H(10), H(13)));
  t.ok(changed > 0);
  t.same(await usage(db.pool, tenantId), [
    ['10', 'previewEnvironmentHours', 1200, 0],
    ['10', 'productionEnvironmentHours', 2400, 0],
    ['11', 'previewEnvironmentHours', 1800, 0],
    ['11', 'productionEnvironmentHours', 3600, 1],
    ['12', 'previewEnvironmentHours', 600, 1],
    ['12', 'productionEnvironmentHours', 3600, 1],
  ], '40 min + 60 min reports 1 hour at 11:00; 20+30+10 min of previews report 1 hour at 12:00');
  t.equal(await metering.aggregateHours(db.pool, metering.hoursBetween(H(10), H(13))), 0, 'recomputing closed hours changes nothing');
  await setSpan(db.pool, pr1, H(10, 20), H(11, 0)); // corrected: 40 min
  t.equal(await metering.aggregateHours(db.pool, [H(10)]), 1, 'only 10:00 is recomputed');
  t.same((await usage(db.pool, tenantId)).filter((r) => r[1] === 'previewEnvironmentHours'), [
    ['10', 'previewEnvironmentHours', 2400, 0],
    ['11', 'previewEnvironmentHours', 1800, 1],
    ['12', 'previewEnvironmentHours', 600, 0],
  ], 'the later hours of the month report from the new running total');
  t.same((await usage(db.pool, other.tenantId)).map((r) => r[2]), [3600, 3600, 3600], 'another organization is aggregated on its own');
});

t.test('late usage lands in the hour it happened; a queued hour gets a correction, an organization without a customer nothing', async (t) => {
  const db = await createTestDatabase(t);
  const paid = await seedRepository(db.pool, { tenant: 'paid' });
  const free = await seedRepository(db.pool, { tenant: 'free' });
  for (const org of [paid, free]) {
    await metering.recordUsageEvents(db.pool, [
      { tenantId: org.tenantId, metric: 'deploys', at: H(9, 5), quantity: 1, sourceKey: `d1-${org.tenantId}` },
      { tenantId: org.tenantId, metric: 'deploys', at: H(9, 55), quantity: 1, sourceKey: `d2-${org.tenantId}` },
    ]);
  }
  await metering.aggregateHours(db.pool, metering.hoursBetween(H(9), H(11)));
  const customers = [{ tenantId: paid.tenantId, customerId: 'cus_paid' }];
  t.equal(await metering.enqueueMeterEvents(db.pool, { customers, from: H(0), to: H(11) }), 1);
  t.equal(await metering.enqueueMeterEvents(db.pool, { customers, from: H(0), to: H(11) }), 0, 'queued once');
  t.same(await metering.dirtyHours(db.pool, { before: H(23), limit: 10 }), [], 'aggregated hours are clean');

  await metering.recordUsageEvents(db.pool, [{ tenantId: paid.tenantId, metric: 'deploys', at: H(9, 30), quantity: 1, sourceKey: 'late' }]);
  await metering.recordUsageEvents(db.pool, [{ tenantId: paid.tenantId, metric: 'deploys', at: H(9, 30), quantity: 1, sourceKey: 'late' }]);
  const dirty = await metering.dirtyHours(db.pool, { before: H(23), limit: 10 });
  t.same(dirty, [H(9)], 'the late event marks its own hour');
  await metering.aggregateHours(db.pool, dirty);
  t.same(await usage(db.pool, paid.tenantId), [['09', 'deploys', 3, 3]], 'recorded twice, counted once, in 09:00');
  t.equal(await metering.enqueueMeterEvents(db.pool, { customers, from: H(0), to: H(11) }), 1);
  const rows = await db.pool.any(sql.unsafe`SELECT tenant_id, identifier, value, revision, customer_id FROM metering_meter_events ORDER BY id`);
  t.same(rows, [
    { tenant_id: paid.tenantId, identifier: `wharf-${paid.tenantId}-deploys-20261103T09`, value: 2, revision: 0, customer_id: 'cus_paid' },
    { tenant_id: paid.tenantId, identifier: `wharf-${paid.tenantId}-deploys-20261103T09-r1`, value: 1, revision: 1, customer_id: 'cus_paid' },
  ]);
});

t.test('runtime request counters become increments; a restart counts from zero; agents count while they poll', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, ids } = await seedEnv(db.pool, 'acme', [{ name: 'production', kind: 'production' }]);
  const environmentId = ids[0] ?? 0;
  const read = (instance: string, total: number, at: string) => metering.recordRuntimeRequests(db.pool, [{ tenantId, environmentId, instance, total, at }]);
  t.equal(await read('pid 1', 100, H(8, 10)), 100);
  await metering.aggregateHours(db.pool, [H(8)]);
  t.equal(await read('pid 1', 250, H(8, 50)), 150);
  t.same(await metering.dirtyHours(db.pool, { before: H(23), limit: 10 }), [H(8)], 'a reading added to an aggregated hour marks it');
  t.equal(await read('pid 1', 240, H(8, 40)), 0, 'an older reading is ignored');
  t.equal(await read('pid 2', 30, H(9, 10)), 30, 'a new process starts from zero');
  await metering.recordAgentsSeen(db.pool, [
    { tenantId, agentId: 7, at: H(9, 0) },
    { tenantId, agentId: 7, at: H(9, 30) },
    { tenantId, agentId: 7, at: H(10, 15) }, // a 45-minute gap: offline meanwhile
    { tenantId, agentId: 7, at: H(10, 45) },
  ], { gapSeconds: 40 * 60 });
  await metering.aggregateHours(db.pool, metering.hoursBetween(H(8), H(11)));
  const rows = (await usage(db.pool, tenantId)).filter((r) => r[1] !== 'productionEnvironmentHours');
  t.same(rows, [
    ['08', 'runtimeRequests', 250, 250],
    ['09', 'agentHours', 1800, 0],
    ['09', 'runtimeRequests', 30, 30],
    ['10', 'agentHours', 1800, 1],
  ]);
});

t.test('pruning keeps what an hour may still need and open spans, and drops the rest', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId, ids } = await seedEnv(db.pool, 'acme', [
    { name: 'production', kind: 'production' },
    { name: 'pr-1', kind: 'preview' },
  ]);
  await setSpan(db.pool, ids[0] ?? 0, H(1), null);
  await setSpan(db.pool, ids[1] ?? 0, H(1), H(2));
  await metering.recordUsageEvents(db.pool, [
    { tenantId, metric: 'deploys', at: H(1), quantity: 1, sourceKey: 'old' },
    { tenantId, metric: 'deploys', at: H(20), quantity: 1, sourceKey: 'new' },
  ]);
  await metering.aggregateHours(db.pool, metering.hoursBetween(H(0), H(21)));
  const before = (await usage(db.pool, tenantId)).length;
  t.ok((await metering.pruneMetering(db.pool, { inputsBefore: H(10), usageBefore: H(0) })) >= 2);
  t.same(await db.pool.any(sql.unsafe`SELECT kind, ended_at IS NULL AS open FROM metering_environment_spans WHERE tenant_id = ${tenantId}`), [
    { kind: 'production', open: true },
  ], 'the open span stays, the closed old one goes');
  t.same(await db.pool.any(sql.unsafe`SELECT source_key FROM metering_usage_events WHERE tenant_id = ${tenantId}`), [{ source_key: 'new' }]);
  t.equal((await usage(db.pool, tenantId)).length, before, 'hourly usage is kept longer');
});

t.test('with the agents table present, each liveness write extends the agent-hours (0211)', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId } = await seedRepository(db.pool, { tenant: 'acme' });
  // 0211 puts its trigger on the agents table of 0160 (the migrations run in order).
  const agentId = Number(await db.pool.oneFirst(sql.unsafe`INSERT INTO agents (tenant_id, pool, name, last_seen_at) VALUES (${tenantId}, 'home-lab', 'edge-1', ${H(9, 0)}::timestamptz) RETURNING id`));
  for (const at of [H(9, 1), H(9, 2), H(9, 30), H(10, 0), H(10, 30)]) {
    await db.pool.query(sql.unsafe`UPDATE agents SET last_seen_at = ${at}::timestamptz WHERE id = ${agentId}`);
  }
  await db.pool.query(sql.unsafe`UPDATE agents SET name = 'renamed' WHERE id = ${agentId}`);
  t.same(await db.pool.any(sql.unsafe`SELECT started_at, ended_at FROM metering_agent_spans WHERE agent_id = ${agentId} ORDER BY id`), [
    { started_at: H(9, 0), ended_at: H(9, 2) },
    { started_at: H(9, 30), ended_at: H(9, 30) },
    { started_at: H(10, 0), ended_at: H(10, 0) },
    { started_at: H(10, 30), ended_at: H(10, 30) },
  ], 'polls minutes apart join; half-hour gaps are not counted');
});
