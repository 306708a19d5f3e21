import { Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics for one runtime: requests by route and status, step durations. */
export function createMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'wharf_runtime_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const steps = new Histogram({
    name: 'wharf_runtime_step_duration_seconds',
    help: 'Pipeline step run time',
    labelNames: ['pipeline', 'step', 'type'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  return {
    registry,
    request(route: string, method: string, status: number) {
      requests.labels(route, method, String(status)).inc();
    },
    step(pipeline: string, step: string, type: string, seconds: number) {
      steps.labels(pipeline, step, type).observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
