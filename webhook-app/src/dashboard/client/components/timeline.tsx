/**
 * Rollouts of an environment on a time axis: deploys (blue), rollbacks (purple), failures (red), in progress
 * (pulsing). Each mark is a focusable link into the history list below it, with its words as the CLI says them.
 */
import { ago, shortSha } from '../format.js';
import type { Rollout } from '../types.js';

export function kindOf(r: Rollout): 'failed' | 'rollback' | 'progress' | 'deploy' | 'other' {
  if (r.result === 'failed') return 'failed';
  if (r.result === 'in_progress') return 'progress';
  if (r.rollbackSha) return 'rollback';
  if (r.action === 'deploy' || r.action === 'update' || r.action === 'create') return 'deploy';
  return 'other';
}

export function Timeline(props: { rollouts: Rollout[]; now?: number }) {
  const list = [...props.rollouts].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt)).slice(-40);
  if (list.length === 0) return <p class="muted">No rollouts yet.</p>;
  const width = 600;
  const first = Date.parse(list[0]!.startedAt);
  const last = Math.max(props.now ?? Date.now(), first + 1);
  const x = (iso: string) => 12 + ((Date.parse(iso) - first) / (last - first)) * (width - 24);
  return (
    <figure class="timeline">
      <svg viewBox={`0 0 ${width} 44`} preserveAspectRatio="none" role="group" aria-label={`Rollout timeline: ${list.length} rollouts since ${ago(list[0]!.startedAt)}`}>
        <line x1="6" y1="22" x2={width - 6} y2="22" class="axis" />
        {list.map((r) => (
          <a href={`#rollout-${r.id}`} key={r.id} aria-label={`${r.description}, ${r.result.replace('_', ' ')}, ${ago(r.startedAt)}`}>
            <circle cx={x(r.startedAt)} cy="22" r="7" class={`mark mark-${kindOf(r)}`}>
              <title>{`${r.description} — ${r.result.replace('_', ' ')} ${ago(r.startedAt)}`}</title>
            </circle>
          </a>
        ))}
      </svg>
      <figcaption class="small legend">
        <span class="key mark-deploy" aria-hidden="true" /> deploy <span class="key mark-rollback" aria-hidden="true" /> rollback{' '}
        <span class="key mark-failed" aria-hidden="true" /> failed <span class="key mark-progress" aria-hidden="true" /> in progress — latest:{' '}
        {list[list.length - 1]!.description} ({shortSha(list[list.length - 1]!.sha)})
      </figcaption>
    </figure>
  );
}
