/** pull_request: record the pull request, evaluate its head, approve fork previews by label, tear down on close. */
import { pullRequests, type repositories, scopeOf } from '@wharf/store';
import { evaluatePullRequest } from '../pull-request/evaluate-pull-request.js';
import { queueReply } from '../reporter.js';
import { PREVIEW_LABEL, type DeliveryContext, type Handler } from '../types.js';
import { approvePreview } from './approve-preview.js';
import { ensureRepository, hasWriteAccess } from './ensure-repository.js';
import { tearDownPreview } from './teardown.js';

const HANDLED = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review', 'converted_to_draft', 'closed', 'labeled']);

/**
 * A pull request comes from a fork when its head repository is not the base repository, compared by GitHub's
 * repository id (names change on renames and transfers). A fork that was deleted leaves `head.repo: null`: still a
 * fork, and the one case where nothing else says whose the commits are.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- webhook payload
export function isFork(p: any): boolean {
  const head = p?.head?.repo;
  const base = p?.base?.repo;
  if (!head) return true;
  if (head.id !== undefined && base?.id !== undefined) return head.id !== base.id;
  return head.full_name !== base?.full_name;
}

export async function recordPullRequest(ctx: DeliveryContext, repo: repositories.GithubRepository): Promise<pullRequests.PullRequest> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- webhook payload
  const p: any = ctx.payload.pull_request;
  const merged = p.merged === true;
  const eventAt = typeof p.updated_at === 'string' && !Number.isNaN(Date.parse(p.updated_at)) ? p.updated_at : null;
  return pullRequests.upsertPullRequest(ctx.deps.pool, scopeOf(repo), {
    number: p.number,
    state: p.state === 'closed' ? (merged ? 'merged' : 'closed') : 'open',
    title: p.title ?? '',
    headSha: p.head.sha,
    headRef: p.head.ref,
    baseRef: p.base.ref,
    fork: isFork(p),
    draft: p.draft === true,
    author: p.user?.login ?? null,
    mergeCommitSha: merged ? (p.merge_commit_sha ?? null) : null,
    eventAt,
  });
}

export const onPullRequest: Handler = async (ctx) => {
  if (!ctx.action || !HANDLED.has(ctx.action)) return 'ignored';
  const repo = await ensureRepository(ctx);
  if (!repo) return 'ignored';
  if (ctx.action === 'labeled' && ctx.payload.label?.name !== PREVIEW_LABEL) return 'ignored';
  const pr = await recordPullRequest(ctx, repo);
  const log = ctx.log.child({ repo: repo.full_name, pr: pr.number });
  if (ctx.action === 'closed') {
    const n = await tearDownPreview(ctx.deps, repo, pr.number, pr.state === 'merged' ? 'merged' : 'closed');
    log.info({ environments: n, merged: pr.state === 'merged' }, 'pull request closed; previews torn down');
    return 'done';
  }
  if (ctx.action === 'labeled') {
    const sender = ctx.payload.sender?.login as string;
    if (!(await hasWriteAccess(ctx, repo, sender))) {
      await queueReply(ctx.deps.pool, {
        tenantId: repo.tenant_id,
        repositoryId: repo.id,
        issueNumber: pr.number,
        body: `@${sender} the \`${PREVIEW_LABEL}\` label starts a preview only when added by someone with write access.`,
        dedupeKey: `label-denied:${ctx.deliveryId}`,
      });
      ctx.deps.wakeDrain();
      return 'done';
    }
    // The label approves the head GitHub says the pull request had when it was added.
    const approved = await approvePreview(ctx.deps, repo, pr, String(ctx.payload.pull_request.head.sha), sender, 'label');
    if (approved) await evaluatePullRequest(ctx.deps, repo, approved, { runKey: 'auto', log });
    return 'done';
  }
  if (ctx.action === 'converted_to_draft') return 'ignored';
  await evaluatePullRequest(ctx.deps, repo, pr, { runKey: 'auto', log });
  return 'done';
};
