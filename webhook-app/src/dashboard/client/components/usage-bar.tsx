/** Usage against a limit as a bar (a <meter>-like figure with its numbers in words). */
import { number } from '../format.js';

export function UsageBar(props: { label: string; used: number | null; limit: number | null; unit?: string; note?: string }) {
  const { used, limit } = props;
  const share = used !== null && limit ? Math.min(1, used / limit) : 0;
  const over = used !== null && limit !== null && used > limit;
  const words =
    used === null ? 'not measured yet' : limit === null ? `${number(used, 1)}${props.unit ? ` ${props.unit}` : ''} (no limit)` : `${number(used, 1)} of ${number(limit)}${props.unit ? ` ${props.unit}` : ''}`;
  return (
    <div class="usage">
      <div class="usage-head">
        <span>{props.label}</span>
        <span class={over ? 'over' : 'muted'}>{words}</span>
      </div>
      <div
        class={`bar ${over ? 'bar-over' : share > 0.8 ? 'bar-high' : ''} ${used === null ? 'bar-unknown' : ''}`}
        {...(used === null
          ? { role: 'img', 'aria-label': `${props.label}: ${words}` }
          : { role: 'meter', 'aria-label': props.label, 'aria-valuemin': 0, 'aria-valuemax': limit ?? Math.max(used, 1), 'aria-valuenow': used, 'aria-valuetext': words })}
      >
        <span style={{ width: `${(limit === null ? (used ? 1 : 0) : share) * 100}%` }} />
      </div>
      {props.note ? <p class="small muted">{props.note}</p> : null}
    </div>
  );
}

/** Rollouts per day over the billing period, as columns. */
export function DailyColumns(props: { days: { day: string; rollouts: number; failed: number }[]; start: string; end: string }) {
  const start = Date.parse(props.start);
  const count = Math.max(1, Math.round((Date.parse(props.end) - start) / 86_400_000));
  const byDay = new Map(props.days.map((d) => [d.day, d]));
  const cells = Array.from({ length: count }, (_, i) => {
    const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    return byDay.get(day) ?? { day, rollouts: 0, failed: 0 };
  });
  const max = Math.max(1, ...cells.map((c) => c.rollouts));
  const w = 600;
  const colW = w / count;
  const total = cells.reduce((n, c) => n + c.rollouts, 0);
  return (
    <figure class="columns">
      <svg viewBox={`0 0 ${w} 80`} preserveAspectRatio="none" role="img" aria-label={`Rollouts per day this period: ${total} in all, at most ${max} on one day`}>
        {cells.map((c, i) => {
          const h = (c.rollouts / max) * 76;
          const hf = (c.failed / max) * 76;
          return (
            <g key={c.day}>
              <rect x={i * colW + 1} y={80 - h} width={Math.max(1, colW - 2)} height={h} class="col-ok">
                <title>{`${c.day}: ${c.rollouts} rollouts, ${c.failed} failed`}</title>
              </rect>
              {hf > 0 ? <rect x={i * colW + 1} y={80 - hf} width={Math.max(1, colW - 2)} height={hf} class="col-failed" /> : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="small muted">Rollouts per day, {props.start.slice(0, 10)} to {props.end.slice(0, 10)} (failed ones in red).</figcaption>
    </figure>
  );
}
