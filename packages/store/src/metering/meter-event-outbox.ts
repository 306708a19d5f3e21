/**
 * The meter-event outbox: what Stripe must receive, queued in Postgres before anything is sent. Each row has the
 * identifier it is sent under on every attempt; a row is marked sent only after Stripe answered (or said it already
 * has that identifier), so a crash between sending and marking resends the same identifier, which Stripe refuses
 * to count twice. The sender works for every organization by design.
 */
import { meterEventIdentifier, meterEventNameOf, type UsageMetric, USAGE_METRIC_NAMES } from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { int8, parseRows } from '../rows.js';

export interface StripeCustomer {
  tenantId: number;
  customerId: string;
}

/**
 * Organizations that are Stripe customers. Billing owns the customer id; this reads the `metering_stripe_customers`
 * view, which is empty until the merge with billing defines it over billing's column (docs/metering.md).
 */
export async function listStripeCustomers(db: CommonQueryMethods): Promise<StripeCustomer[]> {
  const rows = await db.any(sql.type(z.object({ tenant_id: int8, customer_id: z.string() }))`
    SELECT tenant_id, customer_id FROM metering_stripe_customers WHERE customer_id IS NOT NULL AND customer_id <> ''`);
  return parseRows(z.object({ tenant_id: int8, customer_id: z.string() }))(rows).map((r) => ({ tenantId: r.tenant_id, customerId: r.customer_id }));
}

const TodoRow = z.object({ tenant_id: int8, metric: z.enum(USAGE_METRIC_NAMES as [UsageMetric, ...UsageMetric[]]), hour: z.string(), value: int8, revision: int8 });

/**
 * Queues what the customers' closed hours in [from, to) report and the outbox does not hold yet: the hour's whole
 * usage (revision 0), or the difference when the hour changed after it was queued (late usage; a later revision).
 * Organizations without a customer are aggregated but never queued. Returns the rows queued.
 */
export async function enqueueMeterEvents(
  pool: DatabasePool,
  input: { customers: readonly StripeCustomer[]; from: string; to: string },
): Promise<number> {
  if (input.customers.length === 0) return 0;
  const customers = new Map(input.customers.map((c) => [c.tenantId, c.customerId]));
  return pool.transaction(async (tx) => {
    const todo = await tx
      .any(sql.type(TodoRow)`
        SELECT u.tenant_id, u.metric, u.hour, u.reported - u.queued AS value,
          coalesce((SELECT max(m.revision) + 1 FROM metering_meter_events m WHERE m.tenant_id = u.tenant_id AND m.metric = u.metric AND m.hour = u.hour), 0) AS revision
        FROM metering_hourly_usage u
        WHERE u.reported <> u.queued AND u.hour >= ${input.from}::timestamptz AND u.hour < ${input.to}::timestamptz
          AND u.tenant_id = ANY(${sql.array([...customers.keys()], 'int8')})
        ORDER BY u.hour, u.tenant_id, u.metric
        FOR UPDATE OF u`)
      .then(parseRows(TodoRow));
    if (todo.length === 0) return 0;
    const rows = todo.map((t) => ({
      tenantId: t.tenant_id,
      metric: t.metric,
      hour: t.hour,
      revision: t.revision,
      identifier: meterEventIdentifier({ tenantId: t.tenant_id, metric: t.metric, hour: t.hour, revision: t.revision }),
      customerId: customers.get(t.tenant_id) ?? '',
      eventName: meterEventNameOf(t.metric),
      value: t.value,
    }));
    await tx.query(sql.unsafe`
      WITH x AS (
        SELECT * FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x("tenantId" bigint, metric text, hour timestamptz, revision int,
          identifier text, "customerId" text, "eventName" text, value bigint)
      ), ins AS (
        INSERT INTO metering_meter_events (tenant_id, metric, hour, revision, identifier, customer_id, event_name, value)
        SELECT "tenantId", metric, hour, revision, identifier, "customerId", "eventName", value FROM x
        RETURNING tenant_id, metric, hour, value
      )
      UPDATE metering_hourly_usage u SET queued = u.queued + ins.value
      FROM ins WHERE u.tenant_id = ins.tenant_id AND u.metric = ins.metric AND u.hour = ins.hour`);
    return rows.length;
  });
}

export const MeterEventRow = z.object({
  id: int8,
  tenant_id: int8,
  metric: z.string(),
  hour: z.string(),
  revision: int8,
  identifier: z.string(),
  customer_id: z.string(),
  event_name: z.string(),
  value: int8,
  attempts: int8,
  first_attempt_at: z.string().nullable(),
});
export type MeterEventRow = z.infer<typeof MeterEventRow>;

/** Claims due rows of every organization under a lease (another replica skips them), oldest hour first. */
export async function claimMeterEvents(
  db: CommonQueryMethods,
  input: { limit: number; leaseSeconds: number; exclude?: readonly number[] },
): Promise<MeterEventRow[]> {
  return db
    .any(sql.type(MeterEventRow)`
      WITH c AS (
        SELECT id FROM metering_meter_events
        WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
          AND NOT (id = ANY(${sql.array([...(input.exclude ?? [])], 'int8')}))
        ORDER BY next_attempt_at, id LIMIT ${input.limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE metering_meter_events m SET locked_until = now() + make_interval(secs => ${input.leaseSeconds}), attempts = m.attempts + 1,
        first_attempt_at = coalesce(m.first_attempt_at, now())
      FROM c WHERE m.id = c.id
      RETURNING m.id, m.tenant_id, m.metric, m.hour, m.revision, m.identifier, m.customer_id, m.event_name, m.value, m.attempts,
        m.first_attempt_at`)
    .then(parseRows(MeterEventRow));
}

/** What the other rows of the row's hour that Stripe accepted add up to. */
export async function sentForHourExcept(db: CommonQueryMethods, row: { id: number; tenant_id: number; metric: string; hour: string }): Promise<number> {
  return Number(
    await db.oneFirst(sql.type(z.object({ n: int8 }))`
      SELECT coalesce(sum(value), 0) AS n FROM metering_meter_events
      WHERE tenant_id = ${row.tenant_id} AND metric = ${row.metric} AND hour = ${row.hour}::timestamptz AND status = 'sent' AND id <> ${row.id}`),
  );
}

/** Stripe has the event (it answered, or it already had the identifier). */
export async function markMeterEventsSent(db: CommonQueryMethods, ids: readonly number[], note?: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(sql.unsafe`
    UPDATE metering_meter_events SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = ${note ?? null}
    WHERE id = ANY(${sql.array([...ids], 'int8')}) AND status = 'pending'`);
}

/** Try again after `delaySeconds` (Stripe down, 429, 5xx): the same identifier goes out then. */
export async function retryMeterEvent(db: CommonQueryMethods, id: number, delaySeconds: number, error: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE metering_meter_events SET locked_until = NULL, last_error = ${error.slice(0, 1000)},
      next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    WHERE id = ${id} AND status = 'pending'`);
}

/** Stripe refused the event for good (or it is too old to send): kept, reported, never retried by itself. */
export async function failMeterEvent(db: CommonQueryMethods, id: number, error: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE metering_meter_events SET status = 'failed', locked_until = NULL, last_error = ${error.slice(0, 1000)}
    WHERE id = ${id} AND status = 'pending'`);
}

export const MeterEventCounts = z.object({ pending: int8, sent: int8, failed: int8 });

/** Rows by status, of every organization (the unit's gauges, tests). */
export async function countMeterEvents(db: CommonQueryMethods): Promise<z.infer<typeof MeterEventCounts>> {
  const row = await db.one(sql.type(MeterEventCounts)`
    SELECT count(*) FILTER (WHERE status = 'pending') AS pending, count(*) FILTER (WHERE status = 'sent') AS sent,
      count(*) FILTER (WHERE status = 'failed') AS failed FROM metering_meter_events`);
  return MeterEventCounts.parse(row);
}

/** What was sent to Stripe for one organization and metric, per hour in [from, to) (the daily reconciliation). */
export async function sentPerHour(
  db: CommonQueryMethods,
  scope: { tenantId: number },
  input: { metric: UsageMetric; from: string; to: string },
): Promise<Map<string, { sent: number; unsent: number }>> {
  const rows = await db.any(sql.type(z.object({ hour: z.string(), sent: int8, unsent: int8 }))`
    SELECT hour, coalesce(sum(value) FILTER (WHERE status = 'sent'), 0) AS sent, coalesce(sum(value) FILTER (WHERE status <> 'sent'), 0) AS unsent
    FROM metering_meter_events
    WHERE tenant_id = ${scope.tenantId} AND metric = ${input.metric} AND hour >= ${input.from}::timestamptz AND hour < ${input.to}::timestamptz
    GROUP BY hour`);
  return new Map(parseRows(z.object({ hour: z.string(), sent: int8, unsent: int8 }))(rows).map((r) => [r.hour, { sent: r.sent, unsent: r.unsent }]));
}
