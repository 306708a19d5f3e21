/**
 * Prometheus metrics for one runtime: requests by route and status, step durations.
 * A small text-format registry of our own: prom-client costs more start time than the runtime's whole pipeline build.
 */
type Labels = readonly string[];

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (names: Labels, values: Labels, extra = '') => {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
  if (extra) parts.unshift(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
};

const BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] as const;

export function createMetrics() {
  const requestNames = ['route', 'method', 'status'] as const;
  const stepNames = ['pipeline', 'step', 'type'] as const;
  const requests = new Map<string, { labels: string[]; value: number }>();
  const steps = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();
  return {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    request(route: string, method: string, status: number) {
      const key = `${route}\0${method}\0${status}`;
      const entry = requests.get(key);
      if (entry) entry.value++;
      else requests.set(key, { labels: [route, method, String(status)], value: 1 });
    },
    step(pipeline: string, step: string, type: string, seconds: number) {
      const key = `${pipeline}\0${step}\0${type}`;
      let entry = steps.get(key);
      if (!entry) {
        entry = { labels: [pipeline, step, type], counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
        steps.set(key, entry);
      }
      for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) entry.counts[i]++;
      entry.sum += seconds;
      entry.count++;
    },
    render(): string {
      const lines = [
        '# HELP wharf_runtime_http_requests_total HTTP requests answered, by route pattern, method and status',
        '# TYPE wharf_runtime_http_requests_total counter',
      ];
      for (const r of requests.values()) lines.push(`wharf_runtime_http_requests_total${labelText(requestNames, r.labels)} ${r.value}`);
      lines.push('# HELP wharf_runtime_step_duration_seconds Pipeline step run time', '# TYPE wharf_runtime_step_duration_seconds histogram');
      for (const s of steps.values()) {
        for (const [i, b] of BUCKETS.entries()) lines.push(`wharf_runtime_step_duration_seconds_bucket${labelText(stepNames, s.labels, `le="${b}"`)} ${s.counts[i]}`);
        lines.push(`wharf_runtime_step_duration_seconds_bucket${labelText(stepNames, s.labels, 'le="+Inf"')} ${s.count}`);
        lines.push(`wharf_runtime_step_duration_seconds_sum${labelText(stepNames, s.labels)} ${s.sum}`);
        lines.push(`wharf_runtime_step_duration_seconds_count${labelText(stepNames, s.labels)} ${s.count}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
