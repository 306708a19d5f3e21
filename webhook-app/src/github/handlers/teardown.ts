/** Tears a pull request's previews down: environments deleted by the reconciler, GitHub deployments inactive. */
import { desiredState, github } from '@wharf/store';
import { queueCommentRefresh, queueDeploymentInactive } from '../reporter.js';
import type { AppDeps } from '../types.js';

export async function tearDownPreview(deps: AppDeps, repo: github.GithubRepository, prNumber: number, reason: string): Promise<number> {
  let count = 0;
  await deps.pool.transaction(async (tx) => {
    for (const env of await github.listPreviewEnvironments(tx, repo.id, prNumber)) {
      if (!env.deletion_requested_at && (await desiredState.requestDeletion(tx, env.id))) count += 1;
    }
    for (const d of await github.listLiveDeploymentsForPullRequest(tx, repo.id, prNumber)) {
      await queueDeploymentInactive(tx, { tenantId: repo.tenant_id, deployment: d, reason: `Preview torn down (${reason})` });
    }
    const pr = await github.getPullRequest(tx, repo.id, prNumber);
    const summary = pr?.summary as { commentsEnabled?: boolean } | undefined;
    if (summary?.commentsEnabled !== false) await queueCommentRefresh(tx, { tenantId: repo.tenant_id, repositoryId: repo.id, prNumber });
    if (pr) await github.setSummary(tx, repo.id, prNumber, { ...pr.summary, teardownReason: reason });
  });
  deps.wakeDrain();
  return count;
}
