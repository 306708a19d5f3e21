/**
 * The desired half of `environments`, written by @wharf/source (and suspend/resume, by whoever asks): which version
 * each environment should run, the `Stalled`/`InvalidVersion` condition, deletion requests. Claims, leases,
 * observed state, the other conditions, history and the outbox belong to the reconciler (claims.ts, rollouts.ts).
 *
 * Every change of desired state bumps `generation`, makes the row due now (not before a live lease expires) and
 * sends `NOTIFY wharf_environments, '<id>'`, all in the caller's transaction.
 */
import { type Condition, DRIFT_MODES, type DriftMode, type EnvironmentIdentity } from '@wharf/contracts';
import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { ENVIRONMENTS_CHANNEL } from './channels.js';
import { ConditionsColumn, EnvironmentKey, IdRow, int8, jsonb, parseOne, parseRow, parseRows, SpecColumn } from './rows.js';
import { repositoryFilter, type RepositoryScope, type TenantScope } from './scope.js';

export const DesiredEnvironment = EnvironmentKey.extend({
  branch: z.string().nullable(),
  pr_number: int8.nullable(),
  target: z.string(),
  drift_mode: z.enum(DRIFT_MODES),
  desired_version_id: int8.nullable(),
  desired_digest: z.string().nullable(),
  desired_spec: SpecColumn,
  generation: int8,
  conditions: ConditionsColumn,
  deletion_requested_at: z.string().nullable(),
  suspended: z.boolean(),
});
export type DesiredEnvironment = z.infer<typeof DesiredEnvironment>;

const columns = sql.fragment`id, tenant_id, repository_id, app, name, kind, branch, pr_number, target, drift_mode,
  desired_version_id, desired_digest, desired_spec, generation, conditions, deletion_requested_at, suspended`;

/** Due now, but never before a live lease runs out: the holder is still working on the previous generation. */
const dueNow = sql.fragment`GREATEST(now(), CASE WHEN environments.lease_expires_at > now() THEN environments.lease_expires_at END)`;

/** Locks and returns one environment row for the rest of the transaction. */
export async function lockEnvironment(
  tx: DatabaseTransactionConnection,
  scope: RepositoryScope,
  app: string,
  name: string,
): Promise<DesiredEnvironment | null> {
  return tx
    .maybeOne(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE ${repositoryFilter(scope)} AND app = ${app} AND name = ${name} FOR UPDATE`)
    .then(parseRow(DesiredEnvironment));
}

/** Locks and returns every app's environment of one name in a repository (one branch's or pull request's). */
export async function lockEnvironmentsNamed(
  tx: DatabaseTransactionConnection,
  scope: RepositoryScope,
  name: string,
): Promise<readonly DesiredEnvironment[]> {
  return tx
    .any(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE ${repositoryFilter(scope)} AND name = ${name} ORDER BY app FOR UPDATE`)
    .then(parseRows(DesiredEnvironment));
}

/** Locks and returns a pull request's preview environments. */
export async function lockPreviewEnvironments(
  tx: DatabaseTransactionConnection,
  scope: RepositoryScope,
  prNumber: number,
): Promise<readonly DesiredEnvironment[]> {
  return tx
    .any(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE ${repositoryFilter(scope)} AND pr_number = ${prNumber} AND kind = 'preview'
    ORDER BY app FOR UPDATE`)
    .then(parseRows(DesiredEnvironment));
}

/** Every environment of a repository. */
export async function listRepositoryEnvironments(db: CommonQueryMethods, scope: RepositoryScope): Promise<readonly DesiredEnvironment[]> {
  return db
    .any(sql.type(DesiredEnvironment)`SELECT ${columns} FROM environments WHERE ${repositoryFilter(scope)} ORDER BY app, name`)
    .then(parseRows(DesiredEnvironment));
}

/** The environments a branch (not a pull request) drives. */
export async function listBranchEnvironments(db: CommonQueryMethods, scope: RepositoryScope, branch: string): Promise<readonly DesiredEnvironment[]> {
  return db
    .any(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE ${repositoryFilter(scope)} AND branch = ${branch} AND pr_number IS NULL ORDER BY app, name`)
    .then(parseRows(DesiredEnvironment));
}

export interface DesiredInput extends Omit<EnvironmentIdentity, 'id'> {
  driftMode: DriftMode;
  /** null: the environment exists but has no valid version yet. */
  versionId: number | null;
  digest: string | null;
  spec: unknown;
  conditions: readonly Condition[];
}

/**
 * Creates the environment or moves it to a new desired version: bumps generation, makes it due, cancels a pending
 * deletion and notifies. Returns the new generation.
 */
export async function writeDesired(tx: DatabaseTransactionConnection, input: DesiredInput): Promise<{ id: number; generation: number }> {
  const Written = z.object({ id: int8, generation: int8 });
  return tx
    .one(sql.type(Written)`
    WITH up AS (
      INSERT INTO environments (tenant_id, repository_id, app, name, kind, branch, pr_number, target, drift_mode,
        desired_version_id, desired_digest, desired_spec, conditions)
      VALUES (${input.tenantId}, ${input.repositoryId}, ${input.app}, ${input.name}, ${input.kind}, ${input.branch}, ${input.prNumber},
        ${input.target}, ${input.driftMode}, ${input.versionId}, ${input.digest}, ${jsonb(input.spec)}, ${jsonb(input.conditions)})
      ON CONFLICT (repository_id, app, name) DO UPDATE SET
        kind = EXCLUDED.kind, branch = EXCLUDED.branch, pr_number = EXCLUDED.pr_number, target = EXCLUDED.target,
        drift_mode = EXCLUDED.drift_mode, desired_version_id = EXCLUDED.desired_version_id,
        desired_digest = EXCLUDED.desired_digest, desired_spec = EXCLUDED.desired_spec, conditions = EXCLUDED.conditions,
        deletion_requested_at = NULL, generation = environments.generation + 1,
        next_attempt_at = ${dueNow}, updated_at = now()
      WHERE environments.tenant_id = EXCLUDED.tenant_id
      RETURNING id, generation
    )
    SELECT id, generation FROM up, LATERAL (SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, up.id::text)) n`)
    .then(parseOne(Written));
}

/** Replaces the conditions list (the caller changed only the condition it owns, under the row lock). */
export async function writeConditions(db: CommonQueryMethods, scope: TenantScope, id: number, conditions: readonly Condition[]): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE environments SET conditions = ${jsonb(conditions)}, updated_at = now() WHERE tenant_id = ${scope.tenantId} AND id = ${id}`);
}

/** Asks the reconciler to tear the environment down (it deletes the row when done). False when already asked. */
export async function requestDeletion(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<boolean> {
  const row = await db.maybeOne(sql.unsafe`
    WITH up AS (
      UPDATE environments SET deletion_requested_at = now(), generation = generation + 1, next_attempt_at = ${dueNow}, updated_at = now()
      WHERE tenant_id = ${scope.tenantId} AND id = ${id} AND deletion_requested_at IS NULL
      RETURNING id
    )
    SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, up.id::text) FROM up`);
  return row !== null;
}

/** Suspend stops reconciling (leases in flight finish); resume makes the environment due now and wakes replicas. */
export async function setSuspended(db: CommonQueryMethods, scope: TenantScope, id: number, suspended: boolean): Promise<boolean> {
  const row = await db
    .maybeOne(sql.type(IdRow)`
    UPDATE environments
    SET suspended = ${suspended},
        next_attempt_at = CASE WHEN ${suspended} THEN next_attempt_at ELSE GREATEST(now(), COALESCE(lease_expires_at, now())) END,
        failure_count = CASE WHEN ${suspended} THEN failure_count ELSE 0 END,
        updated_at = now()
    WHERE tenant_id = ${scope.tenantId} AND id = ${id}
    RETURNING id`)
    .then(parseRow(IdRow));
  if (row && !suspended) await db.query(sql.unsafe`SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, ${String(id)})`);
  return row !== null;
}

/**
 * Redeploy: a new generation of the same desired state (the reconciler looks again at once, and a runtime that is
 * missing, unhealthy or drifted is put right). Returns the new generation, or null when there is no such environment
 * or it has no version yet.
 */
export async function bumpGeneration(db: CommonQueryMethods, scope: TenantScope, id: number): Promise<number | null> {
  const Row = z.object({ generation: int8 });
  const row = await db
    .maybeOne(sql.type(Row)`
    WITH up AS (
      UPDATE environments SET generation = generation + 1, next_attempt_at = ${dueNow}, updated_at = now()
      WHERE tenant_id = ${scope.tenantId} AND id = ${id} AND desired_version_id IS NOT NULL AND deletion_requested_at IS NULL
      RETURNING id, generation
    )
    SELECT generation FROM up, LATERAL (SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, up.id::text)) n`)
    .then(parseRow(Row));
  return row?.generation ?? null;
}
