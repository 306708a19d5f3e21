/**
 * The desired half of `environments`, written by @wharf/source: which version each environment should run, and the
 * `Stalled`/`InvalidVersion` condition. Claims, leases, observed state, the other conditions, history and the outbox
 * belong to the reconciler.
 *
 * Every change of desired state bumps `generation`, makes the row due now (not before a live lease expires) and
 * sends `NOTIFY wharf_environments, '<id>'`, all in the caller's transaction.
 */
import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import { DRIFT_MODES, type DriftMode, ENVIRONMENT_KINDS, type EnvironmentKind } from '@wharf/contracts';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';

/** int8 columns: numbers whether the pool's type parser gives bigint, string or number. */


export const ENVIRONMENTS_CHANNEL = 'wharf_environments' as const;

export const DesiredEnvironment = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  app: z.string(),
  name: z.string(),
  kind: z.enum(ENVIRONMENT_KINDS),
  branch: z.string().nullable(),
  pr_number: int8.nullable(),
  target: z.string(),
  drift_mode: z.enum(DRIFT_MODES),
  desired_version_id: int8.nullable(),
  desired_digest: z.string().nullable(),
  desired_spec: z.any(),
  generation: int8,
  conditions: z.any(),
  deletion_requested_at: z.string().nullable(),
});
export type DesiredEnvironment = z.infer<typeof DesiredEnvironment>;

const columns = sql.fragment`id, tenant_id, repository_id, app, name, kind, branch, pr_number, target, drift_mode,
  desired_version_id, desired_digest, desired_spec, generation, conditions, deletion_requested_at`;

const jsonb = (value: unknown) => sql.jsonb(JSON.parse(JSON.stringify(value ?? null)));

/** Due now, but never before a live lease runs out: the holder is still working on the previous generation. */
const dueNow = sql.fragment`GREATEST(now(), CASE WHEN environments.lease_expires_at > now() THEN environments.lease_expires_at END)`;

/** Locks and returns one environment row for the rest of the transaction. */
export async function lockEnvironment(
  tx: DatabaseTransactionConnection,
  repositoryId: number,
  app: string,
  name: string,
): Promise<DesiredEnvironment | null> {
  return tx.maybeOne(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE repository_id = ${repositoryId} AND app = ${app} AND name = ${name} FOR UPDATE`).then(parseRow(DesiredEnvironment));
}

/** Locks and returns every app's environment of one name in a repository (one branch's or pull request's). */
export async function lockEnvironmentsNamed(
  tx: DatabaseTransactionConnection,
  repositoryId: number,
  name: string,
): Promise<readonly DesiredEnvironment[]> {
  return tx
    .any(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE repository_id = ${repositoryId} AND name = ${name} ORDER BY app FOR UPDATE`)
    .then(parseRows(DesiredEnvironment));
}

export async function listEnvironments(db: CommonQueryMethods, repositoryId: number): Promise<readonly DesiredEnvironment[]> {
  return db.any(sql.type(DesiredEnvironment)`SELECT ${columns} FROM environments WHERE repository_id = ${repositoryId} ORDER BY app, name`).then(parseRows(DesiredEnvironment));
}

export async function listBranchEnvironments(
  db: CommonQueryMethods,
  repositoryId: number,
  branch: string,
): Promise<readonly DesiredEnvironment[]> {
  return db.any(sql.type(DesiredEnvironment)`
    SELECT ${columns} FROM environments WHERE repository_id = ${repositoryId} AND branch = ${branch} AND pr_number IS NULL ORDER BY app, name`).then(parseRows(DesiredEnvironment));
}

export interface DesiredInput {
  tenantId: number;
  repositoryId: number;
  app: string;
  name: string;
  kind: EnvironmentKind;
  branch: string | null;
  prNumber: number | null;
  target: string;
  driftMode: DriftMode;
  /** null: the environment exists but has no valid version yet. */
  versionId: number | null;
  digest: string | null;
  spec: unknown;
  conditions: unknown[];
}

/**
 * Creates the environment or moves it to a new desired version: bumps generation, makes it due, cancels a pending
 * deletion and notifies. Returns the new generation.
 */
export async function writeDesired(tx: DatabaseTransactionConnection, input: DesiredInput): Promise<{ id: number; generation: number }> {
  return tx.one(sql.type(z.object({ id: int8, generation: int8 }))`
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
      RETURNING id, generation
    )
    SELECT id, generation FROM up, LATERAL (SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, up.id::text)) n`).then(parseOne(z.object({ id: int8, generation: int8 })));
}

/** Replaces the conditions list (the caller changed only the condition it owns, under the row lock). */
export async function writeConditions(db: CommonQueryMethods, id: number, conditions: unknown[]): Promise<void> {
  await db.query(sql.unsafe`UPDATE environments SET conditions = ${jsonb(conditions)}, updated_at = now() WHERE id = ${id}`);
}

/** Asks the reconciler to tear the environment down (it deletes the row when done). */
export async function requestDeletion(db: CommonQueryMethods, id: number): Promise<boolean> {
  const row = await db.maybeOne(sql.unsafe`
    WITH up AS (
      UPDATE environments SET deletion_requested_at = now(), generation = generation + 1, next_attempt_at = ${dueNow}, updated_at = now()
      WHERE id = ${id} AND deletion_requested_at IS NULL
      RETURNING id
    )
    SELECT pg_notify(${ENVIRONMENTS_CHANNEL}, up.id::text) FROM up`);
  return row !== null;
}
