/**
 * Sends a decision: the preview's desired state (through the source, the one writer), every check, the summary and
 * the comment refresh, queued in one transaction. Either all of it happens or none, and a retried delivery decides
 * and sends again.
 */
import { previewEnvironmentName } from '@wharf/contracts';
import { pullRequests, repositories, scopeOf } from '@wharf/store';
import { type CheckRunTarget, queueCheckRun, queueCommentRefresh } from '../reporter.js';
import { type AppDeps, CHECK_NAMES } from '../types.js';
import type { PullRequestDecision } from './decide-pull-request.js';
import type { RenderedPullRequest } from './render-pull-request.js';

export async function sendPullRequest(
  deps: AppDeps,
  input: { repo: repositories.GithubRepository; decision: PullRequestDecision; rendered: RenderedPullRequest; runKey: string },
): Promise<void> {
  const { repo, decision, rendered, runKey } = input;
  const scope = scopeOf(repo);
  const pr = decision.pullRequest;
  const commit = decision.commit;
  await deps.pool.transaction(async (tx) => {
    if (pr && commit.kind === 'evaluated' && pr.desired.kind !== 'none') {
      const repository = await repositories.getRepository(tx, scope);
      if (!repository) throw new Error(`repository ${repo.full_name} disappeared`);
      const desired = pr.desired;
      await deps.source.setDesiredFromVersion(
        {
          repository,
          versionId: commit.versionId,
          envName: previewEnvironmentName(pr.number),
          kind: 'preview',
          branch: desired.branch,
          prNumber: pr.number,
          actor: { actor: desired.actor, reason: `preview of #${pr.number} at ${pr.headSha.slice(0, 7)}` },
          options: { stripSecrets: desired.kind === 'deploy' && desired.stripSecrets },
        },
        tx,
      );
    }
    const headSha = pr?.headSha ?? commit.sha;
    for (const c of rendered.checks) {
      const target: CheckRunTarget = { tenantId: repo.tenant_id, repositoryId: repo.id, headSha, name: CHECK_NAMES[c.key], runKey };
      await queueCheckRun(tx, target, c.output);
    }
    if (pr && rendered.summary) {
      await pullRequests.setSummary(tx, scope, pr.number, rendered.summary);
      if (rendered.summary.commentsEnabled) await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber: pr.number });
    }
  });
  deps.wakeDrain();
}
