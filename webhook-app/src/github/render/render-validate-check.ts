/** The wharf/validate check run: diagnostics as annotations at file and line, a summary table per app. */
import type { Diagnostic } from '@wharf/contracts';
import type { Annotation, CheckRunOutput } from '../reporter.js';
import { escapeCell, fitText, shortSha } from './limits.js';

export interface AppValidation {
  app: string;
  valid: boolean;
  diagnostics: readonly Diagnostic[];
}

const LEVEL = { error: 'failure', warning: 'warning', info: 'notice' } as const;

export function toAnnotation(d: Diagnostic): Annotation {
  const startLine = Math.max(1, d.line || 1);
  const endLine = Math.max(startLine, d.endLine || startLine);
  return {
    path: d.file,
    start_line: startLine,
    end_line: endLine,
    // GitHub accepts columns only on single-line annotations.
    ...(startLine === endLine && d.column > 0 ? { start_column: d.column, end_column: Math.max(d.column, d.endColumn || d.column) } : {}),
    annotation_level: LEVEL[d.severity],
    title: d.code,
    message: d.message,
  };
}

const count = (ds: readonly Diagnostic[], s: Diagnostic['severity']) => ds.filter((d) => d.severity === s).length;

export function renderValidateCheck(input: { sha: string; manifestDiagnostics: readonly Diagnostic[]; apps: readonly AppValidation[] }): CheckRunOutput {
  const all = [...input.manifestDiagnostics, ...input.apps.flatMap((a) => a.diagnostics)];
  const errors = count(all, 'error');
  const warnings = count(all, 'warning');
  const rows = input.apps.map(
    (a) => `| ${escapeCell(a.app)} | ${a.valid ? '✅ valid' : '❌ invalid'} | ${count(a.diagnostics, 'error')} | ${count(a.diagnostics, 'warning')} |`,
  );
  const manifestRow = input.manifestDiagnostics.length
    ? [`| wharf.yaml | ${count(input.manifestDiagnostics, 'error') ? '❌ invalid' : '✅ valid'} | ${count(input.manifestDiagnostics, 'error')} | ${count(input.manifestDiagnostics, 'warning')} |`]
    : [];
  const table = ['| App | Result | Errors | Warnings |', '| --- | --- | --- | --- |', ...manifestRow, ...rows].join('\n');
  const list = all.map((d) => `- \`${d.file}:${d.line}:${d.column}\` **${d.severity}** ${d.message} (${d.code})`).join('\n');
  const summary = fitText(
    `Validated ${input.apps.length} app${input.apps.length === 1 ? '' : 's'} at ${shortSha(input.sha)}.\n\n${table}${all.length ? `\n\n${list}` : ''}`,
  );
  return {
    status: 'completed',
    conclusion: errors > 0 ? 'failure' : 'success',
    title: errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}` : warnings ? `Valid, ${warnings} warning${warnings === 1 ? '' : 's'}` : 'Valid',
    summary,
    annotations: all.map(toAnnotation),
  };
}

export function renderNoManifestCheck(sha: string): CheckRunOutput {
  return {
    status: 'completed',
    conclusion: 'neutral',
    title: 'No Wharf manifest',
    summary: fitText(
      `Commit ${shortSha(sha)} has no \`wharf.yaml\` (and no \`workflow.yaml\` or \`app.yaml\` at the root), so there is nothing to validate or deploy.\n\n` +
        'To add one, commit a `wharf.yaml` at the repository root:\n\n```yaml\napps:\n  - name: my-app\n    files: [workflow.yaml]\n```\n\n' +
        'See docs/github-app.md for every field.',
    ),
  };
}

export function renderUnreadableCheck(sha: string, reason: string): CheckRunOutput {
  return {
    status: 'completed',
    conclusion: 'neutral',
    title: 'Commit could not be read',
    summary: fitText(`Wharf could not read commit ${shortSha(sha)}: ${reason}\n\nRe-run this check to try again.`),
  };
}

/** A commit Wharf refused to fetch (a pack or ref list over a fetch limit): nothing was read or deployed. */
export function renderRefusedCheck(sha: string, reason: string): CheckRunOutput {
  return {
    status: 'completed',
    conclusion: 'failure',
    title: 'Commit refused: over a fetch limit',
    summary: fitText(
      `Wharf refused to fetch commit ${shortSha(sha)}: ${reason}\n\nNothing was read, validated or deployed; every environment stays on its last good version. ` +
        'Make the push smaller (large files belong outside the repository), or ask the operator to raise `WHARF_GIT_MAX_PACK_BYTES`, then push again.',
    ),
  };
}
