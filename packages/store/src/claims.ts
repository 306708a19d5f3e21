/**
 * Claims and leases on `environments`, for the reconciler replicas. Work for every tenant by design: a replica
 * claims whatever is due. A claimed row comes back as an EnvironmentSnapshot, the shape the reconcile steps work on.
 *
 * next_attempt_at moves to the lease expiry on claim: if the replica dies the rows come due again by themselves.
 * Every write after a claim is fenced by `lease_owner` (rollouts.ts).
 */
import { BILLING_PLAN_IDS, BILLING_PLANS, billingPlan, DRIFT_MODES, type EnvironmentSnapshot, parseTargetName } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { ConditionsColumn, EnvironmentKey, IdRow, int8, parseRows, SpecColumn } from './rows.js';

const ClaimedRow = EnvironmentKey.extend({
  branch: z.string().nullable(),
  pr_number: int8.nullable(),
  target: z.string(),
  desired_version_id: int8.nullable(),
  desired_digest: z.string().nullable(),
  desired_spec: SpecColumn,
  generation: int8,
  observed_generation: int8,
  observed_digest: z.string().nullable(),
  observed_version_id: int8.nullable(),
  conditions: ConditionsColumn,
  url: z.string().nullable(),
  failure_count: int8,
  drift_mode: z.enum(DRIFT_MODES),
  deletion_requested: z.boolean(),
  tenant_suspended: z.boolean(),
  billing_paused: z.boolean(),
  preview_limit: int8.nullable(),
  previews_ahead: z.number(),
  tenant_plan: z.string(),
  rollback_of_version_id: int8.nullable(),
});
type ClaimedRow = z.infer<typeof ClaimedRow>;

/** The preview limit of tenant row `t`: its operator override, else its plan's (unknown plans are Free's; NULL: none). */
function previewLimitOf(t: ReturnType<typeof sql.fragment>) {
  const plans = BILLING_PLAN_IDS.map((id) => sql.fragment`(${id}::text, ${BILLING_PLANS[id].limits.previewEnvironments}::int)`);
  return sql.fragment`coalesce(${t}.max_previews, CASE WHEN ${t}.plan = 'enterprise' THEN NULL ELSE
    coalesce((SELECT p.l FROM (VALUES ${sql.join(plans, sql.fragment`, `)}) AS p(id, l) WHERE p.id = ${t}.plan), ${BILLING_PLANS.free.limits.previewEnvironments}) END)`;
}

/**
 * For a preview row `c`: how many of its tenant's live previews (a pull request's or a branch's, whatever its apps)
 * came before it. The first `limit` keep running; later ones wait for a slot.
 */
function previewsAheadOf(c: ReturnType<typeof sql.fragment>) {
  const group = (e: ReturnType<typeof sql.fragment>) => sql.fragment`(${e}.repository_id, coalesce('pr:' || ${e}.pr_number, 'env:' || ${e}.name))`;
  return sql.fragment`CASE WHEN ${c}.kind <> 'preview' THEN 0 ELSE (
    SELECT count(DISTINCT ${group(sql.fragment`o`)})::int FROM environments o
    WHERE o.tenant_id = ${c}.tenant_id AND o.kind = 'preview' AND o.deletion_requested_at IS NULL
      AND ${group(sql.fragment`o`)} <> ${group(c)}
      AND o.id < (SELECT min(s.id) FROM environments s WHERE s.tenant_id = ${c}.tenant_id AND s.kind = 'preview'
                  AND ${group(sql.fragment`s`)} = ${group(c)})) END`;
}

function billingHoldOf(r: ClaimedRow): EnvironmentSnapshot['billingHold'] {
  if (r.kind !== 'preview') return null;
  if (r.billing_paused) {
    return { reason: 'BillingPastDue', message: 'payment is past due beyond the grace period: previews are paused (data kept) until the open invoice is paid; production keeps running' };
  }
  if (r.preview_limit !== null && r.previews_ahead >= r.preview_limit) {
    return {
      reason: 'QuotaExceeded',
      message: `the ${billingPlan(r.tenant_plan).name} plan runs ${r.preview_limit} preview${r.preview_limit === 1 ? '' : 's'} at once and all are in use: tear one down or upgrade the plan (docs/billing.md)`,
    };
  }
  return null;
}

/** A claimed row as the reconcile steps see it. */
export function toSnapshot(r: ClaimedRow): EnvironmentSnapshot {
  return {
    identity: {
      id: r.id,
      tenantId: r.tenant_id,
      repositoryId: r.repository_id,
      app: r.app,
      name: r.name,
      kind: r.kind,
      branch: r.branch,
      prNumber: r.pr_number,
      target: r.target,
    },
    generation: r.generation,
    desired: {
      versionId: r.desired_version_id,
      digest: r.desired_digest,
      spec: r.desired_spec,
      rollbackOfVersionId: r.rollback_of_version_id,
    },
    observed: { generation: r.observed_generation, digest: r.observed_digest, versionId: r.observed_version_id, url: r.url },
    conditions: r.conditions,
    driftMode: r.drift_mode,
    deletionRequested: r.deletion_requested,
    tenantSuspended: r.tenant_suspended,
    billingHold: billingHoldOf(r),
    failureCount: r.failure_count,
  };
}

/**
 * Claims up to `limit` due environments of every tenant (not suspended, next_attempt_at passed) with SKIP LOCKED, so
 * replicas never wait on each other, and sets the lease.
 */
export async function claimDueEnvironments(
  db: CommonQueryMethods,
  input: { owner: string; leaseMs: number; limit: number; exclude?: readonly number[] },
): Promise<EnvironmentSnapshot[]> {
  const exclude = input.exclude ?? [];
  const rows = await db.any(sql.type(ClaimedRow)`
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
           t.suspended_at IS NOT NULL AS tenant_suspended,
           t.plan AS tenant_plan,
           EXISTS (SELECT 1 FROM billing_accounts b WHERE b.tenant_id = t.id AND b.previews_paused_at IS NOT NULL) AS billing_paused,
           ${previewLimitOf(sql.fragment`t`)} AS preview_limit,
           CASE WHEN ${previewLimitOf(sql.fragment`t`)} IS NULL THEN 0 ELSE ${previewsAheadOf(sql.fragment`c`)} END AS previews_ahead,
           va.rollback_of_version_id
    FROM claimed c
    JOIN tenants t ON t.id = c.tenant_id
    LEFT JOIN version_apps va ON va.version_id = c.desired_version_id AND va.app = c.app
    ORDER BY c.id`);
  return parseRows(ClaimedRow)(rows).map(toSnapshot);
}

/** Extends the leases of environments still being worked on. Returns the ids whose lease this replica still holds. */
export async function renewLeases(db: CommonQueryMethods, input: { owner: string; ids: readonly number[]; leaseMs: number }): Promise<number[]> {
  if (input.ids.length === 0) return [];
  const rows = await db.any(sql.type(IdRow)`
    UPDATE environments
    SET lease_expires_at = now() + ${input.leaseMs} * interval '1 millisecond',
        next_attempt_at = GREATEST(next_attempt_at, now() + ${input.leaseMs} * interval '1 millisecond')
    WHERE id = ANY(${sql.array(input.ids, 'int8')}) AND lease_owner = ${input.owner}
    RETURNING id`);
  return parseRows(IdRow)(rows).map((r) => r.id);
}

/** Milliseconds until the next environment comes due (0 when one is due now), or null when none is scheduled. */
export async function msUntilNextDue(db: CommonQueryMethods): Promise<number | null> {
  const ms = await db.oneFirst(sql.type(z.object({ ms: z.number().nullable() }))`
    SELECT (extract(epoch FROM (min(next_attempt_at) - now())) * 1000)::float8 AS ms
    FROM environments WHERE NOT suspended AND next_attempt_at < 'infinity'`);
  return ms === null ? null : Math.max(0, ms);
}

/**
 * After a restart of a target that lost runtimes: every environment of that target kind (`local`; `agent` covers
 * `agent:<pool>`) that was not adopted is due now.
 */
export async function requeueTargetKind(db: CommonQueryMethods, kind: string, exceptIds: readonly number[]): Promise<number> {
  if (!parseTargetName(kind)) throw new Error(`"${kind}" is not a target kind`);
  const rows = await db.any(sql.type(IdRow)`
    UPDATE environments SET next_attempt_at = now()
    WHERE (target = ${kind} OR target LIKE ${`${kind}:%`}) AND NOT suspended AND id <> ALL(${sql.array(exceptIds, 'int8')})
      AND next_attempt_at > now() AND lease_owner IS NULL
    RETURNING id`);
  return rows.length;
}
