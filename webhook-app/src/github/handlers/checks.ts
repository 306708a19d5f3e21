/** check_suite and check_run: the Re-run buttons, and the "Approve preview" action on a fork's wharf/preview. */
import { pullRequests, scopeOf } from '@wharf/store';
import { evaluateCommit, evaluatePullRequest } from '../pull-request/evaluate-pull-request.js';
import { ALL_CHECKS, CHECK_NAMES, type CheckKey, type DeliveryContext, type Handler } from '../types.js';
import { approvePreview } from './approve-preview.js';
import { ensureRepository, hasWriteAccess } from './ensure-repository.js';

const CHECK_KEYS: ReadonlyMap<string, CheckKey> = new Map(ALL_CHECKS.map((k) => [CHECK_NAMES[k], k]));

async function rerun(ctx: DeliveryContext, sha: string, branch: string | null, checks: readonly CheckKey[]) {
  const repo = await ensureRepository(ctx);
  if (!repo) return 'ignored' as const;
  const prs = await pullRequests.listOpenPullRequestsForSha(ctx.deps.pool, scopeOf(repo), sha);
  const runKey = ctx.action === 'requested' ? 'auto' : ctx.deliveryId;
  if (prs.length > 0) {
    for (const pr of prs) await evaluatePullRequest(ctx.deps, repo, pr, { runKey, checks, log: ctx.log });
  } else {
    await evaluateCommit(ctx.deps, repo, { sha, ref: branch, runKey, checks, log: ctx.log });
  }
  return 'done' as const;
}

export const onCheckSuite: Handler = async (ctx) => {
  if (ctx.action !== 'requested' && ctx.action !== 'rerequested') return 'ignored';
  const suite = ctx.payload.check_suite;
  // A new commit on a pull request is evaluated by the pull_request event; `requested` covers the rest (pushes).
  if (ctx.action === 'requested' && (suite.pull_requests ?? []).length > 0) return 'ignored';
  return rerun(ctx, suite.head_sha, suite.head_branch ?? null, ['validate', 'plan', 'preview']);
};

export const onCheckRun: Handler = async (ctx) => {
  const run = ctx.payload.check_run;
  const key = CHECK_KEYS.get(String(run.name));
  if (!key) return 'ignored';
  if (ctx.action === 'rerequested') return rerun(ctx, run.head_sha, null, [key]);
  if (ctx.action !== 'requested_action') return 'ignored';
  const identifier = ctx.payload.requested_action?.identifier;
  if (identifier !== 'approve-preview') return 'ignored';
  const repo = await ensureRepository(ctx);
  if (!repo) return 'ignored';
  const sender = ctx.payload.sender?.login as string;
  if (!(await hasWriteAccess(ctx, repo, sender))) {
    ctx.log.warn({ sender }, 'preview approval refused: no write access');
    return 'done';
  }
  for (const pr of await pullRequests.listOpenPullRequestsForSha(ctx.deps.pool, scopeOf(repo), run.head_sha)) {
    const approved = await approvePreview(ctx.deps, repo, pr, run.head_sha, sender, 'check action');
    if (approved) await evaluatePullRequest(ctx.deps, repo, approved, { runKey: 'auto', log: ctx.log });
  }
  return 'done';
};
