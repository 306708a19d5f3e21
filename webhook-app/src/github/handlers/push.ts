/**
 * push: sync the one pushed branch (only that ref is fetched, and only when its head is read: the production
 * branch). A push Wharf refuses to fetch (over a fetch limit) gets a failed wharf/validate check on its commit that
 * says why; the environments stay as they were.
 */
import { isFetchRefused } from '@wharf/source';
import { repositories, scopeOf } from '@wharf/store';
import { renderRefusedCheck } from '../render/render-validate-check.js';
import { queueCheckRun } from '../reporter.js';
import { type AppDeps, CHECK_NAMES, type Handler } from '../types.js';
import { ensureRepository } from './ensure-repository.js';

async function reportRefused(deps: AppDeps, repo: repositories.GithubRepository, sha: string, reason: string): Promise<void> {
  const target = { tenantId: repo.tenant_id, repositoryId: repo.id, headSha: sha, name: CHECK_NAMES.validate, runKey: 'auto' };
  await queueCheckRun(deps.pool, target, renderRefusedCheck(sha, reason));
  deps.wakeDrain();
}

export const onPush: Handler = async (ctx) => {
  const ref = ctx.payload.ref as string | undefined;
  const after = ctx.payload.after as string | undefined;
  if (!ref?.startsWith('refs/heads/') || typeof after !== 'string' || !/^[0-9a-f]{40}$/.test(after)) return 'ignored';
  const repo = await ensureRepository(ctx);
  if (!repo || repo.suspended) return 'ignored';
  const repository = await repositories.getRepository(ctx.deps.pool, scopeOf(repo));
  if (!repository) return 'ignored';
  const log = ctx.log.child({ repo: repo.full_name, ref, after });
  // Branch heads become versions; the production branch's head becomes production's desired version. Pull request
  // previews are driven by pull_request events, not by branch pushes.
  let result: Awaited<ReturnType<AppDeps['source']['syncPushedRef']>>;
  try {
    result = await ctx.deps.source.syncPushedRef(repository, ref, after, { branchPreviews: false });
  } catch (err) {
    if (!isFetchRefused(err)) throw err;
    log.warn({ err }, 'push refused: over a fetch limit');
    await reportRefused(ctx.deps, repo, after, err.message);
    return 'done';
  }
  for (const failure of result.failed) {
    if (!isFetchRefused(failure.error)) continue;
    log.warn({ err: failure.error, branch: failure.branch }, 'push refused: over a fetch limit');
    await reportRefused(ctx.deps, repo, failure.sha, failure.error.message);
  }
  log.info({ changes: result.changes.length, ingested: result.ingested.length, failed: result.failed.length }, 'push synced');
  return 'done';
};
