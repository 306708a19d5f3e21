/**
 * metering: 10,000 environments across 1,000 organizations, one simulated month (720 hours) of hourly aggregation,
 * then meter events for the last `--send-hours` hours sent to the fake Stripe through injected faults (lost answers,
 * 500s, 429s) and a crash between Stripe's answer and marking the rows sent.
 *   - aggregate_ms_per_hour: median time to aggregate one closed hour (every organization, every metric), with that
 *     hour's usage recorded just before; p95 and max too. The month's spans: 2 production environments per
 *     organization all month, 8 previews with lifetimes of 2 to 120 hours, 20 more previews that came and went; an
 *     agent for a third of the organizations; deploys; request counts of every production environment every hour.
 *   - meter_events: events Stripe counted for the sent hours; expected_meter_events: (organization, metric, hour)
 *     with a non-zero whole amount to report; duplicates: (customer, meter, hour) counted more than once; missing:
 *     expected but absent or with another value.
 *   - rows_retained and bytes_per_org: the metering tables after the month (inputs, hourly usage, outbox).
 * Sending a whole month (about 3.6 M events) through the fake Stripe is not attempted: it takes about a millisecond
 * or more per event here, so the sent window is bounded (`--send-hours`, default 24) while all hours are aggregated.
 *   npm run bench -- metering [--orgs 1000] [--hours 720] [--send-hours 24] [--max-seconds 900]
 */
import { USAGE_METRICS } from '@wharf/contracts';
import { type DatabasePool, metering, sql } from '@wharf/store';
import { benchDatabase, failingQuery, median, percentile, startFakeStripe } from '@wharf/testkit';
import { createStripeClient, syncMeters, usageMetering } from '@wharf/webhook-app';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { Registry } from 'prom-client';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const ORGS = arg('orgs', 1000);
const HOURS = arg('hours', 720);
const SEND_HOURS = arg('send-hours', 24);
const MAX_SECONDS = arg('max-seconds', 900);
const ENVS_PER_ORG = 10;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const progress = (msg: string) => process.stderr.write(`[metering] ${msg}\n`);

const db = await benchDatabase(process.env.DATABASE_URL, { poolSize: 10 });
const fake = await startFakeStripe();
const log = pino({ level: 'warn' });
try {
  const nowHour = Math.floor(Date.now() / HOUR) * HOUR;
  const monthStart = nowHour - HOURS * HOUR;
  progress(`seeding ${ORGS} organizations, ${ORGS * ENVS_PER_ORG} environments, month from ${iso(monthStart)}`);
  await seed(db.pool, monthStart, nowHour);

  // The month, hour by hour: that hour's usage is recorded, then the hour is aggregated.
  const times: number[] = [];
  const steps = { compute: [] as number[], write: [] as number[], running: [] as number[] };
  const started = Date.now();
  for (let h = 0; h < HOURS; h++) {
    const hour = monthStart + h * HOUR;
    await recordHour(db.pool, hour, h);
    const t0 = performance.now();
    await metering.aggregateHours(db.pool, [iso(hour)], { onStep: (name, ms) => steps[name].push(ms) });
    times.push(performance.now() - t0);
    if (h % 24 === 23) {
      const last = (v: number[]) => median(v.slice(-24)).toFixed(0);
      progress(`hour ${h + 1}/${HOURS}: median ${median(times).toFixed(0)} ms; last day ${last(times)} ms (compute ${last(steps.compute)}, write ${last(steps.write)}, running totals ${last(steps.running)})`);
    }
    if ((Date.now() - started) / 1000 > MAX_SECONDS) {
      progress(`time bound reached after ${h + 1} hours; the figures are for those`);
      break;
    }
  }
  const hoursAggregated = times.length;
  const through = monthStart + hoursAggregated * HOUR;
  const t1 = performance.now();
  const recomputed = await metering.aggregateHours(db.pool, metering.hoursBetween(iso(through - 24 * HOUR), iso(through)));
  const recomputeMs = performance.now() - t1;
  progress(`recomputing the last 24 closed hours changed ${recomputed} rows in ${recomputeMs.toFixed(0)} ms`);

  // Stripe: meters, one customer per organization, then the last SEND_HOURS hours through faults and a crash.
  const stripe = createStripeClient({ secretKey: fake.secretKey, apiUrl: fake.url, maxNetworkRetries: 0 });
  await syncMeters(stripe);
  const tenantIds = (await db.pool.any(sql.unsafe`SELECT id FROM tenants ORDER BY id`)).map((r) => Number((r as { id: number }).id));
  const customers: metering.StripeCustomer[] = [];
  for (const tenantId of tenantIds) customers.push({ tenantId, customerId: (await stripe.customers.create({ metadata: { tenant: String(tenantId) } })).id });
  progress(`${customers.length} Stripe customers`);
  const sendFrom = iso(through - SEND_HOURS * HOUR);
  const queued = await metering.enqueueMeterEvents(db.pool, { customers, from: sendFrom, to: iso(through) });
  progress(`${queued} meter events queued for ${SEND_HOURS} hours`);

  const deps: usageMetering.MeteringDeps = {
    pool: db.pool,
    log,
    stripe,
    customers: async () => customers,
    metrics: usageMetering.createMeteringMetrics(new Registry()),
    now: () => new Date(),
    random: Math.random,
    retry: { baseMs: 0, maxMs: 0, jitter: 'equal' },
    settleMinutes: 0,
  };
  const sendStarted = performance.now();
  // The crash: a replica sends a batch, Stripe counts it, and the replica dies before marking the rows sent; its
  // leases run out (set here rather than waited for).
  await usageMetering.sendMeterEvents({ ...deps, pool: failingQuery(db.pool, "SET status = 'sent'", 'crashed before marking') }, { batchSize: 200 }).catch(() => undefined);
  const unmarked = fake.state.meterEvents.length - (await metering.countMeterEvents(db.pool)).sent;
  await db.pool.query(sql.unsafe`UPDATE metering_meter_events SET locked_until = NULL WHERE status = 'pending'`);
  progress(`crash: Stripe counted ${unmarked} events whose rows were not marked sent`);
  // Then Stripe misbehaves: answers lost after it counted the event, 500s, 429s.
  const faults = { dropResponse: 40, serverError: 40, rateLimit: 10 };
  fake.inject({ fault: { kind: 'rate-limit', retryAfterSeconds: 0 }, endpoint: 'billing.meterEvents.create', times: faults.rateLimit });
  fake.inject({ fault: { kind: 'server-error', status: 500 }, endpoint: 'billing.meterEvents.create', times: faults.serverError });
  fake.inject({ fault: { kind: 'drop-response' }, endpoint: 'billing.meterEvents.create', times: faults.dropResponse });
  let runs = 0;
  const totals = { sent: 0, alreadySent: 0, retried: 0, failed: 0 };
  while ((await metering.countMeterEvents(db.pool)).pending > 0 && runs < 500) {
    const r = await usageMetering.sendMeterEvents(deps, { batchSize: 500, concurrency: 8 });
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r[k];
    runs++;
    if (runs % 10 === 0) progress(`send run ${runs}: ${JSON.stringify(totals)}`);
  }
  const sendMs = performance.now() - sendStarted;

  // What Stripe holds against what Wharf computed.
  const counted = new Map<string, number[]>();
  const byCustomer = new Map(customers.map((c) => [c.customerId, c.tenantId]));
  for (const r of fake.state.meterEvents) {
    const key = `${byCustomer.get(r.customer)}|${r.event.event_name}|${iso(r.event.timestamp * 1000)}`;
    counted.set(key, [...(counted.get(key) ?? []), r.value]);
  }
  const expected = await db.pool.any(sql.unsafe`
    SELECT tenant_id, metric, hour, reported FROM metering_hourly_usage
    WHERE hour >= ${sendFrom}::timestamptz AND hour < ${iso(through)}::timestamptz AND reported <> 0`);
  let missing = 0;
  for (const e of expected as { tenant_id: number; metric: keyof typeof USAGE_METRICS; hour: string; reported: number }[]) {
    const got = counted.get(`${e.tenant_id}|${USAGE_METRICS[e.metric].meterEventName}|${e.hour}`);
    if (!got || got.reduce((a, b) => a + b, 0) !== Number(e.reported)) missing++;
  }
  const duplicates = [...counted.values()].reduce((n, v) => n + v.length - 1, 0);

  const tables = ['metering_environment_spans', 'metering_agent_spans', 'metering_usage_events', 'metering_hourly_usage', 'metering_meter_events'];
  const rowsRetained: Record<string, number> = {};
  let bytes = 0;
  for (const table of tables) {
    const row = (await db.pool.one(sql.unsafe`SELECT count(*)::bigint AS n, pg_total_relation_size(${table}::regclass) AS bytes FROM ${sql.identifier([table])}`)) as { n: number; bytes: number };
    rowsRetained[table.replace(/^metering_/, '')] = Number(row.n);
    bytes += Number(row.bytes);
  }
  const load = execFileSync('uptime', { encoding: 'utf8' }).trim();
  progress(`load: ${load}`);
  console.log(
    JSON.stringify({
      bench: 'metering',
      orgs: ORGS,
      environments: ORGS * ENVS_PER_ORG,
      hours_aggregated: hoursAggregated,
      aggregate_ms_per_hour: Math.round(median(times)),
      aggregate_ms_per_hour_p95: Math.round(percentile(times, 95)),
      aggregate_ms_per_hour_max: Math.round(Math.max(...times)),
      aggregate_ms_steps: { compute: Math.round(median(steps.compute)), write: Math.round(median(steps.write)), running_totals: Math.round(median(steps.running)) },
      recompute_24h_ms: Math.round(recomputeMs),
      recompute_24h_changed_rows: recomputed,
      send_hours: SEND_HOURS,
      meter_events: fake.state.meterEvents.length,
      expected_meter_events: expected.length,
      duplicates,
      missing,
      faults: { ...faults, crash_unmarked_events: unmarked },
      send_runs: runs,
      send: totals,
      send_events_per_s: Math.round(fake.state.meterEvents.length / (sendMs / 1000)),
      rows_retained: rowsRetained,
      rows_per_org: Math.round(Object.values(rowsRetained).reduce((a, b) => a + b, 0) / ORGS),
      bytes_per_org: Math.round(bytes / ORGS),
      load: load.replace(/.*load average: /, ''),
    }),
  );
} finally {
  await fake.close();
  await db.close();
}

/** Tenants, repositories, environments with their spans over the month, agents. */
async function seed(pool: DatabasePool, monthStart: number, now: number) {
  await pool.query(sql.unsafe`
    INSERT INTO tenants (kind, external_id, name) SELECT 'github', 'bench-' || g, 'org-' || g FROM generate_series(1, ${ORGS}) g`);
  await pool.query(sql.unsafe`
    INSERT INTO repositories (tenant_id, provider, full_name, url) SELECT id, 'github', slug || '/shop', 'https://github.invalid/' || slug FROM tenants`);
  await pool.query(sql.unsafe`
    INSERT INTO environments (tenant_id, repository_id, app, name, kind)
    SELECT r.tenant_id, r.id, 'shop', CASE WHEN i <= 2 THEN 'production-' || i ELSE 'pr-' || i END, CASE WHEN i <= 2 THEN 'production' ELSE 'preview' END
    FROM repositories r, generate_series(1, ${ENVS_PER_ORG}) i`);
  // Lifetimes: production all month; previews live 2 to 120 hours (and some minutes) from a random start.
  await pool.query(sql.unsafe`
    UPDATE metering_environment_spans s SET started_at = CASE WHEN s.kind = 'production' THEN ${iso(monthStart - 24 * HOUR)}::timestamptz
        ELSE ${iso(monthStart)}::timestamptz + ((s.environment_id * 7919) % (${HOURS} * 60)) * interval '1 minute' END,
      ended_at = CASE WHEN s.kind = 'production' THEN NULL
        ELSE ${iso(monthStart)}::timestamptz + ((s.environment_id * 7919) % (${HOURS} * 60)) * interval '1 minute'
          + (120 + (s.environment_id * 104729) % (118 * 60)) * interval '1 minute' END`);
  await pool.query(sql.unsafe`UPDATE metering_environment_spans SET ended_at = NULL WHERE ended_at > ${iso(now)}::timestamptz`);
  // Previews that came and went (their environment rows are long deleted).
  await pool.query(sql.unsafe`
    INSERT INTO metering_environment_spans (tenant_id, environment_id, kind, started_at, ended_at)
    SELECT t.id, 1000000000 + t.id * 100 + g, 'preview', st, least(st + (30 + (t.id * 31 + g * 977) % 2880) * interval '1 minute', ${iso(now)}::timestamptz)
    FROM tenants t, generate_series(1, 20) g,
      LATERAL (SELECT ${iso(monthStart)}::timestamptz + ((t.id * 7 + g * 8191) % (${HOURS} * 60)) * interval '1 minute' AS st) x`);
  // One agent for every third organization, polling all month with a 2-hour outage in the middle.
  await pool.query(sql.unsafe`
    INSERT INTO metering_agent_spans (tenant_id, agent_id, started_at, ended_at)
    SELECT id, id, ${iso(monthStart)}::timestamptz, ${iso(monthStart + (HOURS / 2) * HOUR)}::timestamptz FROM tenants WHERE id % 3 = 0
    UNION ALL
    SELECT id, id, ${iso(monthStart + (HOURS / 2 + 2) * HOUR)}::timestamptz, ${iso(now)}::timestamptz FROM tenants WHERE id % 3 = 0`);
}

/** One hour's countable usage: request counts of every production environment, and deploys. */
async function recordHour(pool: DatabasePool, hour: number, h: number) {
  await pool.query(sql.unsafe`
    INSERT INTO metering_usage_events (tenant_id, metric, occurred_at, quantity, source_key)
    SELECT e.tenant_id, 'runtimeRequests', ${iso(hour)}::timestamptz, 1000 + (e.id * 7919 + ${h} * 104729) % 5000, 'requests:' || e.id || ':' || ${h}
    FROM environments e WHERE e.kind = 'production'
    UNION ALL
    SELECT t.id, 'deploys', ${iso(hour)}::timestamptz + interval '17 minutes', 1 + (t.id + ${h}) % 3, 'deploy:' || t.id || ':' || ${h}
    FROM tenants t WHERE (t.id * 13 + ${h}) % 5 = 0`);
}

