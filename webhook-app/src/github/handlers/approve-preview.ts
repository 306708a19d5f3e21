/** A maintainer approves a preview of a pull request's head commit: recorded with who, how and when, in one go. */
import { AUDIT_ACTIONS } from '@wharf/contracts';
import { audit, pullRequests, type repositories, scopeOf } from '@wharf/store';
import { type AppDeps, githubActor } from '../types.js';

export async function approvePreview(
  deps: AppDeps,
  repo: repositories.GithubRepository,
  pr: pullRequests.PullRequest,
  by: string,
  via: 'comment' | 'label' | 'check action',
): Promise<pullRequests.PullRequest | null> {
  const scope = scopeOf(repo);
  return deps.pool.transaction(async (tx) => {
    await pullRequests.approvePreview(tx, scope, pr.number, pr.head_sha, by);
    await audit.recordAudit(tx, [
      {
        tenantId: repo.tenant_id,
        actor: githubActor(by),
        action: AUDIT_ACTIONS.approvePreview,
        subject: `pull-request:${repo.full_name}#${pr.number}`,
        reason: `preview of ${pr.head_sha.slice(0, 7)} approved by ${via}`,
        details: { sha: pr.head_sha, fork: pr.fork },
      },
    ]);
    return pullRequests.getPullRequest(tx, scope, pr.number);
  });
}
