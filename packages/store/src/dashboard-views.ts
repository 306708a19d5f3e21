/**
 * Read models of the dashboard that the REST API does not offer yet: who last deployed each environment, pull
 * requests with their checks and previews, and the usage of the current billing period. Every read is scoped to one
 * organization (and to its repositories when the scope says so), like the API's.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, Json, parseOne, parseRows } from './rows.js';
import { restrictedFilter, type RestrictedScope } from './scope.js';

export const LastDeployer = z.object({ environment_id: int8, actor: z.string(), action: z.string(), at: z.string() });
export type LastDeployer = z.infer<typeof LastDeployer>;

/** The latest deploy, rollback or redeploy entry of the audit log per environment (at most `limit` environments). */
export async function listLastDeployers(db: CommonQueryMethods, scope: RestrictedScope, limit = 5_000): Promise<readonly LastDeployer[]> {
  return db
    .any(sql.type(LastDeployer)`
    SELECT DISTINCT ON (e.id) e.id AS environment_id, a.actor, a.action, a.at
    FROM environments e
    JOIN audit_log a ON a.tenant_id = e.tenant_id AND a.subject = 'environment:' || e.id
      AND a.action IN ('deploy', 'rollback', 'redeploy')
    WHERE ${restrictedFilter(scope, 'e')}
    ORDER BY e.id, a.id DESC
    LIMIT ${limit}`)
    .then(parseRows(LastDeployer));
}

export const PullRequestCheck = z.object({ name: z.string(), status: z.string().nullable(), conclusion: z.string().nullable() });
export const PullRequestPreview = z.object({ id: z.number(), app: z.string(), name: z.string(), url: z.string().nullable() });

export const PullRequestSummary = z.object({
  repository_id: int8,
  repository: z.string(),
  provider: z.string(),
  number: int8,
  state: z.string(),
  title: z.string(),
  head_sha: z.string(),
  head_ref: z.string(),
  base_ref: z.string(),
  fork: z.boolean(),
  draft: z.boolean(),
  author: z.string().nullable(),
  approved_sha: z.string().nullable(),
  approved_by: z.string().nullable(),
  updated_at: z.string(),
  checks: z.array(PullRequestCheck),
  previews: z.array(PullRequestPreview),
});
export type PullRequestSummary = z.infer<typeof PullRequestSummary>;

/** Pull requests, open ones first then the latest closed, each with its head's latest check runs and its previews. */
export async function listPullRequestSummaries(db: CommonQueryMethods, scope: RestrictedScope, limit = 100): Promise<readonly PullRequestSummary[]> {
  return db
    .any(sql.type(PullRequestSummary)`
    SELECT p.repository_id, r.full_name AS repository, r.provider, p.number, p.state, p.title, p.head_sha, p.head_ref, p.base_ref,
      p.fork, p.draft, p.author, p.approved_sha, p.approved_by, p.updated_at,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('name', c.name, 'status', c.status, 'conclusion', c.conclusion) ORDER BY c.name), '[]'::jsonb)
         FROM (SELECT DISTINCT ON (name) name, status, conclusion FROM github_check_runs
               WHERE repository_id = p.repository_id AND head_sha = p.head_sha ORDER BY name, updated_at DESC) c) AS checks,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'app', e.app, 'name', e.name, 'url', e.url) ORDER BY e.app), '[]'::jsonb)
         FROM environments e WHERE e.tenant_id = p.tenant_id AND e.repository_id = p.repository_id AND e.pr_number = p.number) AS previews
    FROM github_pull_requests p JOIN repositories r ON r.id = p.repository_id AND r.tenant_id = p.tenant_id
    WHERE ${restrictedFilter(scope, 'p')}
    ORDER BY (p.state = 'open') DESC, p.updated_at DESC
    LIMIT ${limit}`)
    .then(parseRows(PullRequestSummary));
}

export const PeriodUsage = z.object({
  production_environments: int8,
  preview_environments: int8,
  members: int8,
  deploys: int8,
  /** Hours the environments that exist now have run in the period (removed ones are not counted). */
  production_hours: z.number(),
  preview_hours: z.number(),
  /** Rollouts per UTC day of the period: [{ day: '2026-11-01', rollouts: 3, failed: 0 }]. */
  days: Json,
});
export type PeriodUsage = z.infer<typeof PeriodUsage>;

/** What an organization used from `since` (the start of its billing period) until now. */
export async function periodUsage(db: CommonQueryMethods, scope: RestrictedScope, since: Date): Promise<PeriodUsage> {
  const from = since.toISOString();
  return db
    .one(sql.type(PeriodUsage)`
    WITH envs AS (
      SELECT e.kind, GREATEST(e.created_at, ${from}::timestamptz) AS start FROM environments e
      WHERE ${restrictedFilter(scope, 'e')} AND e.deletion_requested_at IS NULL
    ), rollouts AS (
      SELECT h.started_at, h.result FROM environment_history h JOIN environments e ON e.id = h.environment_id
      WHERE ${restrictedFilter(scope, 'e')} AND h.started_at >= ${from}::timestamptz
    )
    SELECT
      (SELECT count(*) FROM envs WHERE kind = 'production')::int AS production_environments,
      (SELECT count(*) FROM envs WHERE kind = 'preview')::int AS preview_environments,
      (SELECT count(*) FROM memberships m WHERE m.tenant_id = ${scope.tenantId})::int AS members,
      (SELECT count(*) FROM rollouts)::int AS deploys,
      (SELECT coalesce(sum(extract(epoch FROM now() - start)) / 3600, 0) FROM envs WHERE kind = 'production')::float8 AS production_hours,
      (SELECT coalesce(sum(extract(epoch FROM now() - start)) / 3600, 0) FROM envs WHERE kind = 'preview')::float8 AS preview_hours,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('day', d.day, 'rollouts', d.rollouts, 'failed', d.failed) ORDER BY d.day), '[]'::jsonb)
         FROM (SELECT to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS rollouts,
                      count(*) FILTER (WHERE result = 'failed')::int AS failed
               FROM rollouts GROUP BY 1) d) AS days`)
    .then(parseOne(PeriodUsage));
}
