/**
 * github_pull_requests: what the GitHub App remembers of a pull request (head, fork, approval, its comment, the
 * summary its comment is rendered from). Scoped by repository; the janitor's idle search covers every tenant.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { int8, jsonb, parseOne, parseRow, parseRows } from './rows.js';
import { repositoryFilter, type RepositoryScope } from './scope.js';

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
  /** When GitHub says this head became the pull request's head (GitHub's clock); null when not known. */
  head_since: z.string().nullable(),
});
export type PullRequest = z.infer<typeof PullRequest>;

const columns = sql.fragment`repository_id, tenant_id, number, state, title, head_sha, head_ref, base_ref, fork, draft, author,
  approved_sha, approved_by, comment_id, merge_commit_sha, summary, last_push_at, head_since`;

export interface PullRequestInput {
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
  /** The event's time on GitHub's clock (`pull_request.updated_at`): kept as `head_since` when the head changed. */
  eventAt?: string | null;
}

/**
 * An event older (on GitHub's clock) than the one that set the current head, naming another head: GitHub does not
 * promise to deliver events in order, and such an event must not move the head back.
 */
const stale = sql.fragment`(EXCLUDED.head_sha <> github_pull_requests.head_sha AND EXCLUDED.head_since IS NOT NULL
  AND github_pull_requests.head_since IS NOT NULL AND EXCLUDED.head_since < github_pull_requests.head_since)`;

/** Records the pull request as GitHub described it; a new head commit counts as activity for the idle TTL. */
export async function upsertPullRequest(db: CommonQueryMethods, scope: RepositoryScope, pr: PullRequestInput): Promise<PullRequest> {
  return db
    .one(sql.type(PullRequest)`
    INSERT INTO github_pull_requests (repository_id, tenant_id, number, state, title, head_sha, head_ref, base_ref, fork, draft,
      author, merge_commit_sha, head_since)
    VALUES (${scope.repositoryId}, ${scope.tenantId}, ${pr.number}, ${pr.state}, ${pr.title}, ${pr.headSha}, ${pr.headRef}, ${pr.baseRef},
      ${pr.fork}, ${pr.draft}, ${pr.author}, ${pr.mergeCommitSha}, ${pr.eventAt ?? null}::timestamptz)
    ON CONFLICT (repository_id, number) DO UPDATE SET
      state = EXCLUDED.state, title = EXCLUDED.title,
      head_sha = CASE WHEN ${stale} THEN github_pull_requests.head_sha ELSE EXCLUDED.head_sha END,
      head_ref = CASE WHEN ${stale} THEN github_pull_requests.head_ref ELSE EXCLUDED.head_ref END,
      base_ref = EXCLUDED.base_ref, fork = EXCLUDED.fork, draft = EXCLUDED.draft,
      merge_commit_sha = coalesce(EXCLUDED.merge_commit_sha, github_pull_requests.merge_commit_sha),
      last_push_at = CASE WHEN github_pull_requests.head_sha <> EXCLUDED.head_sha AND NOT ${stale} THEN now() ELSE github_pull_requests.last_push_at END,
      head_since = CASE WHEN github_pull_requests.head_sha <> EXCLUDED.head_sha AND NOT ${stale} THEN EXCLUDED.head_since
        ELSE coalesce(github_pull_requests.head_since, EXCLUDED.head_since) END,
      updated_at = now()
    WHERE github_pull_requests.tenant_id = EXCLUDED.tenant_id
    RETURNING ${columns}`)
    .then(parseOne(PullRequest));
}

export async function getPullRequest(db: CommonQueryMethods, scope: RepositoryScope, number: number): Promise<PullRequest | null> {
  return db
    .maybeOne(sql.type(PullRequest)`SELECT ${columns} FROM github_pull_requests WHERE ${repositoryFilter(scope)} AND number = ${number}`)
    .then(parseRow(PullRequest));
}

export async function listOpenPullRequestsForSha(db: CommonQueryMethods, scope: RepositoryScope, sha: string): Promise<readonly PullRequest[]> {
  return db
    .any(sql.type(PullRequest)`
    SELECT ${columns} FROM github_pull_requests WHERE ${repositoryFilter(scope)} AND head_sha = ${sha} AND state = 'open'
    ORDER BY number`)
    .then(parseRows(PullRequest));
}

/** The newest pull request merged as `sha` (its comment shows the production rollout of the merge). */
export async function findPullRequestByMergeSha(db: CommonQueryMethods, scope: RepositoryScope, sha: string): Promise<PullRequest | null> {
  return db
    .maybeOne(sql.type(PullRequest)`
    SELECT ${columns} FROM github_pull_requests WHERE ${repositoryFilter(scope)} AND merge_commit_sha = ${sha}
    ORDER BY number DESC LIMIT 1`)
    .then(parseRow(PullRequest));
}

/** A maintainer approved a preview of this head commit (fork previews need it); activity for the idle TTL. */
export async function approvePreview(db: CommonQueryMethods, scope: RepositoryScope, number: number, sha: string, by: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_pull_requests SET approved_sha = ${sha}, approved_by = ${by}, last_push_at = now(), updated_at = now()
    WHERE ${repositoryFilter(scope)} AND number = ${number}`);
}

/**
 * Approves the preview of `sha` only while it is the open pull request's head (a push after the approver looked is
 * not approved by it). False when the head moved, the pull request closed, or there is no such pull request.
 */
export async function approvePreviewOfHead(db: CommonQueryMethods, scope: RepositoryScope, number: number, sha: string, by: string): Promise<boolean> {
  const res = await db.query(sql.unsafe`
    UPDATE github_pull_requests SET approved_sha = ${sha}, approved_by = ${by}, last_push_at = now(), updated_at = now()
    WHERE ${repositoryFilter(scope)} AND number = ${number} AND head_sha = ${sha} AND state = 'open'`);
  return res.rowCount === 1;
}

export async function setCommentId(db: CommonQueryMethods, scope: RepositoryScope, number: number, commentId: number): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_pull_requests SET comment_id = ${commentId} WHERE ${repositoryFilter(scope)} AND number = ${number}`);
}

export async function setSummary(db: CommonQueryMethods, scope: RepositoryScope, number: number, summary: object): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE github_pull_requests SET summary = ${jsonb(summary)}, updated_at = now() WHERE ${repositoryFilter(scope)} AND number = ${number}`);
}

/** Marks activity on a preview (a redeploy, an approval): the idle TTL starts again. */
export async function touchPullRequest(db: CommonQueryMethods, scope: RepositoryScope, number: number): Promise<void> {
  await db.query(sql.unsafe`UPDATE github_pull_requests SET last_push_at = now() WHERE ${repositoryFilter(scope)} AND number = ${number}`);
}

/**
 * Every tenant's open pull requests with a live preview whose last activity is older than their manifest's TTL
 * (summary.ttlHours): the janitor's work list.
 */
export async function listIdlePreviewsOfEveryTenant(db: CommonQueryMethods, now: Date): Promise<readonly PullRequest[]> {
  return db
    .any(sql.type(PullRequest)`
    SELECT ${columns} FROM github_pull_requests p
    WHERE p.state = 'open' AND (p.summary->>'ttlHours') IS NOT NULL
      AND p.last_push_at < ${now.toISOString()}::timestamptz - make_interval(hours => (p.summary->>'ttlHours')::int)
      AND EXISTS (SELECT 1 FROM environments e WHERE e.repository_id = p.repository_id AND e.pr_number = p.number
        AND e.kind = 'preview' AND e.deletion_requested_at IS NULL)
    ORDER BY p.last_push_at`)
    .then(parseRows(PullRequest));
}
