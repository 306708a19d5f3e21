/** Text of a plan, shared by `wharf diff` and the pull request's `wharf/plan` check. */
import type { ConfigChange } from './config-diff.js';
import type { Plan } from './plan.js';

const SIGN = { added: '+', removed: '-', changed: '~' } as const satisfies Record<ConfigChange['change'], string>;

export interface RenderPlanOptions {
  /** `environment` heading, e.g. `production of api`. */
  title?: string;
  markdown?: boolean;
}

export function renderPlan(p: Plan, options: RenderPlanOptions = {}): string {
  const lines: string[] = [];
  const md = options.markdown ?? false;
  if (options.title) lines.push(md ? `### ${options.title}` : options.title);
  for (const a of p.actions) lines.push(`${md ? '**' : ''}${a.type}${md ? '**' : ''} (${a.reason}): ${a.message}`);
  if (p.diff.changes.length === 0) {
    lines.push('no configuration changes');
    return lines.join('\n');
  }
  if (md) lines.push('', '```diff');
  for (const c of p.diff.changes) lines.push(`${SIGN[c.change]} ${c.kind} ${c.name}${c.change === 'changed' ? ' (changed)' : ''}`);
  if (md) lines.push('```');
  const count = (k: ConfigChange['change']) => p.diff.changes.filter((c) => c.change === k).length;
  lines.push(`${count('added')} to add, ${count('changed')} to change, ${count('removed')} to remove`);
  return lines.join('\n');
}
