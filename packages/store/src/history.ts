/** environment_history: one row per rollout. Written inside the reconciler's status transactions. */
import { ROLLOUT_RESULTS, type RolloutResult } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, parseRows } from './rows.js';

/** int8 columns come back as BigInt from slonik 47's type parsers: parse rows to numbers (ids stay far below 2^53). */

export type HistoryResult = RolloutResult;

export const HistoryEntry = z.object({
  id: int8,
  environment_id: int8,
  generation: int8,
  version_id: int8.nullable(),
  digest: z.string().nullable(),
  action: z.string(),
  result: z.enum(ROLLOUT_RESULTS),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  rollback_of_version_id: int8.nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export interface NewHistoryRow {
  environmentId: number;
  tenantId: number;
  generation: number;
  versionId: number | null;
  digest: string | null;
  action: string;
  reason: string;
  message: string;
  rollbackOfVersionId: number | null;
  /** ISO time the rollout began; null: now. */
  startedAt: string | null;
}

/** Inserts rows in one statement; returns environment id → new row id. */
export async function insertHistoryRows(db: CommonQueryMethods, rows: readonly NewHistoryRow[]): Promise<Map<number, number>> {
  if (rows.length === 0) return new Map();
  const result = await db.any(sql.type(z.object({ id: int8, environment_id: int8 }))`
    INSERT INTO environment_history
      (tenant_id, environment_id, generation, version_id, digest, action, result, reason, message, rollback_of_version_id, started_at)
    SELECT x."tenantId", x."environmentId", x.generation, x."versionId", x.digest, x.action, 'in_progress', x.reason, x.message,
           x."rollbackOfVersionId", COALESCE(x."startedAt", now())
    FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x(
      "tenantId" bigint, "environmentId" bigint, generation bigint, "versionId" bigint, digest text, action text,
      reason text, message text, "rollbackOfVersionId" bigint, "startedAt" timestamptz)
    RETURNING id, environment_id`);
  return new Map(result.map((r) => [Number(r.environment_id), Number(r.id)]));
}

export interface HistoryUpdate {
  id: number;
  result: HistoryResult;
  reason: string | null;
  message: string | null;
}

/** Moves rows to a new result; a row that leaves `in_progress` gets its finish time. */
export async function updateHistoryRows(db: CommonQueryMethods, rows: readonly HistoryUpdate[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(sql.unsafe`
    UPDATE environment_history h
    SET result = x.result,
        reason = COALESCE(x.reason, h.reason),
        message = COALESCE(x.message, h.message),
        finished_at = CASE WHEN x.result = 'in_progress' THEN NULL ELSE now() END
    FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x(id bigint, result text, reason text, message text)
    WHERE h.id = x.id`);
}

export async function listHistory(db: CommonQueryMethods, environmentId: number, limit = 20): Promise<readonly HistoryEntry[]> {
  return db.any(sql.type(HistoryEntry)`
    SELECT id, environment_id, generation, version_id, digest, action, result, reason, message, rollback_of_version_id,
           started_at, finished_at
    FROM environment_history WHERE environment_id = ${environmentId} ORDER BY id DESC LIMIT ${limit}`).then(parseRows(HistoryEntry));
}
