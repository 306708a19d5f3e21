/**
 * How long metering keeps its rows. Inputs (spans, events, counters) and the outbox are needed until an hour can no
 * longer change or be sent (Stripe takes events up to 35 days old); hourly usage is kept longer for the usage view.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8 } from '../rows.js';

export async function pruneMetering(db: CommonQueryMethods, input: { inputsBefore: string; usageBefore: string }): Promise<number> {
  const n = await db.oneFirst(sql.type(z.object({ n: int8 }))`
    WITH a AS (DELETE FROM metering_environment_spans WHERE ended_at < ${input.inputsBefore}::timestamptz RETURNING 1),
    b AS (DELETE FROM metering_agent_spans WHERE ended_at < ${input.inputsBefore}::timestamptz RETURNING 1),
    c AS (DELETE FROM metering_usage_events WHERE occurred_at < ${input.inputsBefore}::timestamptz RETURNING 1),
    d AS (DELETE FROM metering_meter_events WHERE hour < ${input.inputsBefore}::timestamptz AND status <> 'pending' RETURNING 1),
    e AS (DELETE FROM metering_hourly_usage WHERE hour < ${input.usageBefore}::timestamptz RETURNING 1),
    f AS (DELETE FROM metering_dirty_hours WHERE hour < ${input.inputsBefore}::timestamptz RETURNING 1)
    SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) + (SELECT count(*) FROM d)
      + (SELECT count(*) FROM e) + (SELECT count(*) FROM f) AS n`);
  return Number(n);
}
