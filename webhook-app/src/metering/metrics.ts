/** Prometheus metrics of usage metering, registered on the unit's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createMeteringMetrics(registry: Registry) {
  return {
    aggregateSeconds: new Histogram({
      name: 'wharf_metering_aggregate_seconds',
      help: 'Time to aggregate one batch of hours of usage',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    meterEvents: new Counter({
      name: 'wharf_metering_meter_events_total',
      help: 'Meter events sent to Stripe, by outcome (sent, already_sent, retried, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    pending: new Gauge({ name: 'wharf_metering_meter_events_pending', help: 'Meter events queued and not yet accepted by Stripe', registers: [registry] }),
    failed: new Gauge({ name: 'wharf_metering_meter_events_failed', help: 'Meter events Stripe refused for good (they need a person)', registers: [registry] }),
    differences: new Gauge({
      name: 'wharf_metering_reconcile_differences',
      help: "Hours of the last reconciled day where Stripe's meter event summary differs from what Wharf sent, by metric",
      labelNames: ['metric'] as const,
      registers: [registry],
    }),
  };
}
export type MeteringMetrics = ReturnType<typeof createMeteringMetrics>;
