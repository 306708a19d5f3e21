/**
 * Usage is reported exactly once across a control-plane crash: the control-plane process (webhook-app/src/main.ts)
 * runs the metering unit against the fake Stripe, is killed with SIGKILL while meter events are in flight, and a new
 * process finishes the job. Stripe ends up with one event per organization, meter and hour, with Wharf's values.
 */
import path from 'node:path';
import { USAGE_METRICS } from '@wharf/contracts';
import { metering, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { createTestDatabase, REPO_ROOT, seedRepository, startFakeStripe, startTsProcess, tempDir, waitFor } from '@wharf/testkit';
import { createStripeClient, syncMeters } from '@wharf/webhook-app';
import t from 'tap';

const MAIN = path.join(REPO_ROOT, 'webhook-app/src/main.ts');
const HOUR = 3_600_000;
const hourAgo = (n: number) => new Date(Math.floor(Date.now() / HOUR) * HOUR - n * HOUR).toISOString();

t.test('a control plane killed while sending meter events: a new one sends the rest, none twice', async (t) => {
  const db = await createTestDatabase(t);
  const fake = await startFakeStripe();
  t.teardown(() => fake.close());
  const stripe = createStripeClient({ secretKey: fake.secretKey, apiUrl: fake.url, maxNetworkRetries: 0 });
  await syncMeters(stripe);
  const customers: { tenantId: number; customerId: string }[] = [];
  for (const name of ['acme', 'globex', 'initech']) {
    const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: name });
    const [prod = 0] = await seedEnvironments(db.pool, [
      { tenantId, repositoryId, app: 'shop', name: 'production', kind: 'production', digest: 'sha256:a', spec: null },
    ]);
    await db.pool.query(sql.unsafe`UPDATE metering_environment_spans SET started_at = ${hourAgo(3)}::timestamptz WHERE environment_id = ${prod}`);
    await metering.recordUsageEvents(db.pool, [
      { tenantId, metric: 'deploys', at: hourAgo(3), quantity: 2, sourceKey: `${name}-deploys` },
      { tenantId, metric: 'runtimeRequests', at: hourAgo(2), quantity: 500, sourceKey: `${name}-requests` },
    ]);
    customers.push({ tenantId, customerId: (await stripe.customers.create({ metadata: { tenant: name } })).id });
  }
  // What the merge with billing does: the customers view over billing's table (here a table of the test's own).
  await db.pool.query(sql.unsafe`CREATE TABLE test_customers (tenant_id bigint, customer_id text)`);
  for (const c of customers) await db.pool.query(sql.unsafe`INSERT INTO test_customers VALUES (${c.tenantId}, ${c.customerId})`);
  await db.pool.query(sql.unsafe`CREATE OR REPLACE VIEW metering_stripe_customers AS SELECT tenant_id, customer_id FROM test_customers`);

  const dir = await tempDir(t, 'wharf-metering-crash-');
  const env = {
    DATABASE_URL: db.url,
    WHARF_PORT: '0',
    WHARF_DATA_DIR: dir,
    WHARF_LOG_FILE: '-',
    STRIPE_SECRET_KEY: fake.secretKey,
    STRIPE_API_URL: fake.url,
    WHARF_METERING_CRON: '* * * * * *',
    WHARF_METERING_SETTLE_MINUTES: '0',
  };
  // Stripe answers slowly: the first process dies with requests in flight, after Stripe counted some of them.
  fake.inject({ fault: { kind: 'slow', delayMs: 400 }, endpoint: 'billing.meterEvents.create', times: 1000 });
  const first = startTsProcess(MAIN, [], { cwd: dir, env });
  t.teardown(async () => {
    first.child.kill('SIGKILL');
    await first.exited;
  });
  await waitFor('Stripe counting events of the first process', async () => fake.state.meterEvents.length >= 1, 90_000);
  first.child.kill('SIGKILL');
  await first.exited;
  const expected = (await db.pool.any(sql.unsafe`SELECT count(*)::int AS n FROM metering_hourly_usage WHERE reported <> 0`))[0] as { n: number };
  const marked = await metering.countMeterEvents(db.pool);
  t.ok(marked.sent < expected.n, 'the first process died before everything was marked sent');
  // Its leases would run out in five minutes; the test does not wait for them.
  await db.pool.query(sql.unsafe`UPDATE metering_meter_events SET locked_until = NULL`);
  fake.clearFaults();

  const second = startTsProcess(MAIN, [], { cwd: dir, env });
  t.teardown(async () => {
    second.child.kill('SIGKILL');
    await second.exited;
  });
  await waitFor('every meter event sent', async () => {
    const c = await metering.countMeterEvents(db.pool);
    return c.pending === 0 && c.sent === expected.n;
  }, 90_000);
  second.child.kill('SIGTERM');
  t.match(await second.exited, { code: 0 });

  const seen = new Map<string, number[]>();
  for (const r of fake.state.meterEvents) {
    const key = `${r.customer} ${r.event.event_name} ${new Date(r.event.timestamp * 1000).toISOString()}`;
    seen.set(key, [...(seen.get(key) ?? []), r.value]);
  }
  t.same([...seen.values()].filter((v) => v.length > 1), [], 'no customer, meter and hour counted twice');
  t.equal(seen.size, expected.n, 'nothing missing');
  const rows = (await db.pool.any(sql.unsafe`SELECT tenant_id, metric, hour, reported FROM metering_hourly_usage WHERE reported <> 0`)) as {
    tenant_id: number;
    metric: keyof typeof USAGE_METRICS;
    hour: string;
    reported: number;
  }[];
  for (const r of rows) {
    const customer = customers.find((c) => c.tenantId === r.tenant_id)?.customerId;
    t.same(seen.get(`${customer} ${USAGE_METRICS[r.metric].meterEventName} ${r.hour}`), [r.reported], `${r.metric} ${r.hour}`);
  }
  t.same(fake.problems, []);
});
