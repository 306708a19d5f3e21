/**
 * The pull request's one Wharf comment, rendered from current state and edited in place. When Wharf does not know
 * its id (first time, or a crash between creating it and saving the id), it looks for a comment with its marker that
 * its own App wrote (the App's bot user, as GitHub says who wrote it, never the text alone: anyone can paste the
 * marker) before creating one, so retries never add a second comment and nobody else's comment is adopted.
 */
import { deployments as deploymentStore, outbox, pullRequests, repositories, type RepositoryScope } from '@wharf/store';
import { renderComment, type CommentDeployment, type PullRequestSummary } from '../render/render-comment.js';
import { type AppIdentity, COMMENT_MARKER, type AppDeps } from '../types.js';
import { ownerRepo, type Sender } from './types.js';

async function renderFor(deps: AppDeps, scope: RepositoryScope, pr: pullRequests.PullRequest): Promise<string> {
  const summary = pr.summary as unknown as PullRequestSummary & { teardownReason?: string };
  const deployments = await deploymentStore.listLatestDeploymentsForPullRequest(deps.pool, scope, pr.number);
  const previews: CommentDeployment[] = [];
  for (const d of deployments) {
    const app = appOf(d.github_environment, summary.apps?.map((a) => a.app) ?? []);
    if (app) previews.push({ app, state: d.last_state, url: d.last_url, sha: d.sha, description: d.last_description });
  }
  let production: { sha: string; state: string | null; url: string | null; description: string | null } | null = null;
  if (pr.state === 'merged' && pr.merge_commit_sha) {
    const prod = await deploymentStore.findDeploymentForSha(deps.pool, scope, pr.merge_commit_sha, 'production');
    if (prod) production = { sha: prod.sha, state: prod.last_state, url: prod.last_url, description: prod.last_description };
  }
  return renderComment({
    state: pr.state,
    teardownReason: summary.teardownReason ?? null,
    summary: { ...summary, apps: summary.apps ?? [], sha: summary.sha ?? pr.head_sha, commentsEnabled: summary.commentsEnabled ?? true },
    previews,
    production,
  });
}

/** A comment the App itself wrote: by its bot user and, where GitHub says through which App, through this one. */
export function writtenBy(
  c: { user?: { login?: string; type?: string } | null; performed_via_github_app?: { id?: number } | null },
  me: AppIdentity,
): boolean {
  if (c.user?.type !== 'Bot' || c.user.login !== me.botLogin) return false;
  return !c.performed_via_github_app || c.performed_via_github_app.id === me.appId;
}

/** `preview/pr-7` → the single app; `preview/pr-7/shop` → shop. */
function appOf(environment: string, apps: string[]): string | null {
  const parts = environment.split('/');
  if (parts.length >= 3) return parts.slice(2).join('/');
  return apps.length === 1 ? (apps[0] ?? null) : null;
}

export const sendComment: Sender = async (deps, row) => {
  const { repositoryId, prNumber } = row.payload as { repositoryId: number; prNumber: number };
  // The comment is rendered from current state when it is sent: a later refresh waiting makes this one redundant.
  if (row.stream && (await outbox.hasLaterRowInStream(deps.pool, row.id, row.stream))) return { delivered: true, note: 'superseded' };
  const scope = { tenantId: row.tenant_id, repositoryId };
  const repo = await repositories.getGithubRepository(deps.pool, scope);
  const pr = repo ? await pullRequests.getPullRequest(deps.pool, scope, prNumber) : null;
  if (!repo || !pr) return { delivered: true, note: 'pull request unknown' };
  if ((pr.summary as { commentsEnabled?: boolean }).commentsEnabled === false) return { delivered: true, note: 'comments off' };
  if (!(pr.summary as { sha?: string }).sha) return { delivered: true, note: 'nothing to say yet' };
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  const body = await renderFor(deps, scope, pr);
  let commentId = pr.comment_id;
  if (commentId !== null) {
    try {
      await octokit.rest.issues.updateComment({ owner, repo: name, comment_id: commentId, body });
      return { delivered: true };
    } catch (err) {
      // Someone deleted it: post a new one.
      if ((err as { status?: number }).status !== 404) throw err;
      commentId = null;
    }
  }
  const me = await deps.appIdentity();
  const existing = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo: name, issue_number: prNumber, per_page: 100 });
  const mine = existing.find((c) => c.body?.startsWith(COMMENT_MARKER) && writtenBy(c, me));
  if (mine) {
    await pullRequests.setCommentId(deps.pool, scope, prNumber, mine.id);
    await octokit.rest.issues.updateComment({ owner, repo: name, comment_id: mine.id, body });
  } else {
    const { data } = await octokit.rest.issues.createComment({ owner, repo: name, issue_number: prNumber, body });
    await pullRequests.setCommentId(deps.pool, scope, prNumber, data.id);
  }
  return { delivered: true };
};

export const sendReply: Sender = async (deps, row) => {
  const { repositoryId, issueNumber, body } = row.payload as { repositoryId: number; issueNumber: number; body: string };
  const repo = await repositories.getGithubRepository(deps.pool, { tenantId: row.tenant_id, repositoryId });
  if (!repo) return { delivered: true, note: 'repository gone' };
  const octokit = await deps.client.installation(repo.installation_id);
  const { owner, repo: name } = ownerRepo(repo.full_name);
  await octokit.rest.issues.createComment({ owner, repo: name, issue_number: issueNumber, body });
  return { delivered: true };
};
