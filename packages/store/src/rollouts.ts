/**
 * Rollout recording: the reconciler's writes after a claim. The start of a rollout and the outcome of a reconcile
 * (status, observed state, the history row, outbox messages, the next attempt, the lease release, a deletion) are
 * each written in one transaction, for a batch of environments at once.
 *
 * Every write is fenced by `lease_owner`: a replica whose lease was taken over writes nothing, and a write retried
 * after a lost connection finds the lease already released and writes nothing twice.
 */
import {
  type Condition,
  type HistoryReason,
  type OutboxMessage,
  REASONS,
  ROLLOUT_RESULTS,
  type RolloutResult,
  type RolloutStart,
  type StatusUpdate,
} from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { insertOutboxRows, type NewOutboxRow } from './outbox.js';
import { ConditionsColumn, int8, parseRows } from './rows.js';

interface NewHistoryRow extends Pick<RolloutStart, 'generation' | 'versionId' | 'digest' | 'action' | 'reason' | 'message' | 'rollbackOfVersionId'> {
  environmentId: number;
  tenantId: number;
  /** ISO time the rollout began; null: now. */
  startedAt: string | null;
}

/** Inserts rows in one statement; returns environment id → new row id. */
async function insertHistoryRows(db: CommonQueryMethods, rows: readonly NewHistoryRow[]): Promise<Map<number, number>> {
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

interface HistoryUpdate {
  id: number;
  result: RolloutResult;
  reason: HistoryReason | null;
  message: string | null;
}

/** Moves rows to a new result; a row that leaves `in_progress` gets its finish time. */
async function updateHistoryRows(db: CommonQueryMethods, rows: readonly HistoryUpdate[]): Promise<void> {
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

const Fenced = z.object({
  id: int8,
  tenant_id: int8,
  generation: int8,
  rollout_history_id: int8.nullable(),
  history_generation: int8.nullable(),
  history_result: z.enum(ROLLOUT_RESULTS).nullable(),
  conditions: ConditionsColumn,
});

const isInvalidVersion = (c: Condition) => c.type === 'Stalled' && c.reason === REASONS.InvalidVersion;

/**
 * The reconciler computes conditions from the row it claimed; packages/source may meanwhile have set or cleared the
 * Stalled condition with reason InvalidVersion, which it alone owns. Merged here under the row lock: theirs is kept.
 */
export function mergeConditions(current: readonly Condition[], mine: readonly Condition[]): Condition[] {
  const theirs = current.filter(isInvalidVersion);
  const kept = mine.filter((c) => !isInvalidVersion(c) && !(theirs.length > 0 && c.type === 'Stalled'));
  return [...kept, ...theirs];
}

async function lockFenced(db: CommonQueryMethods, owner: string, ids: readonly number[]) {
  return db.any(sql.type(Fenced)`
    SELECT e.id, e.tenant_id, e.generation, e.rollout_history_id, h.generation AS history_generation, h.result AS history_result,
           e.conditions
    FROM environments e LEFT JOIN environment_history h ON h.id = e.rollout_history_id
    WHERE e.id = ANY(${sql.array(ids, 'int8')}) AND e.lease_owner = ${owner}
    ORDER BY e.id
    FOR UPDATE OF e`).then(parseRows(Fenced));
}

const dedupeKey = (m: OutboxMessage, envId: number, historyId: number | null, generation: number) =>
  historyId !== null ? `${m.kind}:h${historyId}:${m.state}` : `${m.kind}:e${envId}:g${generation}:${m.state}`;

type FencedRow = z.output<typeof Fenced>;

/**
 * Opens the history rows of rollouts that start: a retried rollout of the same generation reuses its open row; an
 * unfinished row of an older generation is superseded. Returns environment id → history row id.
 */
async function openRollouts(
  tx: CommonQueryMethods,
  fenced: readonly FencedRow[],
  starts: ReadonlyMap<number, RolloutStart>,
): Promise<Map<number, number>> {
  const reuse = new Map<number, number>();
  const inserts: NewHistoryRow[] = [];
  const updates: HistoryUpdate[] = [];
  for (const f of fenced) {
    const s = starts.get(f.id);
    if (!s) continue;
    const open = f.history_result === 'in_progress' || f.history_result === 'failed';
    if (f.rollout_history_id !== null && open && f.history_generation === s.generation) {
      reuse.set(f.id, f.rollout_history_id);
      updates.push({ id: f.rollout_history_id, result: 'in_progress', reason: s.reason, message: s.message });
      continue;
    }
    if (f.rollout_history_id !== null && open) {
      updates.push({ id: f.rollout_history_id, result: 'superseded', reason: REASONS.Superseded, message: `superseded by generation ${s.generation}` });
    }
    inserts.push({
      environmentId: f.id,
      tenantId: f.tenant_id,
      generation: s.generation,
      versionId: s.versionId,
      digest: s.digest,
      action: s.action,
      reason: s.reason,
      message: s.message,
      rollbackOfVersionId: s.rollbackOfVersionId,
      startedAt: s.startedAt ?? null,
    });
  }
  await updateHistoryRows(tx, updates);
  const inserted = await insertHistoryRows(tx, inserts);
  return new Map([...reuse, ...inserted]);
}

function outboxRows(
  f: FencedRow,
  messages: readonly OutboxMessage[],
  historyId: number | null,
  generation: number,
  environmentId: number | null,
): NewOutboxRow[] {
  return messages.map((m) => ({
    tenantId: f.tenant_id,
    environmentId,
    kind: m.kind,
    payload: { ...m.payload, historyId },
    dedupeKey: dedupeKey(m, f.id, historyId, generation),
  }));
}

/**
 * Records that rollouts start (for rollouts that take a while, so that Progressing shows while they run): the
 * conditions, the history rows (openRollouts) and the outbox messages. Returns environment id → history row id for
 * the environments this replica still holds.
 */
export async function recordRolloutStarts(
  pool: DatabasePool,
  owner: string,
  starts: readonly RolloutStart[],
): Promise<Map<number, number>> {
  if (starts.length === 0) return new Map();
  return pool.transaction(async (tx) => {
    const fenced = await lockFenced(tx, owner, starts.map((s) => s.id));
    const byId = new Map(starts.map((s) => [s.id, s]));
    const historyIds = await openRollouts(tx, fenced, byId);
    const rows = fenced.flatMap((f) => {
      const s = byId.get(f.id);
      const historyId = historyIds.get(f.id);
      return s && historyId !== undefined ? [{ id: f.id, historyId, conditions: mergeConditions(f.conditions, s.conditions) }] : [];
    });
    await tx.query(sql.unsafe`
      UPDATE environments e SET conditions = x.conditions, rollout_history_id = x."historyId", updated_at = now()
      FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x(id bigint, "historyId" bigint, conditions jsonb)
      WHERE e.id = x.id`);
    await insertOutboxRows(
      tx,
      fenced.flatMap((f) => {
        const s = byId.get(f.id);
        return s ? outboxRows(f, s.outbox, historyIds.get(f.id) ?? null, s.generation, f.id) : [];
      }),
    );
    return historyIds;
  });
}

/**
 * Writes the outcomes of a batch of reconciles in one transaction: status, history, outbox, next attempt, lease
 * release, deletions. Returns the ids written (those whose lease this replica still held).
 */
export async function recordOutcomes(pool: DatabasePool, owner: string, outcomes: readonly StatusUpdate[]): Promise<number[]> {
  if (outcomes.length === 0) return [];
  return pool.transaction(async (tx) => {
    const fenced = await lockFenced(tx, owner, outcomes.map((o) => o.id));
    if (fenced.length === 0) return [];
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    const held = fenced.flatMap((f) => {
      const o = byId.get(f.id);
      return o ? [{ f, o }] : [];
    });
    const starts = new Map(held.flatMap(({ o }) => (o.start ? [[o.id, o.start] as const] : [])));
    const opened = await openRollouts(tx, fenced, starts);
    const historyOf = (f: FencedRow) => opened.get(f.id) ?? f.rollout_history_id;
    await updateHistoryRows(
      tx,
      held.flatMap(({ f, o }) => {
        const h = historyOf(f);
        return o.history && h !== null ? [{ id: h, result: o.history.result, reason: o.history.reason, message: o.history.message }] : [];
      }),
    );
    await insertOutboxRows(
      tx,
      held.flatMap(({ f, o }) => [
        ...outboxRows(f, o.start?.outbox ?? [], historyOf(f), o.generation, o.deleted ? null : f.id),
        ...outboxRows(f, o.outbox ?? [], historyOf(f), o.generation, o.deleted ? null : f.id),
      ]),
    );
    const rows = held
      .filter(({ o }) => !o.deleted)
      .map(({ f, o }) => ({
        id: f.id,
        generation: o.generation,
        delayMs: o.nextAttemptInMs,
        conditions: o.conditions ? mergeConditions(f.conditions, o.conditions) : null,
        setObserved: o.observed !== undefined,
        observedGeneration: o.observed?.generation ?? null,
        observedDigest: o.observed?.digest ?? null,
        observedVersionId: o.observed?.versionId ?? null,
        setUrl: o.url !== undefined,
        url: o.url ?? null,
        failureCount: o.failureCount ?? null,
        historyId: o.history !== undefined && o.history.result !== 'failed' ? null : historyOf(f),
      }));
    if (rows.length > 0) {
      await tx.query(sql.unsafe`
        UPDATE environments e
        SET conditions = COALESCE(x.conditions, e.conditions),
            observed_generation = CASE WHEN x."setObserved" THEN x."observedGeneration" ELSE e.observed_generation END,
            observed_digest = CASE WHEN x."setObserved" THEN x."observedDigest" ELSE e.observed_digest END,
            observed_version_id = CASE WHEN x."setObserved" THEN x."observedVersionId" ELSE e.observed_version_id END,
            url = CASE WHEN x."setUrl" THEN x.url ELSE e.url END,
            failure_count = COALESCE(x."failureCount", e.failure_count),
            rollout_history_id = x."historyId",
            next_attempt_at = CASE
              WHEN e.generation <> x.generation THEN now()
              WHEN x."delayMs" IS NULL THEN 'infinity'
              ELSE now() + x."delayMs" * interval '1 millisecond' END,
            lease_owner = NULL,
            lease_expires_at = NULL,
            last_reconciled_at = now(),
            updated_at = CASE WHEN x.conditions IS NULL AND NOT x."setObserved" THEN e.updated_at ELSE now() END
        FROM jsonb_to_recordset(${sql.jsonb(rows as never)}) AS x(
          id bigint, generation bigint, "delayMs" float8, conditions jsonb, "setObserved" boolean,
          "observedGeneration" bigint, "observedDigest" text, "observedVersionId" bigint, "setUrl" boolean, url text,
          "failureCount" integer, "historyId" bigint)
        WHERE e.id = x.id`);
    }
    const deletions = held.filter(({ o }) => o.deleted).map(({ f }) => f.id);
    if (deletions.length > 0) {
      // A teardown frees a slot of its repository (the local target's cap) and of its organization (the plan's preview
      // limit): environments stalled over either try again.
      await tx.query(sql.unsafe`
        UPDATE environments w SET next_attempt_at = now()
        WHERE w.tenant_id IN (SELECT tenant_id FROM environments WHERE id = ANY(${sql.array(deletions, 'int8')}))
          AND w.id <> ALL(${sql.array(deletions, 'int8')}) AND NOT w.suspended
          AND w.conditions @> ${sql.jsonb([{ type: 'Stalled', status: 'True', reason: REASONS.QuotaExceeded }])}`);
      await tx.query(sql.unsafe`DELETE FROM environments WHERE id = ANY(${sql.array(deletions, 'int8')})`);
    }
    return held.map(({ f }) => f.id);
  });
}

