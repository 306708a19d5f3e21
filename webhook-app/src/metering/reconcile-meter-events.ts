/**
 * The daily reconciliation: for each customer and meter, Stripe's meter event summaries of one day, per hour, against
 * what Wharf sent for those hours. Every difference is logged (with both values) and counted in
 * `wharf_metering_reconcile_differences`; nothing is changed: a person decides (a missing hour may still be queued,
 * an extra one was sent by something else under Wharf's meter).
 */
import { meterEventNameOf, USAGE_METRIC_NAMES, type UsageMetric } from '@wharf/contracts';
import { metering } from '@wharf/store';
import type { MeteringDeps } from './deps.js';
import { activeMeters } from './stripe-meters.js';

export interface UsageDifference {
  tenantId: number;
  customerId: string;
  metric: UsageMetric;
  hour: string;
  /** What Wharf sent and Stripe accepted for the hour. */
  wharf: number;
  /** Queued for the hour but not (yet) accepted. */
  unsent: number;
  stripe: number;
}

export interface ReconcileResult {
  day: string;
  checked: number;
  differences: UsageDifference[];
}

const DAY_MS = 86_400_000;

/** Reconciles the UTC day that starts at `day` (an ISO date or time; the day it falls in). */
export async function reconcileMeterEvents(deps: MeteringDeps, day: string): Promise<ReconcileResult> {
  const start = Math.floor(new Date(day).getTime() / DAY_MS) * DAY_MS;
  const from = new Date(start).toISOString();
  const to = new Date(start + DAY_MS).toISOString();
  const result: ReconcileResult = { day: from.slice(0, 10), checked: 0, differences: [] };
  const stripe = deps.stripe;
  if (!stripe) return result;
  const meters = await activeMeters(stripe);
  const perMetric = new Map<UsageMetric, number>(USAGE_METRIC_NAMES.map((m) => [m, 0]));
  for (const customer of await deps.customers()) {
    for (const metric of USAGE_METRIC_NAMES) {
      const meter = meters.get(meterEventNameOf(metric));
      if (!meter) continue;
      const ours = await metering.sentPerHour(deps.pool, { tenantId: customer.tenantId }, { metric, from, to });
      const theirs = new Map<string, number>();
      for await (const s of stripe.billing.meters.listEventSummaries(meter.id, {
        customer: customer.customerId,
        start_time: start / 1000,
        end_time: (start + DAY_MS) / 1000,
        value_grouping_window: 'hour',
        limit: 100,
      })) {
        theirs.set(new Date(s.start_time * 1000).toISOString(), s.aggregated_value);
      }
      for (const hour of new Set([...ours.keys(), ...theirs.keys()])) {
        result.checked++;
        const wharf = ours.get(hour)?.sent ?? 0;
        const unsent = ours.get(hour)?.unsent ?? 0;
        const atStripe = theirs.get(hour) ?? 0;
        if (wharf === atStripe) continue;
        const difference = { tenantId: customer.tenantId, customerId: customer.customerId, metric, hour, wharf, unsent, stripe: atStripe };
        result.differences.push(difference);
        perMetric.set(metric, (perMetric.get(metric) ?? 0) + 1);
        deps.log.warn(difference, 'metered usage differs from stripe');
      }
    }
  }
  for (const [metric, n] of perMetric) deps.metrics.differences.set({ metric }, n);
  deps.log.info({ day: result.day, checked: result.checked, differences: result.differences.length }, 'meter events reconciled');
  return result;
}
