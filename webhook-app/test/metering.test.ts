/**
 * Usage metering against real Postgres and the strict fake Stripe: one meter event per organization, meter and hour
 * whatever fails (lost answers, a crash before the row is marked, 500s, 429s, Stripe down), late usage, the daily
 * reconciliation, and organizations without a Stripe customer.
 */
import { loadSettings, StartupError, USAGE_METRICS } from '@wharf/contracts';
import { type DatabasePool, metering, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { capturingLog, createTestDatabase, failingQuery, seedRepository, silentLog, startFakeStripe, type FakeStripe } from '@wharf/testkit';
import { controlPlaneSettings, createStripeClient, syncMeters, usageMetering } from '@wharf/webhook-app';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';

const HOUR = 3_600_000;
const hourAgo = (n: number) => new Date(Math.floor(Date.now() / HOUR) * HOUR - n * HOUR).toISOString();

async function setup(t: Test) {
  const db = await createTestDatabase(t);
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const stripe = createStripeClient({ secretKey: fake.secretKey, apiUrl: fake.url, maxNetworkRetries: 0 });
  await syncMeters(stripe);
  const paid = await seedOrg(db.pool, 'paid');
  const free = await seedOrg(db.pool, 'free');
  const customer = await stripe.customers.create({ email: 'ops@paid.example', metadata: { tenant: String(paid) } });
  const captured = capturingLog('info');
  const registry = new Registry();
  const deps: usageMetering.MeteringDeps = {
    pool: db.pool,
    log: captured.log,
    stripe,
    customers: async () => [{ tenantId: paid, customerId: customer.id }],
    metrics: usageMetering.createMeteringMetrics(registry),
    now: () => new Date(),
    random: () => 0.5,
    retry: { baseMs: 0, maxMs: 0, jitter: 'equal' },
    settleMinutes: 0,
  };
  return { db, fake, stripe, paid, free, customer: customer.id, deps, lines: captured.lines, registry };
}

/** An organization with production running for the last 4 hours, a preview for 90 minutes, deploys and requests. */
async function seedOrg(pool: DatabasePool, name: string): Promise<number> {
  const { tenantId, repositoryId } = await seedRepository(pool, { tenant: name });
  const [prod = 0, preview = 0] = await seedEnvironments(pool, [
    { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:a', spec: null },
    { tenantId, repositoryId, app: 'shop', name: 'pr-1', kind: 'preview', digest: 'sha256:a', spec: null },
  ]);
  await pool.query(sql.unsafe`UPDATE metering_environment_spans SET started_at = ${hourAgo(4)}::timestamptz WHERE environment_id = ${prod}`);
  await pool.query(sql.unsafe`UPDATE metering_environment_spans SET started_at = ${hourAgo(3)}::timestamptz,
    ended_at = ${hourAgo(3)}::timestamptz + interval '90 minutes' WHERE environment_id = ${preview}`);
  await metering.recordUsageEvents(pool, [
    { tenantId, metric: 'deploys', at: hourAgo(4), quantity: 1, sourceKey: `${name}-d1` },
    { tenantId, metric: 'deploys', at: hourAgo(2), quantity: 1, sourceKey: `${name}-d2` },
  ]);
  await metering.recordRuntimeRequests(pool, [{ tenantId, environmentId: prod, instance: 'pid 1', total: 1234, at: hourAgo(1) }]);
  return tenantId;
}

/** Stripe's counted events of one customer, by identifier, and the identifiers seen more than once. */
function stripeEvents(fake: FakeStripe, customer: string) {
  const events = fake.state.meterEvents.filter((r) => r.customer === customer);
  const ids = events.map((r) => r.event.identifier);
  return { events, ids: new Set(ids), duplicates: ids.filter((id, i) => ids.indexOf(id) !== i) };
}

async function expectedEvents(pool: DatabasePool, tenantId: number) {
  const rows = await metering.listHourlyUsage(pool, { tenantId }, { from: hourAgo(48), to: hourAgo(-1) });
  return rows.filter((r) => r.reported !== 0).map((r) => ({ metric: r.metric, hour: r.hour, value: r.reported }));
}

t.test('one meter event per organization, meter and hour across lost answers, a crash before marking, 500s and 429s', async (t) => {
  const { db, fake, paid, customer, deps } = await setup(t);
  fake.inject({ fault: { kind: 'drop-response' }, endpoint: 'billing.meterEvents.create', times: 2 });
  fake.inject({ fault: { kind: 'server-error', status: 500 }, endpoint: 'billing.meterEvents.create', times: 2 });
  fake.inject({ fault: { kind: 'rate-limit', retryAfterSeconds: 0 }, endpoint: 'billing.meterEvents.create', times: 1 });

  const first = await usageMetering.runHourly(deps);
  const expected = await expectedEvents(db.pool, paid);
  t.same(expected.map((e) => `${e.metric}@${e.hour.slice(11, 13)}=${e.value}`).sort(), [
    `deploys@${hourAgo(4).slice(11, 13)}=1`,
    `deploys@${hourAgo(2).slice(11, 13)}=1`,
    `previewEnvironmentHours@${hourAgo(3).slice(11, 13)}=1`,
    ...[4, 3, 2, 1].map((n) => `productionEnvironmentHours@${hourAgo(n).slice(11, 13)}=1`),
    `runtimeRequests@${hourAgo(1).slice(11, 13)}=1234`,
  ].sort(), '90 minutes of preview bill one whole hour; the half hour waits for more of the month');
  t.equal(first.queued, expected.length, 'every hour with usage queued once');
  t.ok(first.send && first.send.retried > 0, 'faults made some rows wait');

  // A crash after Stripe took the events and before the rows were marked: the replica died with its lease.
  const crashing = { ...deps, pool: failingQuery(db.pool, "SET status = 'sent'", 'crashed before marking') };
  await usageMetering.runHourly(crashing).catch(() => undefined);
  const marked = (await metering.countMeterEvents(db.pool)).sent;
  t.ok(stripeEvents(fake, customer).events.length > marked, 'Stripe counted events whose rows were never marked sent');
  await db.pool.query(sql.unsafe`UPDATE metering_meter_events SET locked_until = NULL`);

  for (let run = 0; run < 10 && (await metering.countMeterEvents(db.pool)).pending > 0; run++) await usageMetering.runHourly(deps);
  t.same(await metering.countMeterEvents(db.pool), { pending: 0, sent: expected.length, failed: 0 });
  const atStripe = stripeEvents(fake, customer);
  t.same(atStripe.duplicates, [], 'no identifier counted twice');
  t.equal(atStripe.events.length, expected.length, 'nothing missing, nothing extra');
  const byHour = new Map(atStripe.events.map((r) => [`${r.event.event_name}@${new Date(r.event.timestamp * 1000).toISOString()}`, r.value]));
  for (const e of expected) {
    t.equal(byHour.get(`${USAGE_METRICS[e.metric as keyof typeof USAGE_METRICS].meterEventName}@${e.hour}`), e.value, `${e.metric} ${e.hour}`);
  }
  t.same(fake.state.meterEventErrors, [], 'every event was usable');
  t.same(fake.problems, []);

  await usageMetering.runHourly(deps);
  t.equal(stripeEvents(fake, customer).events.length, expected.length, 'another run sends nothing new');
});

t.test('an identifier Stripe already has counts as sent and is not counted again', async (t) => {
  const { db, fake, stripe, paid, customer, deps } = await setup(t);
  await usageMetering.aggregateClosedHours(deps);
  await metering.enqueueMeterEvents(db.pool, { customers: await deps.customers(), from: hourAgo(48), to: hourAgo(0) });
  const [row] = await db.pool.any(sql.unsafe`SELECT identifier, event_name, value, hour FROM metering_meter_events WHERE tenant_id = ${paid} ORDER BY id LIMIT 1`);
  const r = row as { identifier: string; event_name: string; value: number; hour: string };
  // Sent by a replica whose idempotency key Stripe has forgotten, or by hand: the identifier is what Stripe dedupes on.
  await stripe.billing.meterEvents.create({
    event_name: r.event_name,
    identifier: r.identifier,
    timestamp: new Date(r.hour).getTime() / 1000,
    payload: { stripe_customer_id: customer, value: String(r.value) },
  });
  const result = await usageMetering.sendMeterEvents(deps);
  t.equal(result.alreadySent, 1);
  t.equal(result.failed, 0);
  t.same(stripeEvents(fake, customer).duplicates, []);
  t.equal((await metering.countMeterEvents(db.pool)).pending, 0);
});

t.test('Stripe down: meter events stay queued and go later with the same identifiers', async (t) => {
  const { db, fake, customer, deps, lines } = await setup(t);
  await fake.setDown(true);
  const down = await usageMetering.runHourly(deps);
  t.ok(down.queued > 0);
  t.equal(down.send?.sent, 0);
  const queued = (await db.pool.any(sql.unsafe`SELECT identifier FROM metering_meter_events ORDER BY identifier`)).map((r) => (r as { identifier: string }).identifier);
  t.equal((await metering.countMeterEvents(db.pool)).pending, queued.length, 'nothing lost');
  t.ok(lines.some((l) => l.msg === 'stripe unavailable; meter events stay queued'));
  await fake.setDown(false);
  const up = await usageMetering.runHourly(deps);
  t.equal(up.send?.sent, queued.length);
  t.same([...stripeEvents(fake, customer).ids].sort(), queued, 'the identifiers queued while Stripe was down');
});

t.test('late usage lands in its hour and reaches Stripe as a correction of that hour', async (t) => {
  const { db, fake, paid, customer, deps } = await setup(t);
  await usageMetering.runHourly(deps);
  const deploysAt = (hour: string) =>
    stripeEvents(fake, customer).events.filter((r) => r.event.event_name === 'wharf_deploys' && r.event.timestamp * 1000 === new Date(hour).getTime());
  t.same(deploysAt(hourAgo(4)).map((r) => r.value), [1]);
  await metering.recordUsageEvents(db.pool, [{ tenantId: paid, metric: 'deploys', at: hourAgo(4), quantity: 2, sourceKey: 'late-deploys' }]);
  await usageMetering.runHourly(deps);
  t.same(deploysAt(hourAgo(4)).map((r) => r.value), [1, 2], 'the hour now adds up to 3, in the hour the deploys happened');
  t.same(stripeEvents(fake, customer).duplicates, []);
});

t.test('an organization without a Stripe customer is aggregated and sends nothing', async (t) => {
  const { db, fake, free, deps } = await setup(t);
  await usageMetering.runHourly(deps);
  t.ok((await expectedEvents(db.pool, free)).length > 0, 'its usage is aggregated');
  t.equal((await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM metering_meter_events WHERE tenant_id = ${free}`)) as number, 0);
  const customers = new Set(fake.state.meterEvents.map((r) => r.customer));
  t.equal(customers.size, 1, 'only the paying customer has events');
  const none = await usageMetering.runHourly({ ...deps, customers: async () => [] });
  t.equal(none.queued, 0);
});

t.test('the daily reconciliation finds a planted difference and reports it in a log line and a metric', async (t) => {
  const { fake, stripe, customer, deps, lines, registry } = await setup(t);
  await usageMetering.runHourly(deps);
  const day = hourAgo(1);
  const clean = await usageMetering.reconcileMeterEvents(deps, day);
  t.same(clean.differences, [], 'nothing differs after sending');
  t.ok(clean.checked > 0);
  await stripe.billing.meterEvents.create({
    event_name: 'wharf_runtime_requests',
    identifier: 'planted-by-someone-else',
    timestamp: new Date(hourAgo(1)).getTime() / 1000,
    payload: { stripe_customer_id: customer, value: '66' },
  });
  const found = await usageMetering.reconcileMeterEvents(deps, day);
  t.match(found.differences, [{ metric: 'runtimeRequests', hour: hourAgo(1), wharf: 1234, stripe: 1300, unsent: 0 }]);
  t.equal(found.differences.length, 1);
  t.ok(lines.some((l) => l.msg === 'metered usage differs from stripe' && l.obj.stripe === 1300));
  t.match(await registry.getSingleMetricAsString('wharf_metering_reconcile_differences'), /wharf_metering_reconcile_differences\{metric="runtimeRequests"\} 1/);
  t.same(fake.problems, []);
});

t.test('one replica at a time runs the hourly job', async (t) => {
  const { db } = await setup(t);
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let entered!: () => void;
  const inside = new Promise<void>((r) => {
    entered = r;
  });
  const first = metering.withMeteringLock(db.pool, 'hourly', () => {
    entered();
    return held;
  });
  await inside; // the first holds the lock until released
  const others = await Promise.all([
    metering.withMeteringLock(db.pool, 'hourly', async () => undefined),
    metering.withMeteringLock(db.pool, 'hourly', async () => undefined),
  ]);
  t.same(others, [{ ran: false }, { ran: false }], 'the others skip the run while one holds it');
  t.same(await metering.withMeteringLock(db.pool, 'reconcile', async () => 'daily'), { ran: true, value: 'daily' }, 'the daily job has its own lock');
  release();
  t.equal((await first).ran, true);
  t.equal((await metering.withMeteringLock(db.pool, 'hourly', async () => 1)).ran, true, 'the lock is released after the run');
});


t.test('the unit refuses bad schedules at start-up, all at once, and runs its jobs under the lock', async (t) => {
  const db = await createTestDatabase(t);
  const ctx = (env: Record<string, string>) => ({
    pool: db.pool,
    log: silentLog,
    registry: new Registry(),
    settings: loadSettings(controlPlaneSettings, env),
    dataDir: '/nonexistent',
  });
  const refused = await usageMetering
    .createMeteringUnit()(ctx({ WHARF_METERING_CRON: '61 * * * *', WHARF_METERING_RECONCILE_CRON: 'daily' }))
    .then(() => null, (err: unknown) => err);
  t.ok(refused instanceof StartupError, 'a start-up error');
  t.match((refused as Error).message, /WHARF_METERING_CRON: .*\nWHARF_METERING_RECONCILE_CRON: /, 'both settings named');
  const unit = await usageMetering.createMeteringUnit({ customers: async () => [] })(ctx({}));
  t.equal(unit?.name, 'metering');
  unit?.start?.();
  await unit?.stop?.();
  const deps: usageMetering.MeteringDeps = {
    pool: db.pool,
    log: silentLog,
    stripe: null,
    customers: async () => [],
    metrics: usageMetering.createMeteringMetrics(new Registry()),
    now: () => new Date(),
    random: Math.random,
    retry: usageMetering.DEFAULT_METER_EVENT_RETRY,
    settleMinutes: 5,
  };
  const jobs = usageMetering.startMeteringJobs(deps, { hourlyCron: '0 0 1 1 *', reconcileCron: '0 0 1 1 *' });
  t.teardown(() => jobs.stop());
  t.equal(await jobs.runHourly(), true);
  t.ok(await metering.aggregatedThrough(db.pool), 'without Stripe the hours are still aggregated');
  t.equal(await jobs.reconcileYesterday(), true);
});

t.test('a row first tried more than a day ago is checked against Stripe: found, it is sent; absent, it goes', async (t) => {
  const { db, fake, stripe, paid, customer, deps } = await setup(t);
  await usageMetering.aggregateClosedHours(deps);
  await metering.enqueueMeterEvents(db.pool, { customers: await deps.customers(), from: hourAgo(48), to: hourAgo(0) });
  const rows = (await db.pool.any(sql.unsafe`
    SELECT id, identifier, event_name, value, hour FROM metering_meter_events WHERE tenant_id = ${paid} AND metric = 'runtimeRequests'
    UNION ALL (SELECT id, identifier, event_name, value, hour FROM metering_meter_events WHERE tenant_id = ${paid} AND metric = 'deploys' ORDER BY hour LIMIT 1)`)) as {
    id: number;
    identifier: string;
    event_name: string;
    value: number;
    hour: string;
  }[];
  t.equal(rows.length, 2);
  const [reached, lost] = rows as [(typeof rows)[number], (typeof rows)[number]];
  // The first attempt of `reached` got to Stripe (its answer was lost); `lost` never did. Both were tried 25 hours ago.
  await stripe.billing.meterEvents.create({
    event_name: reached.event_name,
    identifier: reached.identifier,
    timestamp: new Date(reached.hour).getTime() / 1000,
    payload: { stripe_customer_id: customer, value: String(reached.value) },
  });
  await db.pool.query(sql.unsafe`UPDATE metering_meter_events SET attempts = 1, first_attempt_at = now() - interval '25 hours', status = 'failed'
    WHERE tenant_id = ${paid} AND id <> ALL(${sql.array([reached.id, lost.id], 'int8')})`);
  await db.pool.query(sql.unsafe`UPDATE metering_meter_events SET attempts = 1, first_attempt_at = now() - interval '25 hours' WHERE id IN (${reached.id}, ${lost.id})`);
  fake.controls.advanceTime(25 * 3600); // Stripe forgets identifiers after 24 hours
  const later = { ...deps, now: () => new Date(Date.now() + 25 * 3_600_000) };
  const result = await usageMetering.sendMeterEvents(later);
  t.same({ ...result }, { sent: 1, alreadySent: 1, retried: 0, failed: 0 });
  const counted = stripeEvents(fake, customer);
  t.same(counted.duplicates, [], 'the event that reached Stripe is not counted again');
  t.ok(counted.ids.has(lost.identifier), 'the one that never reached it is sent');
});
