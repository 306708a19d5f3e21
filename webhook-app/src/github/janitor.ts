/**
 * Tears down previews idle for longer than their manifest's `previews.ttlHours` (no new commit, approval or
 * redeploy), and runs the App's other housekeeping (deleting old webhook deliveries). Runs on a cron schedule; it
 * reads only Wharf's own state, so a GitHub outage never tears anything down.
 */
import { CronJob } from 'cron';
import { pullRequests, repositories } from '@wharf/store';
import { tearDownPreview } from './handlers/teardown.js';
import type { AppDeps } from './types.js';

export async function tearDownIdlePreviews(deps: AppDeps): Promise<number> {
  let n = 0;
  for (const pr of await pullRequests.listIdlePreviewsOfEveryTenant(deps.pool, deps.now())) {
    const repo = await repositories.getGithubRepository(deps.pool, { tenantId: pr.tenant_id, repositoryId: pr.repository_id });
    if (!repo) continue;
    const ttl = (pr.summary as { ttlHours?: number }).ttlHours;
    n += await tearDownPreview(deps, repo, pr.number, `idle for more than ${ttl} hours; push a commit or comment \`/wharf preview\` to bring it back`);
    deps.log.info({ repo: repo.full_name, pr: pr.number, ttlHours: ttl }, 'idle preview torn down');
  }
  return n;
}

export function startJanitor(deps: AppDeps, cronTime: string, housekeeping: readonly (() => Promise<unknown>)[] = []): CronJob {
  return CronJob.from({
    cronTime,
    timeZone: 'UTC',
    waitForCompletion: true,
    start: true,
    onTick: async () => {
      await tearDownIdlePreviews(deps);
      for (const task of housekeeping) await task().catch((err) => deps.log.error({ err }, 'housekeeping failed'));
    },
    errorHandler: (err) => deps.log.error({ err }, 'preview janitor failed'),
  });
}
