/** A small line chart of request rate (and error rate, in red) with a text summary for screen readers. */
import { number } from '../format.js';

export interface SparkPoint {
  at: string;
  requests: number;
  errors: number;
}

function path(values: number[], max: number, width: number, height: number): string {
  if (values.length === 0) return '';
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(height - 2 - (max > 0 ? (v / max) * (height - 4) : 0)).toFixed(1)}`).join(' ');
}

export function Sparkline(props: { points: SparkPoint[]; width?: number; height?: number; label: string }) {
  const width = props.width ?? 240;
  const height = props.height ?? 48;
  const reqs = props.points.map((p) => p.requests);
  const errs = props.points.map((p) => p.errors);
  const max = Math.max(0.001, ...reqs, ...errs);
  const last = props.points[props.points.length - 1];
  const errorShare = last && last.requests > 0 ? (last.errors / last.requests) * 100 : 0;
  const summary = last
    ? `${number(last.requests, 2)} requests/s, ${number(last.errors, 2)} errors/s (${number(errorShare, 1)}% errors) now; peak ${number(Math.max(...reqs), 2)} requests/s over ${props.points.length} samples`
    : 'no samples yet';
  return (
    <figure class="sparkline">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.label}: ${summary}`}>
        <line x1="0" y1={height - 1} x2={width} y2={height - 1} class="axis" />
        <path d={path(reqs, max, width, height)} class="line-requests" fill="none" />
        <path d={path(errs, max, width, height)} class="line-errors" fill="none" />
      </svg>
      <figcaption class="small">
        <span class="key key-requests" aria-hidden="true" /> requests/s <span class="key key-errors" aria-hidden="true" /> errors/s — {summary}
      </figcaption>
    </figure>
  );
}
