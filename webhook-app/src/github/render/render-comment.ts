/** The one pull-request comment, edited in place: apps with preview URL, version, status and plan summary. */
import { COMMENT_MARKER } from '../types.js';
import { escapeCell, fitText, shortSha } from './limits.js';

export interface SummaryApp {
  app: string;
  valid: boolean;
  errors: number;
  warnings: number;
  plan: string;
  rollback?: string | null;
}

/** What the last evaluation of the pull request found; stored with the pull request. */
export interface PullRequestSummary {
  sha: string;
  apps: SummaryApp[];
  noManifest?: boolean;
  /** Title of the wharf/preview refusal, when the commit was not deployed. */
  previewRefusal?: string | null;
  ttlHours?: number;
  commentsEnabled: boolean;
}

export interface CommentDeployment {
  app: string;
  state: string | null;
  url: string | null;
  sha: string;
  description: string | null;
}

export interface CommentInput {
  state: 'open' | 'closed' | 'merged';
  teardownReason?: string | null;
  summary: PullRequestSummary;
  previews: CommentDeployment[];
  production?: { sha: string; state: string | null; url: string | null; description: string | null } | null;
}

const STATE_TEXT: Record<string, string> = {
  queued: '⏳ Queued',
  pending: '⏳ Queued',
  in_progress: '🔄 Deploying',
  success: '✅ Ready',
  failure: '❌ Failed',
  error: '❌ Error',
  inactive: '💤 Torn down',
};

export function renderComment(c: CommentInput): string {
  const s = c.summary;
  const lines = [COMMENT_MARKER, '### Wharf', ''];
  if (s.noManifest) {
    lines.push(`No \`wharf.yaml\` at ${shortSha(s.sha)}: nothing to deploy. See the **wharf/validate** check for how to add one.`);
    return lines.join('\n');
  }
  lines.push('| App | Preview | Version | Status | Plan |', '| --- | --- | --- | --- | --- |');
  for (const app of s.apps) {
    const d = c.previews.find((p) => p.app === app.app);
    const closed = c.state !== 'open' || Boolean(c.teardownReason);
    const preview = d?.url && d.state === 'success' && !closed ? `[Visit preview](${d.url})` : '—';
    let status: string;
    if (!app.valid) status = `❌ Invalid (${app.errors} error${app.errors === 1 ? '' : 's'})`;
    else if (closed) status = STATE_TEXT.inactive ?? '';
    else if (d?.state) status = STATE_TEXT[d.state] ?? d.state;
    else status = s.previewRefusal ? `⏸ ${s.previewRefusal}` : '⏳ Queued';
    const version = `\`${shortSha(d?.sha ?? s.sha)}\`${app.rollback ? ` (${app.rollback})` : ''}`;
    lines.push(`| ${escapeCell(app.app)} | ${preview} | ${version} | ${escapeCell(status)} | ${escapeCell(app.plan)} |`);
  }
  const failing = c.previews.filter((p) => (p.state === 'failure' || p.state === 'error') && p.description);
  for (const f of failing) lines.push('', `**${f.app}**: ${f.description}`);
  if (c.state !== 'open' || c.teardownReason) {
    lines.push('', `Preview torn down${c.teardownReason ? ` (${c.teardownReason})` : ''}.`);
  }
  if (c.production) {
    const p = c.production;
    lines.push(
      '',
      `**Production**: ${STATE_TEXT[p.state ?? ''] ?? 'queued'} at \`${shortSha(p.sha)}\`${p.description ? ` — ${p.description}` : ''}${p.url && p.state === 'success' ? ` ([open](${p.url}))` : ''}`,
    );
  }
  lines.push('', '<sub>Commands: `/wharf preview`, `/wharf redeploy`, `/wharf rollback <sha>`, `/wharf help`.</sub>');
  return fitText(lines.join('\n'));
}
