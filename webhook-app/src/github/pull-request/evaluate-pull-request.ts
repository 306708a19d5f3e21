/**
 * One evaluation of a commit, of a pull request or of a branch: gather the facts, decide, render, send.
 * The wharf/validate check says "Validating" only when reading the commit takes a while (`validatingAfterMs`): most
 * commits are read sooner, and then the result is the first thing GitHub hears, not a progress note that costs the
 * installation a write slot in front of it.
 */
import type { Logger } from 'pino';
import type { pullRequests, repositories } from '@wharf/store';
import { queueCheckRun } from '../reporter.js';
import { ALL_CHECKS, type AppDeps, CHECK_NAMES, type CheckKey } from '../types.js';
import { decidePullRequest } from './decide-pull-request.js';
import { type CommitSource, gatherCommitFacts, gatherPullRequestFacts } from './gather-facts.js';
import { renderPullRequest, renderValidating } from './render-pull-request.js';
import { sendPullRequest } from './send-pull-request.js';

export interface EvaluateOptions {
  /** 'auto', or the delivery id of a re-run a user asked for. */
  runKey: string;
  /** Which checks to (re)post; default all three. */
  checks?: readonly CheckKey[];
  log: Logger;
}

/** Runs `work`; if it is still running after `afterMs`, `early` runs too (once, and is awaited before returning). */
async function withProgressNote<T>(afterMs: number, early: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  let note: Promise<void> | undefined;
  const timer = setTimeout(() => {
    note = early();
  }, afterMs);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    // The note is queued before the result, never after it.
    await note?.catch(() => undefined);
  }
}

async function evaluate(
  deps: AppDeps,
  repo: repositories.GithubRepository,
  input: { sha: string; ref: string | null; from: CommitSource; pr: pullRequests.PullRequest | null; runKey: string; checks: readonly CheckKey[]; log: Logger },
): Promise<void> {
  const validating = async () => {
    if (!input.checks.includes('validate')) return;
    const target = { tenantId: repo.tenant_id, repositoryId: repo.id, headSha: input.sha, name: CHECK_NAMES.validate, runKey: input.runKey };
    await queueCheckRun(deps.pool, target, renderValidating(input.sha));
    deps.wakeDrain();
  };
  const { commit, pullRequest } = await withProgressNote(deps.validatingAfterMs, validating, async () => {
    const commit = await gatherCommitFacts(deps, repo, { sha: input.sha, ref: input.ref, from: input.from });
    const pullRequest = input.pr && commit.kind === 'read' ? await gatherPullRequestFacts(deps, repo, input.pr) : null;
    return { commit, pullRequest };
  });
  const decision = decidePullRequest({ commit, checks: input.checks, pullRequest });
  await sendPullRequest(deps, { repo, decision, rendered: renderPullRequest(decision), runKey: input.runKey });
  const desired = decision.pullRequest?.desired;
  if (desired?.kind === 'deploy') {
    input.log.info({ pr: input.pr?.number, sha: input.sha, apps: desired.apps, fork: desired.stripSecrets }, 'preview requested');
  }
}

/** A pull request's head commit: validate, plan and preview. Its commits are fetched from `refs/pull/<n>/head`. */
export async function evaluatePullRequest(deps: AppDeps, repo: repositories.GithubRepository, pr: pullRequests.PullRequest, options: EvaluateOptions): Promise<void> {
  // A fork's head ref names a branch of the fork, not of this repository.
  await evaluate(deps, repo, {
    sha: pr.head_sha,
    ref: pr.fork ? `refs/pull/${pr.number}/head` : pr.head_ref,
    from: { pullNumber: pr.number },
    pr,
    runKey: options.runKey,
    checks: options.checks ?? ALL_CHECKS,
    log: options.log,
  });
}

/** A commit without an open pull request (a branch, a re-run of its check suite): validate and plan only. */
export async function evaluateCommit(
  deps: AppDeps,
  repo: repositories.GithubRepository,
  input: { sha: string; ref: string | null; runKey: string; checks: readonly CheckKey[]; log: Logger },
): Promise<void> {
  await evaluate(deps, repo, { ...input, from: input.ref ? { branch: input.ref } : null, pr: null, checks: input.checks.filter((c) => c !== 'preview') });
}
