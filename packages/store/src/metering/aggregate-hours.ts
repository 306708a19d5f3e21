/**
 * Hourly aggregation: per organization, metric and hour, from the recorded inputs. Environment- and agent-hours are
 * interval arithmetic over spans (the seconds each span overlaps the hour), counts are sums of events by the hour
 * they happened in. Recomputing an hour is idempotent: only rows whose amount changed are written, and the month's
 * running totals (which decide the whole hours reported) are brought up to date from the earliest changed hour on.
 */
import { METERING_BASE_UNITS } from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { int8 } from '../rows.js';

const HOUR_MS = 3_600_000;

/** The start of the hour `iso` falls in (UTC), as an ISO string. */
export const hourOf = (iso: string | Date): string => new Date(Math.floor(new Date(iso).getTime() / HOUR_MS) * HOUR_MS).toISOString();

/** Hours from `from` (inclusive) to `to` (exclusive). */
export function hoursBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = new Date(hourOf(from)).getTime(); t < new Date(to).getTime(); t += HOUR_MS) out.push(new Date(t).toISOString());
  return out;
}

const metricUnits = () => sql.jsonb(METERING_BASE_UNITS as never);

/**
 * Recomputes the given hours (which must be closed: every input of them recorded) in one transaction. Returns the
 * number of (organization, metric, hour) rows whose amount changed.
 */
export async function aggregateHours(
  pool: DatabasePool,
  hours: readonly string[],
  options: { onStep?: (step: 'compute' | 'write' | 'running', ms: number) => void } = {},
): Promise<number> {
  if (hours.length === 0) return 0;
  const list = sql.array([...hours], 'timestamptz');
  let t = performance.now();
  const step = (name: 'compute' | 'write' | 'running') => {
    const now = performance.now();
    options.onStep?.(name, now - t);
    t = now;
  };
  return pool.transaction(async (tx) => {
    // An aggregation lost in a crash is recomputed by the next run (its dirty hours come back with it): the commit
    // need not wait for the disk.
    await tx.query(sql.unsafe`SET LOCAL timezone = 'UTC'`);
    await tx.query(sql.unsafe`SET LOCAL synchronous_commit = off`);
    await tx.query(sql.unsafe`DELETE FROM metering_dirty_hours WHERE hour = ANY(${list})`);
    await tx.query(sql.unsafe`
      CREATE TEMP TABLE metering_computed ON COMMIT DROP AS
      WITH h AS (SELECT unnest(${list}) AS hour),
      env AS (
        SELECT s.tenant_id, CASE s.kind WHEN 'production' THEN 'productionEnvironmentHours' ELSE 'previewEnvironmentHours' END AS metric,
          h.hour, sum(extract(epoch FROM least(coalesce(s.ended_at, 'infinity'), h.hour + interval '1 hour') - greatest(s.started_at, h.hour))) AS amount
        FROM h JOIN metering_environment_spans s ON tstzrange(s.started_at, s.ended_at) && tstzrange(h.hour, h.hour + interval '1 hour')
        GROUP BY 1, 2, 3
      ), agents AS (
        SELECT s.tenant_id, 'agentHours' AS metric,
          h.hour, sum(extract(epoch FROM least(s.ended_at, h.hour + interval '1 hour') - greatest(s.started_at, h.hour))) AS amount
        FROM h JOIN metering_agent_spans s ON tstzrange(s.started_at, s.ended_at) && tstzrange(h.hour, h.hour + interval '1 hour')
        GROUP BY 1, 2, 3
      ), counted AS (
        SELECT e.tenant_id, e.metric, h.hour, sum(e.quantity) AS amount
        FROM h JOIN metering_usage_events e ON e.occurred_at >= h.hour AND e.occurred_at < h.hour + interval '1 hour'
        GROUP BY 1, 2, 3
      )
      SELECT tenant_id, metric, hour, round(amount)::bigint AS amount FROM env
      UNION ALL SELECT tenant_id, metric, hour, round(amount)::bigint FROM agents
      UNION ALL SELECT tenant_id, metric, hour, amount::bigint FROM counted`);
    await tx.query(sql.unsafe`CREATE TEMP TABLE metering_changed (tenant_id bigint, metric text, hour timestamptz) ON COMMIT DROP`);
    step('compute');
    // Changed rows are written with the month's running total as of the hours before them (right at once for a new
    // hour); the update after fixes later hours of the month when an earlier one changed (late usage).
    const changed = await tx.oneFirst(sql.type(z.object({ n: int8 }))`
      WITH merged AS (
        SELECT coalesce(c.tenant_id, u.tenant_id) AS tenant_id, coalesce(c.metric, u.metric) AS metric, coalesce(c.hour, u.hour) AS hour,
          coalesce(c.amount, 0) AS amount
        FROM metering_computed c
        FULL JOIN (SELECT tenant_id, metric, hour, amount FROM metering_hourly_usage WHERE hour = ANY(${list})) u
          ON u.tenant_id = c.tenant_id AND u.metric = c.metric AND u.hour = c.hour
        WHERE u.amount IS DISTINCT FROM coalesce(c.amount, 0) AND NOT (u.amount IS NULL AND c.amount = 0)
      ), up AS (
        INSERT INTO metering_hourly_usage (tenant_id, metric, hour, amount, unit, month_amount)
        SELECT m.tenant_id, m.metric, m.hour, m.amount, (${metricUnits()}::jsonb ->> m.metric)::int,
          m.amount + coalesce((
            SELECT p.month_amount FROM metering_hourly_usage p
            WHERE p.tenant_id = m.tenant_id AND p.metric = m.metric AND p.hour >= date_trunc('month', m.hour) AND p.hour < m.hour
            ORDER BY p.hour DESC LIMIT 1), 0)
        FROM merged m
        ON CONFLICT (tenant_id, metric, hour) DO UPDATE SET amount = EXCLUDED.amount, month_amount = EXCLUDED.month_amount, updated_at = now()
        RETURNING tenant_id, metric, hour
      ), saved AS (
        INSERT INTO metering_changed SELECT * FROM up RETURNING 1
      )
      SELECT count(*) AS n FROM saved`);
    step('write');
    if (changed === 0) return 0;
    // One new hour with no later hour of its month stored (the hourly run): the running totals written are final.
    const later = await tx.oneFirst(sql.type(z.object({ later: z.boolean() }))`
      SELECT EXISTS (SELECT 1 FROM metering_hourly_usage WHERE hour > ${hours[0] ?? ''}::timestamptz
        AND hour < date_trunc('month', ${hours[0] ?? ''}::timestamptz) + interval '1 month') AS later`);
    if (hours.length === 1 && !later) return Number(changed);
    // Running totals of the month, from the earliest changed hour of each (organization, metric, month) on.
    await tx.query(sql.unsafe`
      WITH starts AS (
        SELECT tenant_id, metric, date_trunc('month', hour) AS month, min(hour) AS from_hour FROM metering_changed GROUP BY 1, 2, 3
      ), base AS (
        SELECT s.*, coalesce((
          SELECT u.month_amount FROM metering_hourly_usage u
          WHERE u.tenant_id = s.tenant_id AND u.metric = s.metric AND u.hour >= s.month AND u.hour < s.from_hour
          ORDER BY u.hour DESC LIMIT 1), 0) AS base
        FROM starts s
      ), running AS (
        SELECT u.tenant_id, u.metric, u.hour, b.base + sum(u.amount) OVER (PARTITION BY u.tenant_id, u.metric, b.month ORDER BY u.hour) AS month_amount
        FROM base b JOIN metering_hourly_usage u
          ON u.tenant_id = b.tenant_id AND u.metric = b.metric AND u.hour >= b.from_hour AND u.hour < b.month + interval '1 month'
      )
      UPDATE metering_hourly_usage u SET month_amount = r.month_amount
      FROM running r WHERE u.tenant_id = r.tenant_id AND u.metric = r.metric AND u.hour = r.hour AND u.month_amount <> r.month_amount`);
    step('running');
    return Number(changed);
  });
}

/** Hours marked for recomputation (late usage) before `before`, oldest first, at most `limit`. */
export async function dirtyHours(db: CommonQueryMethods, input: { before: string; limit: number }): Promise<string[]> {
  const rows = await db.any(sql.type(z.object({ hour: z.string() }))`
    SELECT hour FROM metering_dirty_hours WHERE hour < ${input.before}::timestamptz ORDER BY hour LIMIT ${input.limit}`);
  return rows.map((r) => r.hour);
}

/** Where the hourly run got to: every hour before it was aggregated once at least (null: never ran). */
export async function aggregatedThrough(db: CommonQueryMethods): Promise<string | null> {
  return db.oneFirst(sql.type(z.object({ at: z.string().nullable() }))`SELECT aggregated_through AS at FROM metering_state`);
}

export async function setAggregatedThrough(db: CommonQueryMethods, at: string): Promise<void> {
  await db.query(sql.unsafe`UPDATE metering_state SET aggregated_through = greatest(aggregated_through, ${at}::timestamptz)`);
}

export const HourlyUsageRow = z.object({
  tenant_id: int8,
  metric: z.string(),
  hour: z.string(),
  amount: int8,
  reported: int8,
  queued: int8,
});
export type HourlyUsageRow = z.infer<typeof HourlyUsageRow>;

/** One organization's hourly usage in [from, to), oldest first. */
export async function listHourlyUsage(db: CommonQueryMethods, scope: { tenantId: number }, range: { from: string; to: string }): Promise<HourlyUsageRow[]> {
  const rows = await db.any(sql.type(HourlyUsageRow)`
    SELECT tenant_id, metric, hour, amount, reported, queued FROM metering_hourly_usage
    WHERE tenant_id = ${scope.tenantId} AND hour >= ${range.from}::timestamptz AND hour < ${range.to}::timestamptz
    ORDER BY hour, metric`);
  return rows.map((r) => HourlyUsageRow.parse(r));
}
