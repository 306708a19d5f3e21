/**
 * The reconciler's side of `environments`: claim due rows under a lease, renew leases, record rollout starts and
 * outcomes (with history and outbox rows in the same transaction), suspend/resume, and the reads behind
 * `wharf status` and the metrics. Desired state is written by packages/source.
 *
 * Every write after a claim is fenced by `lease_owner`: a replica whose lease was taken over writes nothing, and a
 * write retried after a lost connection finds the lease already released and writes nothing twice.
 */
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { DRIFT_MODES, ENVIRONMENT_KINDS, type EnvironmentKind, REASONS } from '@wharf/contracts';
import { z } from 'zod';

/** int8 columns come back as BigInt from slonik 47's type parsers: parse rows to numbers (ids stay far below 2^53). */
import { type HistoryResult, insertHistoryRows, type NewHistoryRow, updateHistoryRows } from './history.js';
import { insertOutboxRows, type NewOutboxRow } from './outbox.js';
import { Json, int8, parseRow, parseRows } from './rows.js';

export const ENVIRONMENTS_CHANNEL = 'wharf_environments';


export const ClaimedEnvironment = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  app: z.string(),
  name: z.string(),
  kind: z.enum(ENVIRONMENT_KINDS),
  branch: z.string().nullable(),
  pr_number: int8.nullable(),
  target: z.string(),
  desired_version_id: int8.nullable(),
  desired_digest: z.string().nullable(),
  desired_spec: Json,
  generation: int8,
  observed_generation: int8,
  observed_digest: z.string().nullable(),
  observed_version_id: int8.nullable(),
  conditions: z.array(z.record(z.unknown())),
  url: z.string().nullable(),
  failure_count: int8,
  drift_mode: z.enum(DRIFT_MODES),
  deletion_requested: z.boolean(),
  rollback_of_version_id: int8.nullable(),
});
export type ClaimedEnvironment = z.infer<typeof ClaimedEnvironment>;

/**
 * Claims up to `limit` due environments (not suspended, next_attempt_at passed) with SKIP LOCKED, so replicas
 * never wait on each other, and sets the lease. next_attempt_at moves to the lease expiry: if this replica dies the
 * rows come due again by themselves.
 */
export async function claimDueEnvironments(
  db: CommonQueryMethods,
  input: { owner: string; leaseMs: number; limit: number; exclude?: readonly number[] },
): Promise<readonly ClaimedEnvironment[]> {
  const exclude = input.exclude ?? [];
  return db.any(sql.type(ClaimedEnvironment)`
    WITH due AS (
      SELECT id FROM environments
      WHERE NOT suspended AND next_attempt_at <= now()
        ${exclude.length > 0 ? sql.fragment`AND id <> ALL(${sql.array(exclude, 'int8')})` : sql.fragment``}
      ORDER BY next_attempt_at
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE environments e
      SET lease_owner = ${input.owner},
          lease_expires_at = now() + ${input.leaseMs} * interval '1 millisecond',
          next_attempt_at = now() + ${input.leaseMs} * interval '1 millisecond'
      FROM due WHERE e.id = due.id
      RETURNING e.*
    )
    SELECT c.id, c.tenant_id, c.repository_id, c.app, c.name, c.kind, c.branch, c.pr_number, c.target,
           c.desired_version_id, c.desired_digest, c.desired_spec, c.generation, c.observed_generation, c.observed_digest,
           c.observed_version_id, c.conditions, c.url, c.failure_count, c.drift_mode,
           c.deletion_requested_at IS NOT NULL AS deletion_requested,
           va.rollback_of_version_id
    FROM claimed c
    LEFT JOIN version_apps va ON va.version_id = c.desired_version_id AND va.app = c.app
    ORDER BY c.id`).then(parseRows(ClaimedEnvironment));
}

/** Extends the leases of environments still being worked on. Returns the ids whose lease this replica still holds. */
export async function renewLeases(
  db: CommonQueryMethods,
  input: { owner: string; ids: readonly number[]; leaseMs: number },
): Promise<number[]> {
  if (input.ids.length === 0) return [];
  const rows = await db.any(sql.type(z.object({ id: int8 }))`
    UPDATE environments
    SET lease_expires_at = now() + ${input.leaseMs} * interval '1 millisecond',
        next_attempt_at = GREATEST(next_attempt_at, now() + ${input.leaseMs} * interval '1 millisecond')
    WHERE id = ANY(${sql.array(input.ids, 'int8')}) AND lease_owner = ${input.owner}
    RETURNING id`);
  return rows.map((r) => Number(r.id));
}

/** Milliseconds until the next environment comes due (0 when one is due now), or null when none is scheduled. */
export async function msUntilNextDue(db: CommonQueryMethods): Promise<number | null> {
  const ms = await db.oneFirst(sql.type(z.object({ ms: int8.nullable() }))`
    SELECT (extract(epoch FROM (min(next_attempt_at) - now())) * 1000)::float8 AS ms
    FROM environments WHERE NOT suspended AND next_attempt_at < 'infinity'`);
  return ms === null ? null : Math.max(0, ms);
}

const Fenced = z.object({
  id: int8,
  tenant_id: int8,
  generation: int8,
  rollout_history_id: int8.nullable(),
  history_generation: int8.nullable(),
  history_result: z.string().nullable(),
  conditions: z.array(z.record(z.unknown())),
});

const isInvalidVersion = (c: unknown) =>
  typeof c === 'object' && c !== null && (c as { type?: unknown }).type === 'Stalled' && (c as { reason?: unknown }).reason === 'InvalidVersion';

/**
 * The reconciler computes conditions from the row it claimed; packages/source may meanwhile have set or cleared the
 * Stalled condition with reason InvalidVersion, which it alone owns. Merged here under the row lock: theirs is kept.
 */
export function mergeConditions(current: readonly object[], mine: readonly object[]): object[] {
  const theirs = current.filter(isInvalidVersion);
  const kept = mine.filter((c) => !isInvalidVersion(c) && !(theirs.length > 0 && (c as { type?: unknown }).type === 'Stalled'));
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

export interface OutboxMessage {
  kind: string;
  /** Part of the dedupe key: one message per (rollout, state). */
  state: string;
  payload: Record<string, unknown>;
}

export interface RolloutStart {
  id: number;
  generation: number;
  versionId: number | null;
  digest: string | null;
  action: string;
  reason: string;
  message: string;
  rollbackOfVersionId: number | null;
  conditions: readonly object[];
  outbox: readonly OutboxMessage[];
  /** When the rollout began (defaults to the time of the write). */
  startedAt?: string;
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
  const updates: { id: number; result: HistoryResult; reason: string | null; message: string | null }[] = [];
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

export interface ReconcileOutcome {
  id: number;
  /** The generation this reconcile worked on; if desired moved on meanwhile, the row is due again at once. */
  generation: number;
  /** Next attempt after this many ms; null: not until desired state changes (stalled). */
  nextAttemptInMs: number | null;
  conditions?: readonly object[];
  observed?: { generation: number; digest: string | null; versionId: number | null };
  url?: string | null;
  failureCount?: number;
  /** Finish the rollout's history row with this result (`failed` keeps it open for the retry). */
  history?: { result: HistoryResult; reason: string; message: string };
  outbox?: readonly OutboxMessage[];
  /** The target confirmed deletion: remove the row. */
  deleted?: boolean;
  /** A rollout that finished before its start was recorded: open its history row and send its start messages here. */
  start?: RolloutStart;
}

/**
 * Writes the outcomes of a batch of reconciles in one transaction: status, history, outbox, next attempt, lease
 * release, deletions. Returns the ids written (those whose lease this replica still held).
 */
export async function recordOutcomes(pool: DatabasePool, owner: string, outcomes: readonly ReconcileOutcome[]): Promise<number[]> {
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
      await tx.query(sql.unsafe`DELETE FROM environments WHERE id = ANY(${sql.array(deletions, 'int8')})`);
    }
    return held.map(({ f }) => f.id);
  });
}

/** After a restart of a target that lost runtimes: everything on it that was not adopted is due now. */
export async function requeueTarget(db: CommonQueryMethods, target: string, exceptIds: readonly number[]): Promise<number> {
  const rows = await db.any(sql.type(z.object({ id: int8 }))`
    UPDATE environments SET next_attempt_at = now()
    WHERE target = ${target} AND NOT suspended AND id <> ALL(${sql.array(exceptIds, 'int8')})
      AND next_attempt_at > now() AND lease_owner IS NULL
    RETURNING id`);
  return rows.length;
}

export const EnvironmentSummary = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  app: z.string(),
  name: z.string(),
  kind: z.enum(ENVIRONMENT_KINDS),
  target: z.string(),
  generation: int8,
  observed_generation: int8,
  desired_digest: z.string().nullable(),
  desired_sha: z.string().nullable(),
  desired_spec: Json,
  observed_digest: z.string().nullable(),
  observed_sha: z.string().nullable(),
  observed_version_id: int8.nullable(),
  observed_spec: Json,
  conditions: z.array(z.record(z.unknown())),
  url: z.string().nullable(),
  suspended: z.boolean(),
  drift_mode: z.enum(DRIFT_MODES),
  deletion_requested: z.boolean(),
  failure_count: int8,
  lease_owner: z.string().nullable(),
  last_reconciled_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type EnvironmentSummary = z.infer<typeof EnvironmentSummary>;

const summaryColumns = sql.fragment`
  e.id, e.tenant_id, e.repository_id, e.app, e.name, e.kind, e.target, e.generation, e.observed_generation,
  e.desired_digest, e.desired_spec->'version'->>'sha' AS desired_sha, e.desired_spec,
  e.observed_digest, ov.sha AS observed_sha, e.observed_version_id, ova.spec AS observed_spec,
  e.conditions, e.url, e.suspended, e.drift_mode, e.deletion_requested_at IS NOT NULL AS deletion_requested,
  e.failure_count, e.lease_owner, e.last_reconciled_at, e.created_at, e.updated_at`;
const summaryFrom = sql.fragment`
  FROM environments e
  LEFT JOIN versions ov ON ov.id = e.observed_version_id
  LEFT JOIN version_apps ova ON ova.version_id = e.observed_version_id AND ova.app = e.app`;

/** `wharf status`: every environment, optionally of one tenant, by app and name. */
export async function listEnvironments(db: CommonQueryMethods, filter: { tenantId?: number } = {}): Promise<readonly EnvironmentSummary[]> {
  return db.any(sql.type(EnvironmentSummary)`
    SELECT ${summaryColumns} ${summaryFrom}
    ${filter.tenantId !== undefined ? sql.fragment`WHERE e.tenant_id = ${filter.tenantId}` : sql.fragment``}
    ORDER BY e.app, e.name`).then(parseRows(EnvironmentSummary));
}

/** Environments named `name`, of `app` when given (the CLI resolves `ENV`, `APP/ENV` and `ENV--APP`). */
export async function findEnvironmentsByName(
  db: CommonQueryMethods,
  input: { name: string; app?: string; tenantId?: number },
): Promise<readonly EnvironmentSummary[]> {
  return db.any(sql.type(EnvironmentSummary)`
    SELECT ${summaryColumns} ${summaryFrom}
    WHERE e.name = ${input.name}
      ${input.app !== undefined ? sql.fragment`AND e.app = ${input.app}` : sql.fragment``}
      ${input.tenantId !== undefined ? sql.fragment`AND e.tenant_id = ${input.tenantId}` : sql.fragment``}
    ORDER BY e.app`).then(parseRows(EnvironmentSummary));
}

/** Suspend stops reconciling (leases in flight finish); resume makes the environment due now and wakes replicas. */
export async function setSuspended(db: CommonQueryMethods, id: number, suspended: boolean): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ id: int8 }))`
    UPDATE environments
    SET suspended = ${suspended},
        next_attempt_at = CASE WHEN ${suspended} THEN next_attempt_at ELSE GREATEST(now(), COALESCE(lease_expires_at, now())) END,
        failure_count = CASE WHEN ${suspended} THEN failure_count ELSE 0 END,
        updated_at = now()
    WHERE id = ${id}
    RETURNING id`);
  if (row && !suspended) await db.query(sql.unsafe`SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, ${String(id)})`);
  return row !== null;
}

export const EnvironmentCounts = z.object({
  total: int8,
  due: int8,
  suspended: int8,
  ready: int8,
  progressing: int8,
  degraded: int8,
  stalled: int8,
});
export type EnvironmentCounts = z.infer<typeof EnvironmentCounts>;

/** One query behind the `wharf_environments{condition}` and `wharf_queue_depth` gauges. */
export async function countEnvironments(db: CommonQueryMethods): Promise<EnvironmentCounts> {
  const isTrue = (type: string) =>
    sql.fragment`count(*) FILTER (WHERE e.conditions @> ${sql.jsonb([{ type, status: 'True' }])})::int`;
  return db.one(sql.type(EnvironmentCounts)`
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE NOT e.suspended AND e.next_attempt_at <= now())::int AS due,
           count(*) FILTER (WHERE e.suspended)::int AS suspended,
           ${isTrue('Ready')} AS ready, ${isTrue('Progressing')} AS progressing,
           ${isTrue('Degraded')} AS degraded, ${isTrue('Stalled')} AS stalled
    FROM environments e`).then((r) => EnvironmentCounts.parse(r));
}

// ---- Seeding for tests and benchmarks (real desired state is written by packages/source) ----

export interface SeedEnvironment {
  tenantId: number;
  repositoryId: number;
  app: string;
  name: string;
  kind?: EnvironmentKind;
  target?: string;
  digest: string | null;
  spec: unknown;
  versionId?: number | null;
  /** Seed as already converged at generation 1 with this digest observed, next due after `dueInMs`. */
  converged?: { dueInMs: number };
}

/** Bulk insert (one statement); returns the new ids in input order. */
export async function seedEnvironments(db: CommonQueryMethods, rows: readonly SeedEnvironment[]): Promise<number[]> {
  const input = rows.map((r, ord) => ({
    ord,
    tenantId: r.tenantId,
    repositoryId: r.repositoryId,
    app: r.app,
    name: r.name,
    kind: r.kind ?? 'preview',
    target: r.target ?? 'local',
    digest: r.digest,
    spec: r.spec ?? null,
    versionId: r.versionId ?? null,
    converged: r.converged !== undefined,
    dueInMs: r.converged?.dueInMs ?? 0,
  }));
  const ids = await db.any(sql.type(z.object({ id: int8, ord: int8 }))`
    WITH x AS (
      SELECT * FROM jsonb_to_recordset(${sql.jsonb(input as never)}) AS x(
        ord int, "tenantId" bigint, "repositoryId" bigint, app text, name text, kind text, target text, digest text,
        spec jsonb, "versionId" bigint, converged boolean, "dueInMs" float8)
    ), ins AS (
      INSERT INTO environments (tenant_id, repository_id, app, name, kind, target, desired_digest, desired_spec,
        desired_version_id, observed_generation, observed_digest, observed_version_id, conditions, next_attempt_at)
      SELECT "tenantId", "repositoryId", app, name, kind, target, digest, spec, "versionId",
        CASE WHEN converged THEN 1 ELSE 0 END,
        CASE WHEN converged THEN digest END,
        CASE WHEN converged THEN "versionId" END,
        CASE WHEN converged THEN jsonb_build_array(jsonb_build_object('type', 'Ready', 'status', 'True',
          'reason', 'RolloutSucceeded', 'message', 'seeded', 'lastTransitionTime', now())) ELSE '[]'::jsonb END,
        now() + "dueInMs" * interval '1 millisecond'
      FROM x ORDER BY ord
      RETURNING id, app, name, repository_id
    )
    SELECT ins.id, x.ord FROM ins JOIN x ON x.app = ins.app AND x.name = ins.name AND x."repositoryId" = ins.repository_id`);
  const byOrd = new Map(ids.map((r) => [Number(r.ord), Number(r.id)]));
  return input.map((r) => byOrd.get(r.ord) ?? 0);
}

/**
 * New desired state as packages/source writes it (tests and benchmarks): bump generation, due now but not before
 * a live lease, NOTIFY. `ids` null: every environment.
 */
export async function setDesiredForTest(
  db: CommonQueryMethods,
  input: { ids: readonly number[] | null; digest: string | null; spec: unknown; versionId?: number | null },
): Promise<void> {
  await db.query(sql.unsafe`
    WITH bumped AS (
      UPDATE environments
      SET desired_digest = ${input.digest}, desired_spec = ${sql.jsonb((input.spec ?? null) as never)},
          desired_version_id = ${input.versionId ?? null},
          generation = generation + 1,
          next_attempt_at = GREATEST(now(), COALESCE(lease_expires_at, now())), updated_at = now()
      ${input.ids === null ? sql.fragment`` : sql.fragment`WHERE id = ANY(${sql.array(input.ids, 'int8')})`}
      RETURNING id
    )
    SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, CASE WHEN count(*) = 1 THEN min(id)::text ELSE '*' END) FROM bumped`);
}

/** Teardown as packages/source requests it (tests): deletion requested, due now, NOTIFY. */
export async function requestDeletionForTest(db: CommonQueryMethods, id: number): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE environments SET deletion_requested_at = now(), generation = generation + 1,
      next_attempt_at = GREATEST(now(), COALESCE(lease_expires_at, now()))
    WHERE id = ${id}`);
  await db.query(sql.unsafe`SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, ${String(id)})`);
}

const EnvironmentState = z.object({
  id: int8,
  generation: int8,
  observed_generation: int8,
  observed_digest: z.string().nullable(),
  conditions: z.array(z.record(z.unknown())),
  url: z.string().nullable(),
  failure_count: int8,
  lease_owner: z.string().nullable(),
  suspended: z.boolean(),
  next_in_ms: z.number().nullable(),
});

/** Raw row read for tests and benchmarks. */
export async function getEnvironmentState(db: CommonQueryMethods, id: number) {
  return db.maybeOne(sql.type(EnvironmentState)`
    SELECT id, generation, observed_generation, observed_digest, conditions, url, failure_count, lease_owner, suspended,
           CASE WHEN isfinite(next_attempt_at) THEN (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 END AS next_in_ms
    FROM environments WHERE id = ${id}`).then(parseRow(EnvironmentState));
}

/** Benchmarks: how many environments have not converged (observed_generation behind generation). */
export async function countUnconverged(db: CommonQueryMethods, ids?: readonly number[]): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: int8 }))`
    SELECT count(*)::int AS n FROM environments WHERE observed_generation <> generation
    ${ids ? sql.fragment`AND id = ANY(${sql.array(ids, 'int8')})` : sql.fragment``}`);
}

/** Benchmarks: how many environments hold a live lease of `owner`. */
export async function countLeasedBy(db: CommonQueryMethods, owner: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM environments WHERE lease_owner = ${owner} AND lease_expires_at > now()`);
}
