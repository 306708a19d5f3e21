/**
 * Read models of `environments`: what `wharf status`, the live summary, the metrics, the GitHub App's reports and
 * the API show. Every read names its scope (scope.ts); the metrics count every tenant's environments by design.
 */
import { DRIFT_MODES } from '@wharf/contracts';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { ConditionsColumn, EnvironmentKey, int8, parseOne, parseRow, parseRows, SpecColumn } from './rows.js';
import { type ReadScope, repositoryFilter, type RepositoryScope, restrictedFilter, type RestrictedScope, tenantFilter, type TenantScope } from './scope.js';

export const EnvironmentSummary = EnvironmentKey.extend({
  target: z.string(),
  branch: z.string().nullable(),
  pr_number: int8.nullable(),
  generation: int8,
  observed_generation: int8,
  desired_digest: z.string().nullable(),
  desired_sha: z.string().nullable(),
  desired_spec: SpecColumn,
  observed_digest: z.string().nullable(),
  observed_sha: z.string().nullable(),
  observed_version_id: int8.nullable(),
  observed_spec: SpecColumn,
  conditions: ConditionsColumn,
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
  e.id, e.tenant_id, e.repository_id, e.app, e.name, e.kind, e.target, e.branch, e.pr_number, e.generation, e.observed_generation,
  e.desired_digest, e.desired_spec->'version'->>'sha' AS desired_sha, e.desired_spec,
  e.observed_digest, ov.sha AS observed_sha, e.observed_version_id, ova.spec AS observed_spec,
  e.conditions, e.url, e.suspended, e.drift_mode, e.deletion_requested_at IS NOT NULL AS deletion_requested,
  e.failure_count, e.lease_owner, e.last_reconciled_at, e.created_at, e.updated_at`;
const summaryFrom = sql.fragment`
  FROM environments e
  LEFT JOIN versions ov ON ov.id = e.observed_version_id
  LEFT JOIN version_apps ova ON ova.version_id = e.observed_version_id AND ova.app = e.app`;

/** `wharf status`, the live summary: every environment in scope, by app and name. */
export async function listEnvironments(db: CommonQueryMethods, scope: ReadScope): Promise<readonly EnvironmentSummary[]> {
  return db
    .any(sql.type(EnvironmentSummary)`SELECT ${summaryColumns} ${summaryFrom} WHERE ${tenantFilter(scope, 'e')} ORDER BY e.app, e.name`)
    .then(parseRows(EnvironmentSummary));
}

/** Environments named `name`, of `app` when given (the CLI resolves `ENV`, `APP/ENV` and `ENV--APP`). */
export async function findEnvironmentsByName(
  db: CommonQueryMethods,
  scope: ReadScope,
  input: { name: string; app?: string },
): Promise<readonly EnvironmentSummary[]> {
  return db
    .any(sql.type(EnvironmentSummary)`
    SELECT ${summaryColumns} ${summaryFrom}
    WHERE ${tenantFilter(scope, 'e')} AND e.name = ${input.name}
      ${input.app !== undefined ? sql.fragment`AND e.app = ${input.app}` : sql.fragment``}
    ORDER BY e.app`)
    .then(parseRows(EnvironmentSummary));
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

/** One query behind the `wharf_environments{condition}` and `wharf_queue_depth` gauges (every tenant). */
export async function countEnvironments(db: CommonQueryMethods): Promise<EnvironmentCounts> {
  const isTrue = (type: string) => sql.fragment`count(*) FILTER (WHERE e.conditions @> ${sql.jsonb([{ type, status: 'True' }])})::int`;
  return db
    .one(sql.type(EnvironmentCounts)`
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE NOT e.suspended AND e.next_attempt_at <= now())::int AS due,
           count(*) FILTER (WHERE e.suspended)::int AS suspended,
           ${isTrue('Ready')} AS ready, ${isTrue('Progressing')} AS progressing,
           ${isTrue('Degraded')} AS degraded, ${isTrue('Stalled')} AS stalled
    FROM environments e`)
    .then(parseOne(EnvironmentCounts));
}

// ---- The GitHub App's views of a repository's environments ----------------------------------------------------

export const PreviewEnvironment = z.object({
  id: int8,
  app: z.string(),
  name: z.string(),
  url: z.string().nullable(),
  desired_version_id: int8.nullable(),
  deletion_requested_at: z.string().nullable(),
});
export type PreviewEnvironment = z.infer<typeof PreviewEnvironment>;

export async function listPreviewEnvironments(db: CommonQueryMethods, scope: RepositoryScope, prNumber: number): Promise<readonly PreviewEnvironment[]> {
  return db
    .any(sql.type(PreviewEnvironment)`
    SELECT id, app, name, url, desired_version_id, deletion_requested_at FROM environments
    WHERE ${repositoryFilter(scope)} AND pr_number = ${prNumber} AND kind = 'preview' ORDER BY app`)
    .then(parseRows(PreviewEnvironment));
}

/** Pull requests of this tenant with at least one live preview environment, other than `except`. */
export async function countActivePreviews(db: CommonQueryMethods, scope: TenantScope, except?: { repositoryId: number; prNumber: number }): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(DISTINCT (repository_id, pr_number))::int AS n FROM environments
    WHERE tenant_id = ${scope.tenantId} AND kind = 'preview' AND deletion_requested_at IS NULL AND pr_number IS NOT NULL
      AND NOT (repository_id = ${except?.repositoryId ?? -1} AND pr_number = ${except?.prNumber ?? -1})`);
}

/** Pull requests of this repository with a live preview, other than `exceptPrNumber`. */
export async function countActivePreviewsInRepository(db: CommonQueryMethods, scope: RepositoryScope, exceptPrNumber: number): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(DISTINCT pr_number)::int AS n FROM environments
    WHERE ${repositoryFilter(scope)} AND kind = 'preview' AND deletion_requested_at IS NULL AND pr_number IS NOT NULL
      AND pr_number <> ${exceptPrNumber}`);
}

export const ProductionSpec = z.object({ app: z.string(), spec: SpecColumn });

/** What production desires per app (its WorkflowApp spec), for the pull request's plan. */
export async function listProductionSpecs(db: CommonQueryMethods, scope: RepositoryScope): Promise<readonly z.infer<typeof ProductionSpec>[]> {
  return db
    .any(sql.type(ProductionSpec)`
    SELECT app, desired_spec AS spec FROM environments
    WHERE ${repositoryFilter(scope)} AND kind = 'production' AND deletion_requested_at IS NULL AND desired_spec IS NOT NULL
    ORDER BY app`)
    .then(parseRows(ProductionSpec));
}

export const ReportedEnvironment = EnvironmentKey.extend({
  pr_number: int8.nullable(),
  url: z.string().nullable(),
  desired_sha: z.string().nullable(),
  observed_sha: z.string().nullable(),
  rollback_of_sha: z.string().nullable(),
  rollback_subject: z.string().nullable(),
});
export type ReportedEnvironment = z.infer<typeof ReportedEnvironment>;

/** An environment with the commits it wants and runs, and the version its desired version rolls back to. */
export async function getReportedEnvironment(db: CommonQueryMethods, scope: TenantScope, environmentId: number): Promise<ReportedEnvironment | null> {
  return db
    .maybeOne(sql.type(ReportedEnvironment)`
    SELECT e.id, e.tenant_id, e.repository_id, e.app, e.name, e.kind, e.pr_number, e.url,
      dv.sha AS desired_sha, ov.sha AS observed_sha, rv.sha AS rollback_of_sha,
      split_part(coalesce(rv.message, ''), E'\\n', 1) AS rollback_subject
    FROM environments e
    LEFT JOIN versions dv ON dv.id = e.desired_version_id
    LEFT JOIN versions ov ON ov.id = e.observed_version_id
    LEFT JOIN version_apps va ON va.version_id = e.desired_version_id AND va.app = e.app
    LEFT JOIN versions rv ON rv.id = va.rollback_of_version_id
    WHERE e.tenant_id = ${scope.tenantId} AND e.id = ${environmentId}`)
    .then(parseRow(ReportedEnvironment));
}

// ---- The REST API's views: its list and live updates read environment-list.ts's lean rows ------------------------

export { type EnvironmentFilter, EnvironmentListItem, getEnvironments, listEnvironmentPage } from './environment-list.js';

/** One environment of the organization (null for another organization's id: the same as a missing one). */
export async function getEnvironment(db: CommonQueryMethods, scope: RestrictedScope, id: number): Promise<EnvironmentSummary | null> {
  return db
    .maybeOne(sql.type(EnvironmentSummary)`SELECT ${summaryColumns} ${summaryFrom} WHERE ${restrictedFilter(scope, 'e')} AND e.id = ${id}`)
    .then(parseRow(EnvironmentSummary));
}

export const AppRow = z.object({ repository_id: int8, repository: z.string(), app: z.string(), environments: int8 });

/** Apps per repository with their number of environments, by (repository, app). */
export async function listApps(
  db: CommonQueryMethods,
  scope: RestrictedScope,
  page: { after?: { repositoryId: number; app: string }; limit: number },
): Promise<readonly z.infer<typeof AppRow>[]> {
  return db
    .any(sql.type(AppRow)`
    SELECT e.repository_id, r.full_name AS repository, e.app, count(*)::int AS environments
    FROM environments e JOIN repositories r ON r.id = e.repository_id
    WHERE ${restrictedFilter(scope, 'e')}
      ${page.after ? sql.fragment`AND (e.repository_id, e.app) > (${page.after.repositoryId}, ${page.after.app})` : sql.fragment``}
    GROUP BY e.repository_id, r.full_name, e.app ORDER BY e.repository_id, e.app LIMIT ${page.limit}`)
    .then(parseRows(AppRow));
}
