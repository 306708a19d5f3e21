/**
 * Inputs of metering that are not recorded by triggers (0210_metering.sql records environment spans and deploys):
 * agents seen by the agent API, and runtime request counters read from runtimes' Prometheus metrics. Each write is
 * idempotent, and usage that arrives late lands in the hour it happened (its hour is marked for recomputation).
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRows } from '../rows.js';

/**
 * Agent-hours: the agent API calls this from its liveness writes (each poll, batched). An agent counts from the
 * first poll of a run of polls to the last; a gap longer than `gapSeconds` (the liveness timeout) is not counted.
 */
export async function recordAgentsSeen(
  db: CommonQueryMethods,
  seen: readonly { tenantId: number; agentId: number; at: string }[],
  options: { gapSeconds: number },
): Promise<void> {
  if (seen.length === 0) return;
  await db.query(sql.unsafe`
    SELECT wharf_metering_agent_seen(x."tenantId", x."agentId", x.at, make_interval(secs => ${options.gapSeconds}))
    FROM jsonb_to_recordset(${sql.jsonb(seen as never)}) AS x("tenantId" bigint, "agentId" bigint, at timestamptz)
    ORDER BY x."agentId", x.at`);
}

export interface RuntimeRequestSample {
  tenantId: number;
  environmentId: number;
  /** Which process the counter belongs to (a new one starts from 0). */
  instance: string;
  /** The counter's value (sum of `wharf_runtime_http_requests_total`). */
  total: number;
  /** When it was read. */
  at: string;
}

/**
 * Turns counter readings into request counts: the increase since the last reading of the same instance (a new
 * instance, or a counter that went down, is a restart: all of its total counts), added to the environment's row of
 * the hour the reading was taken in. A reading not newer than the last one is ignored. Returns the requests recorded.
 */
export async function recordRuntimeRequests(db: CommonQueryMethods, samples: readonly RuntimeRequestSample[]): Promise<number> {
  if (samples.length === 0) return 0;
  const recorded = await db.oneFirst(sql.type(z.object({ quantity: int8 }))`
    WITH x AS (
      SELECT DISTINCT ON ("environmentId") * FROM jsonb_to_recordset(${sql.jsonb(samples as never)})
        AS x("tenantId" bigint, "environmentId" bigint, instance text, total bigint, at timestamptz)
      ORDER BY "environmentId", at DESC
    ), prev AS (
      SELECT x.*, c.instance AS prev_instance, c.total AS prev_total, c.read_at AS prev_at
      FROM x LEFT JOIN metering_runtime_counters c ON c.environment_id = x."environmentId" AND c.tenant_id = x."tenantId"
    ), fresh AS (
      SELECT *, CASE WHEN prev_instance = instance AND total >= prev_total THEN total - prev_total ELSE total END AS quantity
      FROM prev WHERE prev_at IS NULL OR at > prev_at
    ), saved AS (
      INSERT INTO metering_runtime_counters (environment_id, tenant_id, instance, total, read_at)
      SELECT "environmentId", "tenantId", instance, total, at FROM fresh
      ON CONFLICT (environment_id) DO UPDATE SET instance = EXCLUDED.instance, total = EXCLUDED.total, read_at = EXCLUDED.read_at
      RETURNING environment_id
    ), counted AS (
      INSERT INTO metering_usage_events AS e (tenant_id, metric, occurred_at, quantity, source_key)
      SELECT "tenantId", 'runtimeRequests', date_trunc('hour', at, 'UTC'), quantity,
        'requests:' || "environmentId" || ':' || to_char(at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24')
      FROM fresh WHERE quantity > 0
      ON CONFLICT (source_key) DO UPDATE SET quantity = e.quantity + EXCLUDED.quantity, recorded_at = now()
      RETURNING 1
    )
    SELECT coalesce(sum(quantity), 0)::bigint AS quantity FROM fresh WHERE quantity > 0`);
  return Number(recorded);
}

/** Countable usage recorded directly (tests, benchmarks, imports): idempotent by `sourceKey`. */
export async function recordUsageEvents(
  db: CommonQueryMethods,
  events: readonly { tenantId: number; metric: 'deploys' | 'runtimeRequests'; at: string; quantity: number; sourceKey: string }[],
): Promise<number> {
  if (events.length === 0) return 0;
  const rows = await db.any(sql.type(z.object({ id: int8 }))`
    INSERT INTO metering_usage_events (tenant_id, metric, occurred_at, quantity, source_key)
    SELECT "tenantId", metric, at, quantity, "sourceKey"
    FROM jsonb_to_recordset(${sql.jsonb(events as never)}) AS x("tenantId" bigint, metric text, at timestamptz, quantity bigint, "sourceKey" text)
    ON CONFLICT (source_key) DO NOTHING
    RETURNING id`).then(parseRows(z.object({ id: int8 })));
  return rows.length;
}
