/**
 * The plan's preview limit holds in every mode, not only for GitHub pull requests: branch previews over it are
 * Stalled (QuotaExceeded) with the plan named, the first ones keep their slots, production always runs, and an
 * upgrade (Stripe's subscription, applied by the store) lets the held ones start. Agents: the plan's limit, counted.
 */
import { billing, sql } from '@wharf/store';
import { getEnvironmentState, seedEnvironments } from '@wharf/store/testing';
import { createMemoryTarget, createTestDatabase } from '@wharf/testkit';
import t from 'tap';
import { createReconciler } from '../src/index.js';
import { seedRepository } from '@wharf/testkit';
import { cond, registryOf, silentLog, specFor } from './helpers.js';

const seedRepo = (pool: Parameters<typeof seedRepository>[0]) => seedRepository(pool, { fullName: 'me/repo', url: 'file:///repo', plan: 'free' });

t.test('branch previews over the Free limit wait (QuotaExceeded); an upgrade lifts it; production always runs', async (t) => {
  const db = await createTestDatabase(t);
  const target = createMemoryTarget();
  const rec = createReconciler({ pool: db.pool, log: silentLog, leaseTtlMs: 10_000, resyncMs: 3_600_000, targets: await registryOf({ memory: target }) });
  t.teardown(() => rec.stop());
  const { tenantId, repositoryId } = await seedRepo(db.pool);
  const env = (app: string, name: string, kind: 'production' | 'preview' = 'preview') => ({ tenantId, repositoryId, app, name, kind, target: 'memory', digest: 'sha256:v1', spec: specFor(app, name, 'v1') });
  // Branch `a` has two apps: one preview of the organization, however many apps it has.
  const ids = await seedEnvironments(db.pool, [env('shop', 'production', 'production'), env('shop', 'a'), env('admin', 'a'), env('shop', 'b'), env('shop', 'c'), env('shop', 'd')]);
  const [prod, a1, a2, b, c, d] = ids as [number, number, number, number, number, number];
  const settle = async () => {
    for (let i = 0; i < 10 && (await rec.reconcileOnce()) > 0; i++);
  };
  const stateOf = async (id: number) => {
    const e = await getEnvironmentState(db.pool, id);
    const stalled = cond(e?.conditions ?? [], 'Stalled');
    if (stalled?.status === 'True') return `Stalled ${stalled.reason}`;
    return cond(e?.conditions ?? [], 'Ready')?.status === 'True' ? 'Ready' : 'other';
  };
  await settle();
  t.same(await Promise.all([prod, a1, a2, b, c].map(stateOf)), ['Ready', 'Ready', 'Ready', 'Ready', 'Ready'], 'production and the first three previews run');
  t.equal(await stateOf(d), 'Stalled QuotaExceeded', 'the fourth preview waits');
  t.match(cond((await getEnvironmentState(db.pool, d))?.conditions ?? [], 'Stalled')?.message, /the Free plan runs 3 previews at once and all are in use: tear one down or upgrade the plan/);
  t.notOk(target.running.has(d), 'nothing runs for it');

  // Stripe says the organization is on Pro now.
  await billing.linkCustomer(db.pool, { tenantId }, { stripeCustomerId: 'cus_test_1', email: null });
  const change = await billing.applySubscription(
    db.pool,
    { tenantId },
    { subscriptionId: 'sub_1', plan: 'pro', status: 'active', stripeStatus: 'active', periodStart: null, periodEnd: null, trialEnd: null, cancelAtPeriodEnd: false, pastDueAt: null },
    100,
  );
  t.same(change, { plan_before: 'free', plan_after: 'pro', status_before: 'free', status_after: 'active' });
  t.equal(await billing.applySubscription(db.pool, { tenantId }, { subscriptionId: 'sub_1', plan: 'free', status: 'canceled', stripeStatus: 'canceled', periodStart: null, periodEnd: null, trialEnd: null, cancelAtPeriodEnd: false, pastDueAt: null }, 99), null, 'an older event does not overwrite a newer state');
  await settle();
  t.equal(await stateOf(d), 'Ready', 'on Pro the held preview starts by itself');
  t.ok(target.running.has(d));

  // Back on Free (canceled): the newest preview is held again; production and the first three keep running.
  await billing.applySubscription(db.pool, { tenantId }, { subscriptionId: 'sub_1', plan: 'free', status: 'canceled', stripeStatus: 'canceled', periodStart: null, periodEnd: null, trialEnd: null, cancelAtPeriodEnd: false, pastDueAt: null }, 200);
  await settle();
  t.same(await Promise.all([prod, a1, a2, b, c, d].map(stateOf)), ['Ready', 'Ready', 'Ready', 'Ready', 'Ready', 'Stalled QuotaExceeded']);
});

t.test('agents: the plan limits registrations; revoked agents do not count', async (t) => {
  const db = await createTestDatabase(t);
  const { tenantId } = await seedRepo(db.pool);
  t.same(await billing.agentQuota(db.pool, { tenantId }), { allowed: true, used: 0, limit: 1, plan: 'free' }, 'none registered yet');
  const addAgents = (names: string[]) =>
    db.pool.query(sql.unsafe`INSERT INTO agents (tenant_id, pool, name) SELECT ${tenantId}, 'home-lab', n FROM unnest(${sql.array(names, 'text')}) AS n`);
  await addAgents(['edge-1']);
  t.equal(await billing.canRegisterAgent(db.pool, { tenantId }), false, 'Free: one agent, taken');
  await db.pool.query(sql.unsafe`UPDATE agents SET revoked_at = now() WHERE tenant_id = ${tenantId}`);
  t.equal(await billing.canRegisterAgent(db.pool, { tenantId }), true, 'a revoked agent frees its slot');
  await addAgents(['edge-2', 'edge-3', 'edge-4']);
  await db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'pro' WHERE id = ${tenantId}`);
  t.same(await billing.agentQuota(db.pool, { tenantId }), { allowed: false, used: 3, limit: 3, plan: 'pro' });
  await db.pool.query(sql.unsafe`UPDATE tenants SET plan = 'enterprise' WHERE id = ${tenantId}`);
  t.equal(await billing.canRegisterAgent(db.pool, { tenantId }), true, 'Enterprise: no limit');
});
