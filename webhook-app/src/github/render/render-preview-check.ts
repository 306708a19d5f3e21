/** The wharf/preview check run: queued → in progress → success with the URL, or failure with the reason. */
import type { CheckRunOutput } from '../reporter.js';
import { PREVIEW_LABEL } from '../types.js';
import { fitText, shortSha } from './limits.js';

export type PreviewStatus =
  | { state: 'queued'; sha: string; apps: string[] }
  | { state: 'in_progress'; sha: string; app: string; description: string }
  | { state: 'success'; sha: string; app: string; url: string | null; description: string; rollback?: string | null }
  | { state: 'failure'; sha: string; app: string; description: string; logTail?: string[] };

export function renderPreviewCheck(s: PreviewStatus): CheckRunOutput {
  switch (s.state) {
    case 'queued':
      return { status: 'queued', title: 'Preview requested', summary: `Deploying ${shortSha(s.sha)} (${s.apps.join(', ')}) to a preview environment.` };
    case 'in_progress':
      return { status: 'in_progress', title: `Deploying ${s.app}`, summary: fitText(`${s.description}\n\nCommit ${shortSha(s.sha)}.`) };
    case 'success':
      return {
        status: 'completed',
        conclusion: 'success',
        title: s.url ? `Preview ready: ${s.url}` : 'Preview ready',
        summary: fitText(`${s.url ? `**[Open the preview](${s.url})**\n\n` : ''}${s.app} runs ${shortSha(s.sha)}${s.rollback ? ` (${s.rollback})` : ''}. ${s.description}`),
        ...(s.url ? { detailsUrl: s.url } : {}),
      };
    case 'failure': {
      const logs = s.logTail?.length ? `\n\nLast lines of the runtime's log:\n\n\`\`\`\n${s.logTail.join('\n')}\n\`\`\`` : '';
      return { status: 'completed', conclusion: 'failure', title: `Preview failed: ${s.app}`, summary: fitText(`${s.description}${logs}`) };
    }
  }
}

export type PreviewRefusal =
  | { reason: 'disabled' }
  | { reason: 'draft' }
  | { reason: 'fork-needs-approval'; newCommit: boolean }
  | { reason: 'fork-never' }
  | { reason: 'fork-runtime'; apps: string[] }
  | { reason: 'invalid'; apps: string[] }
  | { reason: 'tenant-cap'; limit: number; plan?: string }
  | { reason: 'billing-past-due' }
  | { reason: 'repository-cap'; limit: number }
  | { reason: 'no-manifest' }
  | { reason: 'suspended' };

export function renderPreviewRefusal(r: PreviewRefusal): CheckRunOutput {
  const neutral = (title: string, summary: string, extra: Partial<CheckRunOutput> = {}): CheckRunOutput => ({
    status: 'completed',
    conclusion: 'neutral',
    title,
    summary,
    ...extra,
  });
  switch (r.reason) {
    case 'disabled':
      return neutral('Previews are off', 'This repository’s `wharf.yaml` sets `previews.enabled: false`.');
    case 'draft':
      return neutral('Draft: no preview', 'Draft pull requests get a preview when `previews.drafts: true` is set in `wharf.yaml`, or once marked ready for review.');
    case 'fork-needs-approval':
      return neutral(
        r.newCommit ? 'New commit from a fork: waiting for approval' : 'Fork: waiting for a maintainer',
        `This pull request comes from a fork, so it was validated and planned but not deployed${r.newCommit ? ' (an earlier approval covered an older commit)' : ''}. ` +
          `A maintainer (write access or more) can start a preview by commenting \`/wharf preview\` or adding the label \`${PREVIEW_LABEL}\`. ` +
          'Fork previews never receive secrets.',
        { actions: [{ label: 'Approve preview', description: 'Deploy this commit, without secrets', identifier: 'approve-preview' }] },
      );
    case 'fork-never':
      return neutral('Fork: no preview', 'This repository’s `wharf.yaml` sets `previews.forkPolicy: never`.');
    case 'fork-runtime':
      return neutral(
        'Fork changes how its app runs: no preview',
        `This pull request comes from a fork and changes the \`runtime\`, \`target\` or \`replicas\` of ${r.apps.map((a) => `\`${a}\``).join(', ')} in \`wharf.yaml\`. ` +
          'A fork’s preview runs its workflow files the way the base branch says, so this one is not previewed, approved or not. ' +
          'A maintainer can make that change on a branch of this repository.',
      );
    case 'invalid':
      return {
        status: 'completed',
        conclusion: 'failure',
        title: 'Not deployed: invalid version',
        summary: `The preview keeps its last good version: ${r.apps.join(', ')} ${r.apps.length === 1 ? 'is' : 'are'} invalid at this commit. See wharf/validate.`,
      };
    case 'tenant-cap':
      return neutral(
        `Preview limit reached (${r.limit})`,
        `${r.plan ? `The ${r.plan} plan runs` : 'This account may run'} ${r.limit} preview environment${r.limit === 1 ? '' : 's'} at once, and all are in use. ` +
          'Close or merge another pull request, then re-run this check.' +
          (r.plan ? ' For more previews at once, upgrade the plan: an owner or admin runs `wharf billing status` to see the plans, or `POST /api/v1/billing/checkout`. Production is never held by this limit.' : ''),
      );
    case 'billing-past-due':
      return neutral(
        'Previews paused: payment past due',
        "This account's payment is past due beyond its grace period, so previews are paused (their data is kept). Production keeps running. " +
          'An owner or admin pays the open invoice in the billing portal (`POST /api/v1/billing/portal`); previews resume at once.',
      );
    case 'repository-cap':
      return neutral(
        `Preview limit reached (${r.limit})`,
        `\`previews.maxConcurrent\` in \`wharf.yaml\` allows ${r.limit} preview${r.limit === 1 ? '' : 's'} at once for this repository. Close another pull request, then re-run this check.`,
      );
    case 'no-manifest':
      return neutral('No Wharf manifest', 'Nothing to preview: add a `wharf.yaml` (see wharf/validate).');
    case 'suspended':
      return neutral('Wharf is suspended for this account', 'The GitHub App installation is suspended; previews resume when it is unsuspended.');
  }
}
