/**
 * What the GitHub App keeps: pull requests, the check runs and deployments it created (so it edits them in place),
 * and the ordered outbox drain. Every read is scoped by repository or tenant.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { ENVIRONMENT_KINDS } from '@wharf/contracts';
import { z } from 'zod';
import { int8, parseOne, parseRow, parseRows } from './rows.js';


const jsonb = (value: unknown) => sql.jsonb(JSON.parse(JSON.stringify(value ?? null)));

// ---- tenants and repositories -------------------------------------------------------------------------------

export const GithubRepository = z.object({
  id: int8,
  tenant_id: int8,
  full_name: z.string(),
  default_branch: z.string(),
  installation_id: z.string(),
  max_previews: int8,
  suspended: z.boolean(),
});
export type GithubRepository = z.infer<typeof GithubRepository>;

const repoColumns = sql.fragment`r.id, r.tenant_id, r.full_name, r.default_branch, t.external_id AS installation_id,
  t.max_previews, (t.suspended_at IS NOT NULL) AS suspended`;

export async function findRepository(db: CommonQueryMethods, installationId: string, fullName: string): Promise<GithubRepository | null> {
  return db.maybeOne(sql.type(GithubRepository)`
    SELECT ${repoColumns} FROM repositories r JOIN tenants t ON t.id = r.tenant_id
    WHERE t.kind = 'github' AND t.external_id = ${installationId} AND r.provider = 'github' AND r.full_name = ${fullName}`).then(parseRow(GithubRepository));
}

export async function getRepositoryById(db: CommonQueryMethods, repositoryId: number): Promise<GithubRepository | null> {
  return db.maybeOne(sql.type(GithubRepository)`
    SELECT ${repoColumns} FROM repositories r JOIN tenants t ON t.id = r.tenant_id WHERE r.id = ${repositoryId} AND t.kind = 'github'`).then(parseRow(GithubRepository));
}

export async function setTenantSuspended(db: CommonQueryMethods, tenantId: number, suspended: boolean): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE tenants SET suspended_at = CASE WHEN ${suspended} THEN coalesce(suspended_at, now()) ELSE NULL END WHERE id = ${tenantId}`);
}

/** The plan's cap on concurrent previews of a tenant. */
export async function setMaxPreviews(db: CommonQueryMethods, tenantId: number, maxPreviews: number): Promise<void> {
  await db.query(sql.unsafe`UPDATE tenants SET max_previews = ${maxPreviews} WHERE id = ${tenantId}`);
}

export async function setDefaultBranch(db: CommonQueryMethods, repositoryId: number, branch: string): Promise<void> {
  await db.query(sql.unsafe`UPDATE repositories SET default_branch = ${branch} WHERE id = ${repositoryId} AND default_branch <> ${branch}`);
}

// ---- pull requests ----------------------------------------------------------------------------------------------

export const PULL_REQUEST_STATES = ['open', 'closed', 'merged'] as const;

export const PullRequest = z.object({
  repository_id: int8,
  tenant_id: int8,
  number: int8,
  state: z.enum(PULL_REQUEST_STATES),
  title: z.string(),
  head_sha: z.string(),
  head_ref: z.string(),
  base_ref: z.string(),
  fork: z.boolean(),
  draft: z.boolean(),
  author: z.string().nullable(),
  approved_sha: z.string().nullable(),
  approved_by: z.string().nullable(),
  comment_id: int8.nullable(),
  merge_commit_sha: z.string().nullable(),
  summary: z.record(z.unknown()),
  last_push_at: z.string(),
});
export type PullRequest = z.infer<typeof PullRequest>;

const prColumns = sql.fragment`repository_id, tenant_id, number, state, title, head_sha, head_ref, base_ref, fork, draft, author,
  approved_sha, approved_by, comment_id, merge_commit_sha, summary, last_push_at`;

export interface PullRequestInput {
  repositoryId: number;
  tenantId: number;
  number: number;
  state: PullRequest['state'];
  title: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  fork: boolean;
  draft: boolean;
  author: string | null;
  mergeCommitSha: string | null;
}

/** Records the pull request as GitHub described it; a new head commit counts as activity for the idle TTL. */
export async function upsertPullRequest(db: CommonQueryMethods, pr: PullRequestInput): Promise<PullRequest> {
  return db.one(sql.type(PullRequest)`
    INSERT INTO github_pull_requests (repository_id, tenant_id, number, state, title, head_sha, head_ref, base_ref, fork, draft,
      author, merge_commit_sha)
    VALUES (${pr.repositoryId}, ${pr.tenantId}, ${pr.number}, ${pr.state}, ${pr.title}, ${pr.headSha}, ${pr.headRef}, ${pr.baseRef},
      ${pr.fork}, ${pr.draft}, ${pr.author}, ${pr.mergeCommitSha})
    ON CONFLICT (repository_id, number) DO UPDATE SET
      state = EXCLUDED.state, title = EXCLUDED.title, head_sha = EXCLUDED.head_sha, head_ref = EXCLUDED.head_ref,
      base_ref = EXCLUDED.base_ref, fork = EXCLUDED.fork, draft = EXCLUDED.draft,
      merge_commit_sha = coalesce(EXCLUDED.merge_commit_sha, github_pull_requests.merge_commit_sha),
      last_push_at = CASE WHEN github_pull_requests.head_sha <> EXCLUDED.head_sha THEN now() ELSE github_pull_requests.last_push_at END,
      updated_at = now()
    RETURNING ${prColumns}`).then(parseOne(PullRequest));
}

export async function getPullRequest(db: CommonQueryMethods, repositoryId: number, number: number): Promise<PullRequest | null> {
  return db.maybeOne(sql.type(PullRequest)`
    SELECT ${prColumns} FROM github_pull_requests WHERE repository_id = ${repositoryId} AND number = ${number}`).then(parseRow(PullRequest));
}

export async function findPullRequestByMergeSha(db: CommonQueryMethods, repositoryId: number, sha: string): Promise<PullRequest | null> {
  return db.maybeOne(sql.type(PullRequest)`
    SELECT ${prColumns} FROM github_pull_requests WHERE repository_id = ${repositoryId} AND merge_commit_sha = ${sha}
    ORDER BY number DESC LIMIT 1`).then(parseRow(PullRequest));
}

export async function listOpenPullRequestsForSha(db: CommonQueryMethods, repositoryId: number, sha: string): Promise<readonly PullRequest[]> {
  return db.any(sql.type(PullRequest)`
    SELECT ${prColumns} FROM github_pull_requests WHERE repository_id = ${repositoryId} AND head_sha = ${sha} AND state = 'open'
    ORDER BY number`).then(parseRows(PullRequest));
}

export async function approvePreview(db: CommonQueryMethods, repositoryId: number, number: number, sha: string, by: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_pull_requests SET approved_sha = ${sha}, approved_by = ${by}, last_push_at = now(), updated_at = now()
    WHERE repository_id = ${repositoryId} AND number = ${number}`);
}

export async function setCommentId(db: CommonQueryMethods, repositoryId: number, number: number, commentId: number): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_pull_requests SET comment_id = ${commentId} WHERE repository_id = ${repositoryId} AND number = ${number}`);
}

export async function setSummary(db: CommonQueryMethods, repositoryId: number, number: number, summary: Record<string, unknown>): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_pull_requests SET summary = ${jsonb(summary)}, updated_at = now() WHERE repository_id = ${repositoryId} AND number = ${number}`);
}

/** Marks activity on a preview (a redeploy, an approval): the idle TTL starts again. */
export async function touchPullRequest(db: CommonQueryMethods, repositoryId: number, number: number): Promise<void> {
  await db.query(sql.unsafe`UPDATE github_pull_requests SET last_push_at = now() WHERE repository_id = ${repositoryId} AND number = ${number}`);
}

/** Open pull requests with a live preview whose last activity is older than their manifest's TTL (summary.ttlHours). */
export async function listIdlePreviews(db: CommonQueryMethods, now: Date): Promise<readonly PullRequest[]> {
  return db.any(sql.type(PullRequest)`
    SELECT ${prColumns} FROM github_pull_requests p
    WHERE p.state = 'open' AND (p.summary->>'ttlHours') IS NOT NULL
      AND p.last_push_at < ${now.toISOString()}::timestamptz - make_interval(hours => (p.summary->>'ttlHours')::int)
      AND EXISTS (SELECT 1 FROM environments e WHERE e.repository_id = p.repository_id AND e.pr_number = p.number
        AND e.kind = 'preview' AND e.deletion_requested_at IS NULL)
    ORDER BY p.last_push_at`).then(parseRows(PullRequest));
}

// ---- preview environments ---------------------------------------------------------------------------------------

export const PreviewEnvironment = z.object({
  id: int8,
  app: z.string(),
  name: z.string(),
  url: z.string().nullable(),
  desired_version_id: int8.nullable(),
  deletion_requested_at: z.string().nullable(),
});
export type PreviewEnvironment = z.infer<typeof PreviewEnvironment>;

export async function listPreviewEnvironments(db: CommonQueryMethods, repositoryId: number, prNumber: number): Promise<readonly PreviewEnvironment[]> {
  return db.any(sql.type(PreviewEnvironment)`
    SELECT id, app, name, url, desired_version_id, deletion_requested_at FROM environments
    WHERE repository_id = ${repositoryId} AND pr_number = ${prNumber} AND kind = 'preview' ORDER BY app`).then(parseRows(PreviewEnvironment));
}

/** Pull requests of this tenant with at least one live preview environment, other than `except`. */
export async function countActivePreviews(
  db: CommonQueryMethods,
  tenantId: number,
  except?: { repositoryId: number; prNumber: number },
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: int8 }))`
    SELECT count(DISTINCT (repository_id, pr_number))::int AS n FROM environments
    WHERE tenant_id = ${tenantId} AND kind = 'preview' AND deletion_requested_at IS NULL AND pr_number IS NOT NULL
      AND NOT (repository_id = ${except?.repositoryId ?? -1} AND pr_number = ${except?.prNumber ?? -1})`);
}

export async function countActivePreviewsInRepository(db: CommonQueryMethods, repositoryId: number, exceptPrNumber: number): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: int8 }))`
    SELECT count(DISTINCT pr_number)::int AS n FROM environments
    WHERE repository_id = ${repositoryId} AND kind = 'preview' AND deletion_requested_at IS NULL AND pr_number IS NOT NULL
      AND pr_number <> ${exceptPrNumber}`);
}

export const ReportedEnvironment = z.object({
  id: int8,
  tenant_id: int8,
  repository_id: int8,
  app: z.string(),
  name: z.string(),
  kind: z.enum(ENVIRONMENT_KINDS),
  pr_number: int8.nullable(),
  url: z.string().nullable(),
  desired_sha: z.string().nullable(),
  observed_sha: z.string().nullable(),
  rollback_of_sha: z.string().nullable(),
  rollback_subject: z.string().nullable(),
});
export type ReportedEnvironment = z.infer<typeof ReportedEnvironment>;

/** An environment with the commits it wants and runs, and the version its desired version rolls back to. */
export async function getReportedEnvironment(db: CommonQueryMethods, environmentId: number): Promise<ReportedEnvironment | null> {
  return db.maybeOne(sql.type(ReportedEnvironment)`
    SELECT e.id, e.tenant_id, e.repository_id, e.app, e.name, e.kind, e.pr_number, e.url,
      dv.sha AS desired_sha, ov.sha AS observed_sha, rv.sha AS rollback_of_sha,
      split_part(coalesce(rv.message, ''), E'\n', 1) AS rollback_subject
    FROM environments e
    LEFT JOIN versions dv ON dv.id = e.desired_version_id
    LEFT JOIN versions ov ON ov.id = e.observed_version_id
    LEFT JOIN version_apps va ON va.version_id = e.desired_version_id AND va.app = e.app
    LEFT JOIN versions rv ON rv.id = va.rollback_of_version_id
    WHERE e.id = ${environmentId}`).then(parseRow(ReportedEnvironment));
}

export async function findEnvironmentByName(
  db: CommonQueryMethods,
  repositoryId: number,
  app: string,
  name: string,
): Promise<ReportedEnvironment | null> {
  const id = await db.maybeOneFirst(sql.type(z.object({ id: int8 }))`
    SELECT id FROM environments WHERE repository_id = ${repositoryId} AND app = ${app} AND name = ${name}`);
  return id === null ? null : getReportedEnvironment(db, Number(id));
}

/** The sha and subject of a version, by sha prefix (at least 7 characters) within one repository. */
export async function findVersionBySha(
  db: CommonQueryMethods,
  repositoryId: number,
  shaPrefix: string,
): Promise<{ id: number; sha: string; valid: boolean } | null> {
  return db.maybeOne(sql.type(z.object({ id: int8, sha: z.string(), valid: z.boolean() }))`
    SELECT id, sha, valid FROM versions WHERE repository_id = ${repositoryId} AND sha LIKE ${`${shaPrefix.toLowerCase()}%`}
    ORDER BY id DESC LIMIT 1`).then(parseRow(z.object({ id: int8, sha: z.string(), valid: z.boolean() })));
}

// ---- check runs -------------------------------------------------------------------------------------------------

export const CheckRunRecord = z.object({
  check_run_id: int8,
  output_key: z.string().nullable(),
  batches_sent: int8,
  status: z.string().nullable(),
  conclusion: z.string().nullable(),
});
export type CheckRunRecord = z.infer<typeof CheckRunRecord>;

export interface CheckRunKey {
  repositoryId: number;
  headSha: string;
  name: string;
  runKey: string;
}

export async function getCheckRun(db: CommonQueryMethods, k: CheckRunKey): Promise<CheckRunRecord | null> {
  return db.maybeOne(sql.type(CheckRunRecord)`
    SELECT check_run_id, output_key, batches_sent, status, conclusion FROM github_check_runs
    WHERE repository_id = ${k.repositoryId} AND head_sha = ${k.headSha} AND name = ${k.name} AND run_key = ${k.runKey}`).then(parseRow(CheckRunRecord));
}

export async function saveCheckRun(
  db: CommonQueryMethods,
  k: CheckRunKey & { checkRunId: number; outputKey: string | null; batchesSent: number; status: string; conclusion: string | null },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO github_check_runs (repository_id, head_sha, name, run_key, check_run_id, output_key, batches_sent, status, conclusion)
    VALUES (${k.repositoryId}, ${k.headSha}, ${k.name}, ${k.runKey}, ${k.checkRunId}, ${k.outputKey}, ${k.batchesSent}, ${k.status}, ${k.conclusion})
    ON CONFLICT (repository_id, head_sha, name, run_key) DO UPDATE SET check_run_id = EXCLUDED.check_run_id,
      output_key = EXCLUDED.output_key, batches_sent = EXCLUDED.batches_sent, status = EXCLUDED.status,
      conclusion = EXCLUDED.conclusion, updated_at = now()`);
}

/** The run key of the newest run of this check on this commit (a re-run makes a new one). */
export async function latestRunKey(db: CommonQueryMethods, repositoryId: number, headSha: string, name: string): Promise<string | null> {
  return db.maybeOneFirst(sql.type(z.object({ run_key: z.string() }))`
    SELECT run_key FROM github_check_runs WHERE repository_id = ${repositoryId} AND head_sha = ${headSha} AND name = ${name}
    ORDER BY updated_at DESC LIMIT 1`);
}

// ---- deployments ------------------------------------------------------------------------------------------------

export const DeploymentRecord = z.object({
  id: int8,
  repository_id: int8,
  environment_id: int8.nullable(),
  pr_number: int8.nullable(),
  github_environment: z.string(),
  sha: z.string(),
  deployment_id: int8,
  last_state: z.string().nullable(),
  last_url: z.string().nullable(),
  last_description: z.string().nullable(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

const deploymentColumns = sql.fragment`id, repository_id, environment_id, pr_number, github_environment, sha, deployment_id,
  last_state, last_url, last_description`;

export async function findDeployment(
  db: CommonQueryMethods,
  repositoryId: number,
  githubEnvironment: string,
  sha: string,
): Promise<DeploymentRecord | null> {
  return db.maybeOne(sql.type(DeploymentRecord)`
    SELECT ${deploymentColumns} FROM github_deployments
    WHERE repository_id = ${repositoryId} AND github_environment = ${githubEnvironment} AND sha = ${sha}`).then(parseRow(DeploymentRecord));
}

export async function saveDeployment(
  db: CommonQueryMethods,
  d: { repositoryId: number; environmentId: number | null; prNumber: number | null; githubEnvironment: string; sha: string; deploymentId: number },
): Promise<DeploymentRecord> {
  return db.one(sql.type(DeploymentRecord)`
    INSERT INTO github_deployments (repository_id, environment_id, pr_number, github_environment, sha, deployment_id)
    VALUES (${d.repositoryId}, ${d.environmentId}, ${d.prNumber}, ${d.githubEnvironment}, ${d.sha}, ${d.deploymentId})
    ON CONFLICT (repository_id, github_environment, sha) DO UPDATE SET environment_id = coalesce(EXCLUDED.environment_id, github_deployments.environment_id)
    RETURNING ${deploymentColumns}`).then(parseOne(DeploymentRecord));
}

export async function recordDeploymentState(
  db: CommonQueryMethods,
  id: number,
  s: { state: string; url: string | null; description: string | null },
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_deployments SET last_state = ${s.state}, last_url = coalesce(${s.url}, last_url),
      last_description = ${s.description}, updated_at = now() WHERE id = ${id}`);
}

export async function getDeployment(db: CommonQueryMethods, id: number): Promise<DeploymentRecord | null> {
  return db.maybeOne(sql.type(DeploymentRecord)`SELECT ${deploymentColumns} FROM github_deployments WHERE id = ${id}`).then(parseRow(DeploymentRecord));
}

/** The newest deployment of a commit to a GitHub environment starting with `environmentPrefix`. */
export async function findDeploymentForSha(
  db: CommonQueryMethods,
  repositoryId: number,
  sha: string,
  environmentPrefix: string,
): Promise<DeploymentRecord | null> {
  return db.maybeOne(sql.type(DeploymentRecord)`
    SELECT ${deploymentColumns} FROM github_deployments
    WHERE repository_id = ${repositoryId} AND sha = ${sha} AND github_environment LIKE ${`${environmentPrefix}%`}
    ORDER BY updated_at DESC LIMIT 1`).then(parseRow(DeploymentRecord));
}

/** Deployments of a pull request's previews that are not inactive yet. */
export async function listLiveDeploymentsForPullRequest(db: CommonQueryMethods, repositoryId: number, prNumber: number): Promise<readonly DeploymentRecord[]> {
  return db.any(sql.type(DeploymentRecord)`
    SELECT ${deploymentColumns} FROM github_deployments
    WHERE repository_id = ${repositoryId} AND pr_number = ${prNumber} AND coalesce(last_state, '') <> 'inactive' ORDER BY id`).then(parseRows(DeploymentRecord));
}

/** The newest deployment of each GitHub environment of a pull request, for the comment. */
export async function listLatestDeploymentsForPullRequest(db: CommonQueryMethods, repositoryId: number, prNumber: number): Promise<readonly DeploymentRecord[]> {
  return db.any(sql.type(DeploymentRecord)`
    SELECT DISTINCT ON (github_environment) ${deploymentColumns} FROM github_deployments
    WHERE repository_id = ${repositoryId} AND pr_number = ${prNumber} ORDER BY github_environment, id DESC`).then(parseRows(DeploymentRecord));
}

// ---- outbox drain -----------------------------------------------------------------------------------------------

export interface OutboxItem {
  tenantId: number;
  environmentId?: number | null;
  kind: string;
  payload: Record<string, unknown>;
  /** Rows of one stream are delivered in order; null orders by environment. */
  stream: string | null;
  /** A row with a key that was ever queued is not queued again. */
  dedupeKey?: string | null;
  /** Skip the row when the stream already has a row waiting that has not been tried yet (e.g. "refresh the comment"). */
  coalesce?: boolean;
}

export async function enqueue(db: CommonQueryMethods, item: OutboxItem): Promise<boolean> {
  const guard = item.coalesce
    ? sql.fragment`WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE stream = ${item.stream} AND kind = ${item.kind}
        AND delivered_at IS NULL AND attempts = 0 AND locked_until IS NULL)`
    : sql.fragment``;
  const row = await db.maybeOne(sql.type(z.object({ id: int8 }))`
    INSERT INTO outbox (tenant_id, environment_id, kind, payload, dedupe_key, stream)
    SELECT ${item.tenantId}, ${item.environmentId ?? null}, ${item.kind}, ${jsonb(item.payload)}, ${item.dedupeKey ?? null}, ${item.stream}
    ${guard}
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id`).then(parseRow(z.object({ id: int8 })));
  return row !== null;
}

export const ClaimedOutboxRow = z.object({
  id: int8,
  tenant_id: int8,
  environment_id: int8.nullable(),
  kind: z.string(),
  payload: z.record(z.unknown()),
  stream: z.string().nullable(),
  attempts: int8,
  created_at: z.string(),
});
export type ClaimedOutboxRow = z.infer<typeof ClaimedOutboxRow>;

/**
 * Claims due rows of the given kinds, at most the head of each stream (or, for rows without a stream, of each
 * environment): a row waits until every earlier row of its stream was delivered, so a retried failure keeps order.
 */
export async function claimOutbox(
  db: CommonQueryMethods,
  input: { kinds: readonly string[]; limit: number; leaseSeconds: number },
): Promise<readonly ClaimedOutboxRow[]> {
  return db.any(sql.type(ClaimedOutboxRow)`
    WITH c AS (
      SELECT o.id FROM outbox o
      WHERE o.delivered_at IS NULL AND o.next_attempt_at <= now() AND (o.locked_until IS NULL OR o.locked_until < now())
        AND o.kind = ANY(${sql.array([...input.kinds], 'text')})
        AND NOT EXISTS (
          SELECT 1 FROM outbox p WHERE p.delivered_at IS NULL AND p.id < o.id AND (
            (o.stream IS NOT NULL AND p.stream = o.stream)
            OR (o.stream IS NULL AND o.environment_id IS NOT NULL AND p.stream IS NULL AND p.environment_id = o.environment_id)))
      ORDER BY o.id
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox SET locked_until = now() + make_interval(secs => ${input.leaseSeconds}), attempts = outbox.attempts + 1
    FROM c WHERE outbox.id = c.id
    RETURNING outbox.id, outbox.tenant_id, outbox.environment_id, outbox.kind, outbox.payload, outbox.stream, outbox.attempts,
      outbox.created_at`).then(parseRows(ClaimedOutboxRow));
}

export async function markDelivered(db: CommonQueryMethods, id: number, note?: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE outbox SET delivered_at = now(), locked_until = NULL, last_error = ${note ?? null} WHERE id = ${id}`);
}

export async function retryOutbox(db: CommonQueryMethods, id: number, delaySeconds: number, error: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE outbox SET locked_until = NULL, last_error = ${error},
      next_attempt_at = now() + make_interval(secs => ${delaySeconds}) WHERE id = ${id}`);
}

/** True when a later row of the same stream waits: an intermediate state may then be skipped. */
export async function hasLaterRowInStream(db: CommonQueryMethods, id: number, stream: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ x: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM outbox WHERE stream = ${stream} AND id > ${id} AND delivered_at IS NULL) AS x`);
}

/** True when a later row for the same environment waits: an intermediate status may then be skipped. */
export async function hasLaterRowForEnvironment(db: CommonQueryMethods, id: number, environmentId: number, kind: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ x: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM outbox WHERE environment_id = ${environmentId} AND kind = ${kind} AND id > ${id} AND delivered_at IS NULL) AS x`);
}

export const OutboxStatusRow = z.object({
  id: int8,
  kind: z.string(),
  stream: z.string().nullable(),
  attempts: int8,
  delivered_at: z.string().nullable(),
  last_error: z.string().nullable(),
});

export async function countPendingOutbox(db: CommonQueryMethods, kinds: readonly string[]): Promise<number> {
  return db.oneFirst(sql.type(z.object({ n: int8 }))`
    SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL AND kind = ANY(${sql.array([...kinds], 'text')})`);
}

export async function listOutbox(db: CommonQueryMethods, tenantId: number): Promise<readonly z.infer<typeof OutboxStatusRow>[]> {
  return db.any(sql.type(OutboxStatusRow)`
    SELECT id, kind, stream, attempts, delivered_at, last_error FROM outbox WHERE tenant_id = ${tenantId} ORDER BY id`).then(parseRows(OutboxStatusRow));
}
