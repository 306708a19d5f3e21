/**
 * A maintainer approves a preview of one commit of a pull request (the head they saw): recorded with who, how and
 * when, in one go. The approval holds for that commit only; the decision deploys a fork's head only when it is the
 * approved one.
 */
import { AUDIT_ACTIONS } from '@wharf/contracts';
import { audit, pullRequests, type repositories, scopeOf } from '@wharf/store';
import { type AppDeps, githubActor } from '../types.js';

export async function approvePreview(
  deps: AppDeps,
  repo: repositories.GithubRepository,
  pr: pullRequests.PullRequest,
  sha: string,
  by: string,
  via: 'comment' | 'label' | 'check action',
): Promise<pullRequests.PullRequest | null> {
  const scope = scopeOf(repo);
  return deps.pool.transaction(async (tx) => {
    await pullRequests.approvePreview(tx, scope, pr.number, sha, by);
    await audit.recordAudit(tx, [
      {
        tenantId: repo.tenant_id,
        actor: githubActor(by),
        action: AUDIT_ACTIONS.approvePreview,
        subject: `pull-request:${repo.full_name}#${pr.number}`,
        reason: `preview of ${sha.slice(0, 7)} approved by ${via}`,
        details: { sha, fork: pr.fork },
      },
    ]);
    return pullRequests.getPullRequest(tx, scope, pr.number);
  });
}
