/** Everything GitHub hears about a decision, rendered from it: the checks and the summary the comment is made of. Pure. */
import type { PullRequestSummary } from '../render/render-comment.js';
import { renderPlanCheck, summarizeChanges } from '../render/render-plan-check.js';
import { renderPreviewCheck, renderPreviewRefusal } from '../render/render-preview-check.js';
import { renderNoManifestCheck, renderRefusedCheck, renderUnreadableCheck, renderValidateCheck } from '../render/render-validate-check.js';
import type { CheckRunOutput } from '../reporter.js';
import type { CheckKey } from '../types.js';
import type { PullRequestDecision } from './decide-pull-request.js';

export interface RenderedPullRequest {
  checks: { key: CheckKey; output: CheckRunOutput }[];
  /** Stored with the pull request; the comment is rendered from it. Null for a commit without a pull request. */
  summary: PullRequestSummary | null;
}

const NOTHING_TO_PLAN: CheckRunOutput = { status: 'completed', conclusion: 'neutral', title: 'Nothing to plan', summary: 'No `wharf.yaml` in this commit.' };

/** The wharf/validate check while the commit is fetched and read. */
export const renderValidating = (sha: string): CheckRunOutput => ({ status: 'in_progress', title: 'Validating', summary: `Reading ${sha.slice(0, 7)}…` });

export function renderPullRequest(d: PullRequestDecision): RenderedPullRequest {
  const checks: RenderedPullRequest['checks'] = [];
  const add = (key: CheckKey, output: () => CheckRunOutput) => {
    if (d.checks.includes(key)) checks.push({ key, output: output() });
  };
  const { commit } = d;
  switch (commit.kind) {
    case 'unreadable':
      add('validate', () => renderUnreadableCheck(commit.sha, commit.reason));
      return { checks, summary: null };
    case 'refused':
      add('validate', () => renderRefusedCheck(commit.sha, commit.reason));
      return { checks, summary: null };
    case 'no-manifest':
      add('validate', () => renderNoManifestCheck(commit.sha));
      add('plan', () => NOTHING_TO_PLAN);
      break;
    case 'evaluated':
      add('validate', () =>
        renderValidateCheck({ sha: commit.sha, manifestDiagnostics: commit.manifestDiagnostics, apps: commit.apps.map((a) => ({ app: a.app, valid: a.valid, diagnostics: a.diagnostics })) }),
      );
      add('plan', () => renderPlanCheck({ sha: commit.sha, apps: commit.apps }));
      break;
  }
  const pr = d.pullRequest;
  if (!pr) return { checks, summary: null };
  const preview = pr.preview;
  add('preview', () => (preview.deploy ? renderPreviewCheck({ state: 'queued', sha: pr.headSha, apps: preview.apps }) : renderPreviewRefusal(preview.refusal)));
  if (commit.kind !== 'evaluated' || !commit.manifest) {
    return { checks, summary: { sha: pr.headSha, apps: [], noManifest: true, commentsEnabled: pr.commentsEnabled } };
  }
  return {
    checks,
    summary: {
      sha: pr.headSha,
      apps: commit.apps.map((a) => ({
        app: a.app,
        valid: a.valid,
        errors: a.diagnostics.filter((x) => x.severity === 'error').length,
        warnings: a.diagnostics.filter((x) => x.severity === 'warning').length,
        plan: summarizeChanges(a.changes),
        rollback: a.rollback,
      })),
      previewRefusal: preview.deploy ? null : renderPreviewRefusal(preview.refusal).title,
      ...(pr.ttlHours !== null ? { ttlHours: pr.ttlHours } : {}),
      commentsEnabled: pr.commentsEnabled,
    },
  };
}
