/** Tears a pull request's previews down: environments deleted by the reconciler, GitHub deployments inactive. */
import { deployments, desiredState, environmentViews, pullRequests, type repositories, scopeOf } from '@wharf/store';
import { queueCommentRefresh, queueDeploymentInactive } from '../reporter.js';
import type { AppDeps } from '../types.js';

export async function tearDownPreview(deps: AppDeps, repo: repositories.GithubRepository, prNumber: number, why: string): Promise<number> {
  const scope = scopeOf(repo);
  let count = 0;
  await deps.pool.transaction(async (tx) => {
    for (const env of await environmentViews.listPreviewEnvironments(tx, scope, prNumber)) {
      if (!env.deletion_requested_at && (await desiredState.requestDeletion(tx, scope, env.id))) count += 1;
    }
    for (const d of await deployments.listLiveDeploymentsForPullRequest(tx, scope, prNumber)) {
      await queueDeploymentInactive(tx, { tenantId: repo.tenant_id, deployment: d, description: `Preview torn down (${why})` });
    }
    const pr = await pullRequests.getPullRequest(tx, scope, prNumber);
    const summary = pr?.summary as { commentsEnabled?: boolean } | undefined;
    if (summary?.commentsEnabled !== false) await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber });
    if (pr) await pullRequests.setSummary(tx, scope, prNumber, { ...pr.summary, teardownReason: why });
  });
  deps.wakeDrain();
  return count;
}
