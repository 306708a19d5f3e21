/**
 * The reference runtime's request counter (`wharf_runtime_http_requests_total{route,method,status}`, Prometheus text
 * format) summed into two numbers: every request answered, and those answered with a 5xx.
 */
export interface RequestCounters {
  requests: number;
  errors: number;
}

const LINE = /^wharf_runtime_http_requests_total(?:\{([^}]*)\})?\s+([0-9.eE+-]+)(?:\s+\d+)?$/;
const STATUS = /(?:^|,)\s*status="(\d{3})"/;

export function parseRequestCounters(text: string): RequestCounters | null {
  let found = false;
  let requests = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value < 0) continue;
    found = true;
    requests += value;
    const status = STATUS.exec(m[1] ?? '')?.[1];
    if (status && status.startsWith('5')) errors += value;
  }
  return found || /wharf_runtime_http_requests_total/.test(text) ? { requests, errors } : null;
}
