/** The wharf/plan check run: what production would change, per app (modules, routes, pipelines, ...). */
import type { ConfigChange } from '@wharf/contracts';
import type { CheckRunOutput } from '../reporter.js';
import { escapeCell, fitText, shortSha } from './limits.js';

export interface AppPlan {
  app: string;
  /** null: the app's version is invalid, nothing would be deployed. */
  changes: ConfigChange[] | null;
  /** The commit production runs for this app, null when nothing is deployed yet. */
  productionSha: string | null;
  /** Set when this version equals an earlier one: "rollback to <sha> (<subject>)". */
  rollback?: string | null;
}

const SYMBOL = { added: '+', removed: '-', changed: '~' } as const;

export function summarizeChanges(changes: readonly ConfigChange[] | null): string {
  if (changes === null) return 'not planned (invalid)';
  const meaningful = changes.filter((c) => c.kind !== 'file');
  if (meaningful.length === 0) return changes.length ? 'files changed, no config change' : 'no changes';
  const n = (k: ConfigChange['change']) => meaningful.filter((c) => c.change === k).length;
  return (['added', 'changed', 'removed'] as const)
    .filter((k) => n(k) > 0)
    .map((k) => `${n(k)} ${k}`)
    .join(', ');
}

export function renderPlanCheck(input: { sha: string; apps: readonly AppPlan[] }): CheckRunOutput {
  const sections = input.apps.map((a) => {
    const against = a.productionSha ? `production runs ${shortSha(a.productionSha)}` : 'nothing deployed to production yet';
    const head = `### ${a.app}: ${summarizeChanges(a.changes)}\n\nCompared with ${against}.${a.rollback ? ` This version is a **${a.rollback}**.` : ''}`;
    if (!a.changes || a.changes.length === 0) return head;
    const rows = a.changes
      .filter((c) => c.kind !== 'file')
      .map((c) => `| ${SYMBOL[c.change]} ${c.change} | ${c.kind} | \`${escapeCell(c.name)}\` |`);
    const files = a.changes.filter((c) => c.kind === 'file').map((c) => `${SYMBOL[c.change]} \`${c.name}\``);
    return `${head}\n\n${rows.length ? ['| Change | Kind | Name |', '| --- | --- | --- |', ...rows].join('\n') : ''}${files.length ? `\n\nFiles: ${files.join(', ')}` : ''}`;
  });
  const planned = input.apps.filter((a) => a.changes !== null);
  const changed = planned.filter((a) => (a.changes ?? []).some((c) => c.kind !== 'file'));
  return {
    status: 'completed',
    conclusion: planned.length === input.apps.length ? 'success' : 'neutral',
    title:
      input.apps.length === 0
        ? 'No apps'
        : changed.length === 0
          ? 'No changes to production'
          : `${changed.length} app${changed.length === 1 ? '' : 's'} would change in production`,
    summary: fitText(`Plan for ${shortSha(input.sha)} against production.\n\n${sections.join('\n\n')}`),
  };
}
