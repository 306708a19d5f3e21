/** Prometheus metrics of the reconciler, registered on the registry passed in (never the global one). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ReconcilerMetrics {
  reconcileTotal: Counter<'result'>;
  reconcileDuration: Histogram<'result'>;
  environments: Gauge<'condition'>;
  queueDepth: Gauge;
  driftCorrections: Counter;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createReconcilerMetrics(registry: Registry): ReconcilerMetrics {
  const registers = [registry];
  return {
    reconcileTotal: reuse(registry, 'wharf_reconcile_total', () =>
      new Counter({ name: 'wharf_reconcile_total', help: 'Reconciles by result.', labelNames: ['result'] as const, registers }),
    ),
    reconcileDuration: reuse(registry, 'wharf_reconcile_duration_seconds', () =>
      new Histogram({
        name: 'wharf_reconcile_duration_seconds',
        help: 'Time from claim to outcome of one environment reconcile.',
        labelNames: ['result'] as const,
        buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers,
      }),
    ),
    environments: reuse(registry, 'wharf_environments', () =>
      new Gauge({
        name: 'wharf_environments',
        help: 'Environments by condition that is True (Ready, Progressing, Degraded, Stalled), plus Suspended and total.',
        labelNames: ['condition'] as const,
        registers,
      }),
    ),
    queueDepth: reuse(registry, 'wharf_queue_depth', () =>
      new Gauge({ name: 'wharf_queue_depth', help: 'Environments due and not yet claimed.', registers }),
    ),
    driftCorrections: reuse(registry, 'wharf_drift_corrections_total', () =>
      new Counter({ name: 'wharf_drift_corrections_total', help: 'Drift corrected (runtime died, wrong digest running).', registers }),
    ),
  };
}
