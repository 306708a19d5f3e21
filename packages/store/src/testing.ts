/**
 * @wharf/store/testing: seeding and raw reads for tests and benchmarks. Real desired state is written by
 * packages/source; these write rows directly so that a test of the reconciler needs no Git repository.
 */
import { DEFAULT_TARGET, ENVIRONMENT_KINDS, type EnvironmentKind, parseConditions } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { ENVIRONMENTS_CHANNEL } from './channels.js';
import { int8, Json, parseRow } from './rows.js';

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
    kind: z.enum(ENVIRONMENT_KINDS).parse(r.kind ?? 'preview'),
    target: r.target ?? DEFAULT_TARGET,
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
 * New desired state as packages/source writes it: bump generation, due now but not before a live lease, NOTIFY.
 * `ids` null: every environment.
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

const EnvironmentState = z.object({
  id: int8,
  tenant_id: int8,
  generation: int8,
  observed_generation: int8,
  observed_digest: z.string().nullable(),
  conditions: Json.transform(parseConditions),
  url: z.string().nullable(),
  failure_count: int8,
  lease_owner: z.string().nullable(),
  lease_expires_at: z.string().nullable(),
  suspended: z.boolean(),
  next_in_ms: z.number().nullable(),
});

/** The raw row, whatever its tenant. */
export async function getEnvironmentState(db: CommonQueryMethods, id: number) {
  return db
    .maybeOne(sql.type(EnvironmentState)`
    SELECT id, tenant_id, generation, observed_generation, observed_digest, conditions, url, failure_count, lease_owner,
           lease_expires_at, suspended,
           CASE WHEN isfinite(next_attempt_at) THEN (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 END AS next_in_ms
    FROM environments WHERE id = ${id}`)
    .then(parseRow(EnvironmentState));
}

/** Benchmarks: how many environments have not converged (observed_generation behind generation). */
export async function countUnconverged(db: CommonQueryMethods, ids?: readonly number[]): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM environments WHERE observed_generation <> generation
    ${ids ? sql.fragment`AND id = ANY(${sql.array(ids, 'int8')})` : sql.fragment``}`);
}

/** Benchmarks: how many environments hold a live lease of `owner`. */
export async function countLeasedBy(db: CommonQueryMethods, owner: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM environments WHERE lease_owner = ${owner} AND lease_expires_at > now()`);
}

/** Tests: every audit entry of every tenant, oldest first. */
export async function listAllAudit(db: CommonQueryMethods) {
  const Row = z.object({ tenant_id: int8.nullable(), actor: z.string(), action: z.string(), subject: z.string().nullable(), reason: z.string(), details: Json });
  return db.any(sql.type(Row)`SELECT tenant_id, actor, action, subject, reason, details FROM audit_log ORDER BY id`).then((rows) => rows.map((r) => Row.parse(r)));
}

export { databaseUrl, withServerLock, databaseExists, createDatabase, renameDatabase, dropDatabase, openConnections } from './server-admin.js';
